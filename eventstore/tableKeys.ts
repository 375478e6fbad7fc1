/**
 * Key attribute names of the `events` and `snapshots` tables. serverless.yml declares the same names; a packaging
 * test checks that they agree.
 */
export const STREAM_ID = 'streamId';
export const VERSION = 'version';
