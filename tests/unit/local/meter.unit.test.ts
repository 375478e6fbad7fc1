import { describe, expect, it } from 'vitest';
import { startMeter } from '../../../local/meter.js';

describe('the cost meter on the change stream', () => {
  it('bills a change data capture unit per KB of each item, and a PUT payload unit per 25 KiB of each record', async () => {
    // No request reaches these: the proxies only start.
    const meter = await startMeter({ dynamodb: 'http://127.0.0.1:9', sfn: 'http://127.0.0.1:9' });
    try {
      meter.recordChange(1_500, 870); // a placement's one item of two events, under 1 KB
      meter.recordChange(2_600, 1_025); // just over 1 KB: two units
      meter.recordChange(30_000, 20_000); // 20,000 B: 20 units; 30,000 B of record: two payload units
      expect(meter.usage().kinesis).toEqual({ records: 3, bytes: 34_100, payloadUnits: 4, changeUnits: 23 });
      meter.reset();
      expect(meter.usage().kinesis).toEqual({ records: 0, bytes: 0, payloadUnits: 0, changeUnits: 0 });
    } finally {
      await meter.stop();
    }
  });
});
