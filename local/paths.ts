import { fileURLToPath } from 'node:url';

/** The project's root folder, wherever the process was started from. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** Git-ignored state of the local stack: DynamoDB Local's files, signing keys, caches. */
export const localStateDir = fileURLToPath(new URL('../.local/', import.meta.url));
