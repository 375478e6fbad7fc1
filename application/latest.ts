/**
 * Keeps `value` as the latest of `key` in a map that holds at most `kept` keys, the one set longest ago going first:
 * a warm function's caches (placement's stock hints, the catalogue) stay bounded however many SKUs it meets.
 */
export const keepLatest = <K, V>(map: Map<K, V>, key: K, value: V, kept: number): void => {
  map.delete(key);
  map.set(key, value);
  const oldest = map.size > kept ? map.keys().next() : undefined;
  if (oldest && !oldest.done) map.delete(oldest.value);
};
