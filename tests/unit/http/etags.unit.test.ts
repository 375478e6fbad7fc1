import { describe, expect, it } from 'vitest';
import { etagOf, ifNoneMatch, pageEtagOf } from '../../../functions/http/etags.js';

describe('ETags (functions/http/etags.ts)', () => {
  it('gives a page another ETag when an item’s version, the page boundary or the answering read model changes', () => {
    const page = { items: ['MUG-1@1', 'CAP-1@4'], nextCursor: 'abc', readModel: 2 };
    const etag = pageEtagOf(page);
    expect(etag).toMatch(/^"[\w-]{22}"$/);
    expect(pageEtagOf({ ...page })).toBe(etag);
    for (const changed of [
      { ...page, items: ['MUG-1@2', 'CAP-1@4'] },
      { ...page, nextCursor: 'abd' },
      { items: page.items, readModel: 2 },
      { ...page, readModel: 3 },
      { items: page.items, nextCursor: 'abc' },
    ]) {
      expect(pageEtagOf(changed), JSON.stringify(changed)).not.toBe(etag);
    }
  });

  it('names the read model in a view’s ETag, and matches If-None-Match weakly, in a list, or by *', () => {
    expect(etagOf(7)).toBe('"7"');
    expect(etagOf(7, 2)).toBe('"2.7"');
    expect(ifNoneMatch('"2.7"', '"2.7"')).toBe(true);
    expect(ifNoneMatch('W/"2.7"', '"2.7"')).toBe(true);
    expect(ifNoneMatch('"1.7", "2.7"', '"2.7"')).toBe(true);
    expect(ifNoneMatch('*', '"2.7"')).toBe(true);
    expect(ifNoneMatch('"1.7"', '"2.7"')).toBe(false);
    expect(ifNoneMatch(undefined, '"2.7"')).toBe(false);
  });
});
