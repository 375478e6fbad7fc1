import { chmod, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root folder, wherever the process was started from. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/**
 * Git-ignored state of the local stack: DynamoDB Local's files, signing keys, caches. ORDERFLOW_STATE_DIR puts it
 * elsewhere: a test that runs `npm start` or an ops command must never reach the developer's own stack.
 */
export const localStateDir = process.env.ORDERFLOW_STATE_DIR
  ? resolve(process.env.ORDERFLOW_STATE_DIR)
  : fileURLToPath(new URL('../.local/', import.meta.url));

/**
 * Makes `path` a folder for this user's eyes only (mode 0700), creating it if need be. A folder this user may write
 * but does not own (a container's bind mount) stays as it is: only its owner may change its mode.
 */
export const privateFolder = async (path: string): Promise<void> => {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await chmod(path, 0o700).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPERM') throw error;
  });
};
