import type { Server } from 'node:http';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ResourceInUseException,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import kinesalite from 'kinesalite';
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

/** Starts kinesalite in this process, in memory, on a free loopback port. */
export const startKinesalite = async (): Promise<KinesisLocal> => {
  const port = await freePort();
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localKinesisClient(endpoint);
  return {
    endpoint,
    client,
    stop: () =>
      new Promise((resolve) => {
        client.destroy();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
};

/** The Kinesis streams that serverless.yml declares, by logical id: name and shard count. */
export const kinesisStreams = (config: ServerlessConfig): Map<string, { name: string; shards: number }> =>
  new Map(
    Object.entries(config.resources?.Resources ?? {})
      .filter(([, r]) => r.Type === 'AWS::Kinesis::Stream')
      .map(([logicalId, r]) => [
        logicalId,
        { name: String(r.Properties?.Name), shards: Number(r.Properties?.ShardCount ?? 1) },
      ]),
  );

/** The stream a CloudFormation `!GetAtt X.Arn` points at. */
export const streamOfArn = (config: ServerlessConfig, arn: unknown): { name: string; shards: number } | undefined => {
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
