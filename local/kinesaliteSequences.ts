import { createRequire } from 'node:module';

/*
 * kinesalite decodes a record's sequence number (a 56-digit decimal) with BigNumber on every read of it: each of
 * the four consumers' GetRecords decodes every record again, and a PutRecords decodes the shard's. A flash sale's
 * profile put 3-4% of the local stack's CPU there (npm run bench -- flashsale --profile). The decoding is pure, so
 * this remembers the recent answers; each caller gets its own copy, as before. The protocol and the sequence
 * numbers are kinesalite's own.
 */
type SequenceParts = Record<string, unknown>;
type KinesaliteDb = { parseSequence: (sequence: string) => SequenceParts };

/** Enough for every record a consumer is behind by in a benchmark; past it the memory starts over. */
const REMEMBERED = 20_000;

/** The decoders {@link rememberSequences} made: how a test tells that kinesalite's was replaced. */
export const rememberingDecoders = new WeakSet<(sequence: string) => SequenceParts>();

/** Wraps a pure decoder so that a repeated input is decoded once; every answer is a fresh shallow copy. */
export const rememberSequences = (
  parse: (sequence: string) => SequenceParts,
  limit = REMEMBERED,
): ((sequence: string) => SequenceParts) => {
  const known = new Map<string, SequenceParts>();
  const remembering = (sequence: string): SequenceParts => {
    let parts = known.get(sequence);
    if (!parts) {
      parts = parse(sequence);
      if (known.size >= limit) known.clear();
      known.set(sequence, parts);
    }
    return { ...parts };
  };
  rememberingDecoders.add(remembering);
  return remembering;
};

const require = createRequire(import.meta.url);
const db = createRequire(require.resolve('kinesalite'))('./db') as KinesaliteDb;
if (!rememberingDecoders.has(db.parseSequence)) db.parseSequence = rememberSequences(db.parseSequence.bind(db));
