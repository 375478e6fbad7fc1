import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { leastReadUnits, refusedWriteUnits, transactWriteUnits } from './capacity.js';

/** What the handlers asked of AWS, counted the way AWS bills it. */
export type Usage = {
  /** By operation: requests, and the capacity units DynamoDB reports (`ReturnConsumedCapacity: INDEXES`). */
  dynamodb: Record<string, { requests: number; readUnits: number; writeUnits: number }>;
  /**
   * The same requests by operation and table (`Query events`): a request that spans tables counts once under each,
   * with the units DynamoDB charged that table.
   */
  dynamodbByTable: Record<string, { requests: number; readUnits: number; writeUnits: number }>;
  /** Of those, the writes DynamoDB refused on their condition, which it bills all the same: by operation and table. */
  refused: Record<string, { requests: number; writeUnits: number }>;
  /** Step Functions API requests by action. */
  stepFunctions: Record<string, number>;
  /**
   * Records put on the change stream, their bytes and PUT payload units (25 KiB each, rounded up per record), and the
   * change data capture units DynamoDB bills for them (1 KB of each item written, rounded up).
   */
  kinesis: { records: number; bytes: number; payloadUnits: number; changeUnits: number };
  /** The same records by the kind of stream that appended them (`order`, `payment`, `product`): one per append. */
  appends: Record<string, number>;
  /** By function: invocations, and the sums of their durations and of the CPU time this process spent meanwhile. */
  lambda: Record<string, { invocations: number; durationMs: number; cpuMs: number }>;
};

export type Meter = {
  /** Endpoints to give the handlers instead of the stand-ins' own. */
  endpoints: { dynamodb: string; sfn: string };
  usage(): Usage;
  reset(): void;
  /**
   * A record put on the change stream: its bytes, the bytes of the item it carries by DynamoDB's rules, and the
   * stream the item belongs to.
   */
  recordChange(bytes: number, itemBytes: number, streamId?: string): void;
  recordInvocation(functionName: string, durationMs: number, cpuMs: number): void;
  stop(): Promise<void>;
};

const readOperations = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const dataOperations = new Set([
  ...readOperations,
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);
const payloadUnit = 25 * 1024;

const body = (stream: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });

const operationOf = (request: IncomingMessage) =>
  String(request.headers['x-amz-target'] ?? '')
    .split('.')
    .at(-1) ?? '';

/**
 * A loopback proxy in front of one stand-in: forwards every request as is (or as `rewrite` makes it) and shows
 * `observe` each exchange. Stand-ins check no signatures, so a rewritten body still passes.
 */
const startProxy = async (
  target: string,
  exchange: (
    operation: string,
    request: Buffer,
  ) => { forward: Buffer; observe?: (response: Buffer, status: number) => void },
) => {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    void (async () => {
      const { forward, observe } = exchange(operationOf(incoming), await body(incoming));
      const headers = { ...incoming.headers, 'content-length': String(forward.length), host: upstream.host };
      const proxied = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers, agent },
        (answer) => {
          void body(answer).then((payload) => {
            observe?.(payload, answer.statusCode ?? 500);
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            outgoing.end(payload);
          });
        },
      );
      proxied.on('error', () => outgoing.destroy());
      proxied.end(forward);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

type Consumed = { CapacityUnits?: number; TableName?: string };

/** The units charged, to one table or (without `table`) in all. */
const unitsOf = (consumed: Consumed[], table?: string) =>
  consumed
    .filter((c) => table === undefined || c.TableName === table)
    .reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);

/** The tables a request names: its own, or its items' (transactions, batches), without the stage's prefix. */
const tablesOf = (input: Record<string, unknown>): string[] => {
  const named = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'TableName' && typeof inner === 'string') named.add(inner);
        else if (key === 'RequestItems' && inner && typeof inner === 'object')
          Object.keys(inner).forEach((t) => named.add(t));
        else if (key !== 'Item' && key !== 'Key' && key !== 'ExpressionAttributeValues') visit(inner);
      }
    }
  };
  visit(input);
  return [...named];
};
const shortName = (table: string) => table.split('-').at(-1) ?? table;

/**
 * Local only, for `npm run bench` and `npm run cost`: counts what the handlers ask of DynamoDB and Step Functions
 * (through proxies in front of the stand-ins), the records the change stream carries and the Lambda invocations.
 */
