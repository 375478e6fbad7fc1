import { createHash } from 'node:crypto';

/**
 * A strong ETag from a version or any other exact description of a representation; with the version of the read
 * model that answered, when known, since a rebuild or a rollback changes a view without changing its version.
 */
export const etagOf = (value: string | number, readModel?: number): string =>
  readModel === undefined ? `"${value}"` : `"${readModel}.${value}"`;

/** An ETag for content described by a text of any length: 22 characters of its SHA-256, with `etagOf`'s read model. */
export const digestEtag = (description: string, readModel?: number): string =>
  etagOf(createHash('sha256').update(description).digest('base64url').slice(0, 22), readModel);

/**
 * A listing page's ETag: the page changes exactly when one of its items does (each named with its version), the page
 * boundary moves, or another version of the read model answers.
 */
export const pageEtagOf = (page: { items: string[]; nextCursor?: string; readModel?: number }): string =>
  digestEtag(`${page.items.join(',')}|${page.nextCursor ?? ''}|${page.readModel ?? ''}`);

/** RFC 9110's weak comparison: `*`, or any listed tag equal to ours once `W/` is set aside. */
export const ifNoneMatch = (header: string | undefined, etag: string): boolean => {
  if (!header) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.trim() === '*' || header.split(',').some((tag) => opaque(tag) === opaque(etag));
};
