import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { afterRead, failuresListed } from '../../../local/streamConsumers.js';

const window = { batchSize: 100, batchWindowMs: 1000, pollMs: 50 };

describe("a stream mapping's poll loop after a read, like Lambda's batching window", () => {
  it('delivers once a full batch is in, or once the window since the first record gathered is over', () => {
    expect(afterRead({ ...window, gathered: 100, gatheringForMs: 10, pageLength: 60 })).toEqual({ action: 'deliver' });
    expect(afterRead({ ...window, gathered: 3, gatheringForMs: 1000, pageLength: 0 })).toEqual({ action: 'deliver' });
    // No window: the first records are delivered at once.
    expect(afterRead({ ...window, batchWindowMs: 0, gathered: 1, gatheringForMs: 0, pageLength: 1 })).toEqual({
      action: 'deliver',
    });
  });

  it('waits while the window gathers, even after a page that brought records, never reading again at once', () => {
    expect(afterRead({ ...window, gathered: 7, gatheringForMs: 100, pageLength: 4 })).toEqual({
      action: 'wait',
      ms: 50,
    });
    expect(afterRead({ ...window, gathered: 7, gatheringForMs: 100, pageLength: 0 })).toEqual({
      action: 'wait',
      ms: 50,
    });
    // Less than the interval left: it reads when the window closes.
    expect(afterRead({ ...window, gathered: 7, gatheringForMs: 980, pageLength: 4 })).toEqual({
      action: 'wait',
      ms: 20,
    });
  });

  it('follows a page of records it skipped at once, and rests on an empty shard', () => {
    expect(afterRead({ ...window, gathered: 0, gatheringForMs: 0, pageLength: 100 })).toEqual({ action: 'read' });
    expect(afterRead({ ...window, gathered: 0, gatheringForMs: 0, pageLength: 0 })).toEqual({ action: 'rest' });
  });
});

describe('the batches a kept stack lists as given up on, which its start counts', () => {
  it('counts one a line, and none when there is no file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'orderflow-failures-'));
    try {
      const file = join(dir, 'local.jsonl');
      expect(await failuresListed(file)).toBe(0);
      await writeFile(file, '{"functionName":"ordersProjection"}\n{"functionName":"startSaga"}\n\n');
      expect(await failuresListed(file)).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