export const startMeter = async (targets: { dynamodb: string; sfn: string }): Promise<Meter> => {
  let usage: Usage;
  const reset = () => {
    usage = {
      dynamodb: {},
      dynamodbByTable: {},
      refused: {},
      stepFunctions: {},
      kinesis: { records: 0, bytes: 0, payloadUnits: 0, changeUnits: 0 },
      appends: {},
      lambda: {},
    };
  };
  reset();

  const dynamodb = await startProxy(targets.dynamodb, (operation, request) => {
    if (!dataOperations.has(operation)) return { forward: request };
    const input = JSON.parse(request.toString('utf8')) as Record<string, unknown>;
    // Ask for the units whatever the caller asked: INDEXES includes what the GSIs cost.
    const forward = Buffer.from(JSON.stringify({ ...input, ReturnConsumedCapacity: 'INDEXES' }));
    return {
      forward,
      observe: (response, status) => {
        let answer: {
          ConsumedCapacity?: Consumed | Consumed[];
          __type?: string;
          CancellationReasons?: { Code?: string }[];
        } & Record<string, unknown>;
        try {
          answer = JSON.parse(response.toString('utf8') || '{}') as typeof answer;
        } catch {
          return; // not DynamoDB's answer (the stand-in failed): nothing billed
        }
        let consumed: Consumed[];
        if (status >= 300) {
          // A write refused on its condition is billed all the same (local/capacity.ts); other errors, and a
          // transaction cancelled for another reason (a conflict), are counted as not billed.
          const type = answer.__type ?? '';
          const onCondition =
            /ConditionalCheckFailed/.test(type) ||
            (/TransactionCanceled/.test(type) &&
              (answer.CancellationReasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed'));
          if (!onCondition) return;
          consumed = [...refusedWriteUnits(operation, input)].map(([TableName, CapacityUnits]) => ({
            TableName,
            CapacityUnits,
          }));
          for (const table of tablesOf(input)) {
            const refused = (usage.refused[`${operation} ${shortName(table)}`] ??= { requests: 0, writeUnits: 0 });
            refused.requests += 1;
            refused.writeUnits += unitsOf(consumed, table);
          }
        } else {
          // What DynamoDB bills at least, by table, where DynamoDB Local reports less (local/capacity.ts): a
          // transaction per action, where the stand-in reports one charge per table; reads of keys not found and
          // queries that find nothing, which it reports as free. The larger of the two, so what it saw still counts.
          const least =
            operation === 'TransactWriteItems' ? transactWriteUnits(input) : leastReadUnits(operation, input, answer);
          const reported = [answer.ConsumedCapacity ?? []].flat();
          const tables = new Set([...least.keys(), ...reported.flatMap((c) => (c.TableName ? [c.TableName] : []))]);
          consumed = [...tables].map((TableName) => ({
            TableName,
            CapacityUnits: Math.max(unitsOf(reported, TableName), least.get(TableName) ?? 0),
          }));
        }
        const units = unitsOf(consumed);
        const count = (counted: { requests: number; readUnits: number; writeUnits: number }, charged: number) => {
          counted.requests += 1;
          if (readOperations.has(operation)) counted.readUnits += charged;
          else counted.writeUnits += charged;
        };
        count((usage.dynamodb[operation] ??= { requests: 0, readUnits: 0, writeUnits: 0 }), units);
        for (const table of tablesOf(input)) {
          const charged = unitsOf(consumed, table);
          count(
            (usage.dynamodbByTable[`${operation} ${shortName(table)}`] ??= {
              requests: 0,
              readUnits: 0,
              writeUnits: 0,
            }),
            charged,
          );
        }
      },
    };
  });
  const sfn = await startProxy(targets.sfn, (operation, request) => ({
    forward: request,
    observe: (_, status) => {
      if (status < 300) usage.stepFunctions[operation] = (usage.stepFunctions[operation] ?? 0) + 1;
    },
  }));

  return {
    endpoints: { dynamodb: dynamodb.endpoint, sfn: sfn.endpoint },
    usage: () => structuredClone(usage),
    reset,
    recordChange(bytes, itemBytes, streamId) {
      if (streamId !== undefined) {
        const kind = streamId.split('-')[0] ?? streamId;
        usage.appends[kind] = (usage.appends[kind] ?? 0) + 1;
      }
      usage.kinesis.records += 1;
      usage.kinesis.bytes += bytes;
      usage.kinesis.payloadUnits += Math.max(1, Math.ceil(bytes / payloadUnit));
      usage.kinesis.changeUnits += Math.max(1, Math.ceil(itemBytes / 1024));
    },
    recordInvocation(functionName, durationMs, cpuMs) {
      const counted = (usage.lambda[functionName] ??= { invocations: 0, durationMs: 0, cpuMs: 0 });
      counted.invocations += 1;
      counted.durationMs += durationMs;
      counted.cpuMs += cpuMs;
    },
    stop: async () => {
      await dynamodb.stop();
      await sfn.stop();
    },
  };
};
