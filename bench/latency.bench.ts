import { randomUUID } from 'node:crypto';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { placeOrder } from '../application/orders.js';
import { registerProduct } from '../application/products.js';
import { startLocalStack } from '../local/stack.js';
import { stageClients } from '../ops/stage.js';
import { printTable, stats } from './lib.js';
import { startProgress } from './progress.js';
import { stackOutput } from './stackOutput.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Light load on the whole local stack (one order every 100 ms): the time from the append's commit until the order's
 * read model answers, against the time until the change is on the Kinesis stream (the relay alone). While it runs it
 * prints a progress line; the stack's and the functions' lines go to .local/logs/bench-latency.jsonl, and print too
 * with `verbose`.
 */
export const latencyBench = async ({ orders = 100, verbose = false } = {}) => {
  const stage = 'bench';
  const output = await stackOutput({ stage, command: 'latency', verbose });
  // An order is settled here once the orders read model answers for it.
  const progress = startProgress({ label: 'latency', total: orders, ...(verbose ? { inPlace: false } : {}) });
  progress.note('starting the local stack');
  const stack = await startLocalStack({ stage, log: output.log }).catch(async (error: unknown) => {
    progress.done();
    await output.stop();
    throw error;
  });
  try {
    progress.note();
    const clients = await stageClients('bench', { dynamoEndpoint: stack.dynamo.endpoint });
    const metadata = () => ({
      correlationId: randomUUID(),
      causationId: randomUUID(),
      commandId: randomUUID(),
      actor: 'bench',
    });
    const sku = `LAT-${randomUUID().slice(0, 6).toUpperCase()}`;
    await registerProduct(
      { sku, name: sku, price: { amount: 100, currency: 'EUR' }, stock: 1_000_000 },
      { store: clients.store, metadata: metadata() },
    );
    const streamName = String(stack.config.resources?.Resources?.ChangesStream?.Properties?.Name);
    const { Shards = [] } = await stack.kinesis.client.send(new ListShardsCommand({ StreamName: streamName }));
    const iterators = await Promise.all(
      Shards.map(
        async (shard) =>
          (
            await stack.kinesis.client.send(
              new GetShardIteratorCommand({
                StreamName: streamName,
                ShardId: shard.ShardId,
                ShardIteratorType: 'LATEST',
              }),
            )
          ).ShardIterator,
      ),
    );
    const seenOnStream = new Map<string, number>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (let i = 0; i < iterators.length; i++) {
          const { Records = [], NextShardIterator } = await stack.kinesis.client.send(
            new GetRecordsCommand({ ShardIterator: iterators[i] }),
          );
          iterators[i] = NextShardIterator;
          for (const record of Records) seenOnStream.set(record.PartitionKey ?? '', Date.now());
        }
        await sleep(5);
      }
    })();

    const toStream: number[] = [];
    const toView: number[] = [];
    // Read once, not per poll: a pointer read in the loop would be timed with the view.
    const ordersTable = await clients.liveTable('orders');
    for (let i = 0; i < orders; i++) {
      const { orderId } = await placeOrder(
        { customerId: `lat-${i}`, items: [{ sku, quantity: 1 }], paymentToken: 'tok_visa' },
        { store: clients.store, metadata: metadata() },
      );
      const committed = Date.now();
      progress.placed();
      for (;;) {
        const { Item } = await clients.client.send(
          new GetCommand({ TableName: ordersTable, Key: { orderId }, ConsistentRead: true }),
        );
        if (Item) break;
        await sleep(2);
      }
      toView.push(Date.now() - committed);
      progress.settled();
      const onStream = seenOnStream.get(`order-${orderId}`);
      if (onStream) toStream.push(onStream - committed);
      await sleep(100);
    }
    watching = false;
    await watcher;
    progress.done();
    printTable(`Append → read model at light load (${orders} orders, one every 100 ms)`, [
      { name: 'append → record on the Kinesis stream (relay)', ...stats(toStream), baseline: true },
      { name: 'append → orders read model answers', ...stats(toView) },
    ]);
  } finally {
    progress.done();
    await stack.stop();
    await output.stop();
    console.log(`\n${output.where}`);
  }
};
