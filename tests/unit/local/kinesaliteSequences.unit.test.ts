import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { rememberingDecoders, rememberSequences } from '../../../local/kinesaliteSequences.js';

const require = createRequire(import.meta.url);
const db = createRequire(require.resolve('kinesalite'))('./db') as {
  parseSequence: (sequence: string) => Record<string, unknown>;
  stringifySequence: (parts: Record<string, unknown>) => string;
};

// Sequence numbers as kinesalite makes them: a shard created now, records at increasing indexes and times.
const sequences = Array.from({ length: 5 }, (_, i) =>
  db.stringifySequence({
    shardCreateTime: 1_796_000_000_000,
    seqIx: 1000 + i,
    seqTime: 1_796_000_001_000 + i,
    shardIx: i % 2,
  }),
);

describe("kinesalite's sequence numbers, decoded once", () => {
  it('answers what the decoder answers, and decodes each number once', () => {
    const decoded: string[] = [];
    const parse = (sequence: string) => {
      decoded.push(sequence);
      return db.parseSequence(sequence);
    };
    const remembered = rememberSequences(parse);
    for (const round of [1, 2, 3]) {
      for (const [i, sequence] of sequences.entries()) {
        expect(remembered(sequence), `round ${round}`).toMatchObject({ seqIx: String(1000 + i), shardIx: i % 2 });
      }
    }
    expect(decoded).toEqual(sequences);
  });

  it('gives each caller its own copy, and starts over past its limit', () => {
    let decodes = 0;
    const remembered = rememberSequences((sequence) => ((decodes += 1), db.parseSequence(sequence)), 2);
    const [first = '', second = '', third = ''] = sequences;
    const mine = remembered(first);
    mine.seqIx = 'changed by a caller';
    expect(remembered(first)).toMatchObject({ seqIx: '1000' });
    remembered(second);
    remembered(third); // past the limit: the memory is cleared, then holds this one
    expect(remembered(first)).toMatchObject({ seqIx: '1000', shardIx: 0 });
    expect(decodes).toBe(4); // first, second, third, then first again
  });

  it('is what the local stack uses: importing it replaces the decoder kinesalite calls', () => {
    expect(rememberingDecoders.has(db.parseSequence)).toBe(true);
    const [first = ''] = sequences;
    expect(db.parseSequence(first)).toMatchObject({ seqIx: '1000', shardIx: 0, version: 2 });
  });
});
