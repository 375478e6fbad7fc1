declare module 'kinesalite' {
  import type { Server } from 'node:http';

  type Options = {
    createStreamMs?: number;
    deleteStreamMs?: number;
    updateStreamMs?: number;
    shardLimit?: number;
    path?: string;
    ssl?: boolean;
  };
  /** kinesalite's one export: an HTTP server speaking the Kinesis protocol. */
  export default function kinesalite(options?: Options): Server;
}
