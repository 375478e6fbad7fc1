import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  ResourceInUseException,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
// Before kinesalite, which loads memdown.
import './memdownTicks.js';
import kinesalite from 'kinesalite';
import './kinesaliteSequences.js';
import { freePort, localClientConfig } from './dynamoLocal.js';
import type { ServerlessConfig } from './serverlessConfig.js';

export type KinesisLocal = { endpoint: string; client: KinesisClient; stop(): Promise<void> };

/** A Kinesis client for the local stand-in: kinesalite speaks HTTP/1 only. */
export const localKinesisClient = (endpoint: string): KinesisClient =>
  new KinesisClient({
    endpoint,
    ...localClientConfig,
    requestHandler: new NodeHttpHandler(),
  });

/**
 * Kinesalite answers any origin's cross-origin request (`Access-Control-Allow-Origin: *`), so any web page open on
 * this machine could read the change stream, payment tokens included, or put forged changes on it. Only this
 * process's clients reach it: a request with an `Origin` (a browser's) or naming a host other than loopback (DNS
 * rebinding) is refused before kinesalite sees it.
 */
const onlyLocalClients = (server: Server): void => {
  const handlers = server.listeners('request') as ((request: IncomingMessage, response: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const host = (request.headers.host ?? '').replace(/:\d+$/, '');
    if (request.headers.origin !== undefined || (host !== '127.0.0.1' && host !== 'localhost')) {
      response.writeHead(403, { 'content-type': 'text/plain' }).end("Only the local stack's own clients reach this.");
      return;
    }
    for (const handler of handlers) handler.call(server, request, response);
  });
};

/**
 * Starts kinesalite in this process on a free loopback port: in memory, or with `path`, kept on disk there
 * (LevelDB), so the stream's records and sequence numbers survive a restart as they do on AWS.
 */
export const startKinesalite = async ({ path }: { path?: string } = {}): Promise<KinesisLocal> => {
  if (path) await mkdir(path, { recursive: true });
  const port = await freePort();
  const server = kinesalite({
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 100,
    ...(path ? { path } : {}),
  }) as Server;
  onlyLocalClients(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localKinesisClient(endpoint);
  return {
    endpoint,
    client,
    // Closing the server closes its database too, so the next start can open the folder again.
    stop: () =>
      new Promise((resolve) => {
        client.destroy();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
};

type KinesisStream = { name: string; shards: number; retentionHours: number };

/** The Kinesis streams that serverless.yml declares, by logical id: name, shard count and retention. */
export const kinesisStreams = (config: ServerlessConfig): Map<string, KinesisStream> =>
  new Map(
    Object.entries(config.resources?.Resources ?? {})
      .filter(([, r]) => r.Type === 'AWS::Kinesis::Stream')
      .map(([logicalId, r]) => [
        logicalId,
        {
          name: String(r.Properties?.Name),
          shards: Number(r.Properties?.ShardCount ?? 1),
          retentionHours: Number(r.Properties?.RetentionPeriodHours ?? 24),
        },
      ]),
  );

/** The stream a CloudFormation `!GetAtt X.Arn` points at. */
export const streamOfArn = (config: ServerlessConfig, arn: unknown): KinesisStream | undefined => {
  const logicalId = (arn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
  return logicalId ? kinesisStreams(config).get(logicalId) : undefined;
};

export const createStreams = async (config: ServerlessConfig, client: KinesisClient): Promise<string[]> => {
  const names: string[] = [];
  for (const { name, shards } of kinesisStreams(config).values()) {
    try {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    for (;;) {
      const { StreamDescriptionSummary } = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
      if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    names.push(name);
  }
  return names;
};

/**
 * Deletes from kinesalite's store the records past each stream's retention. Kinesalite drops them only when a read
 * crosses them, and the local consumers resume after their checkpoints, so a kept stack's folder held every record it
 * ever took (about 4 KB an order, a soak measured). Reads each shard from its oldest record until a page holds one
 * still within the retention, `pageSize` at a time, at most `maxPages` pages a shard: what is left, the next trim
 * takes. Answers how many pages it read. Nothing a consumer can read goes: kinesalite already hides expired records.
 */
export const trimExpiredRecords = async (
  client: KinesisClient,
  streams: string[],
  { pageSize = 1_000, maxPages = 200 }: { pageSize?: number; maxPages?: number } = {},
): Promise<number> => {
  let pages = 0;
  for (const StreamName of streams) {
    const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName }));
    for (const { ShardId } of Shards) {
      let { ShardIterator } = await client.send(
        new GetShardIteratorCommand({ StreamName, ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      for (let page = 0; ShardIterator && page < maxPages; page++) {
        const { Records = [], NextShardIterator } = await client.send(
          new GetRecordsCommand({ ShardIterator, Limit: pageSize }),
        );
        pages += 1;
        // A record within the retention: everything after it is too.
        if (Records.length > 0) break;
        ShardIterator = NextShardIterator;
      }
    }
  }
  return pages;
};
