// @ts-check
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * serverless-esbuild stages each function's zip in `<tmpdir>/<function>-<pid>-<ms>-<8 hex>`, and its cleanup removes
 * that directory without `recursive`, which fails on the files it holds and is swallowed (its `safeFileRemove`;
 * floydspace/serverless-esbuild#589): every `sls package` left one directory per function, about 1 MB each. After
 * packaging, this removes the ones this process made: its pid is in their names, so no other process's are touched.
 */

/**
 * The names of a staging directory of this process, in a listing of the temp folder.
 * @param {string[]} entries
 * @param {number} pid
 */
export const stagingDirectories = (entries, pid) => {
  const ours = new RegExp(`^.+-${pid}-\\d+-[0-9a-f]{8}$`);
  return entries.filter((entry) => ours.test(entry));
};

/**
 * Removes this process's staging directories from `dir`.
 * @param {string} dir
 * @param {number} pid
 */
export const removeStaging = async (dir, pid) => {
  const found = stagingDirectories(await readdir(dir), pid);
  await Promise.all(found.map((entry) => rm(join(dir, entry), { recursive: true, force: true })));
  return found.length;
};

export default class ZipStaging {
  constructor() {
    this.hooks = {
      // After serverless-esbuild's own cleanup, which runs on the same hooks (listed before this plugin).
      'after:package:createDeploymentArtifacts': () => this.clean(),
      'after:deploy:function:packageFunction': () => this.clean(),
    };
  }

  async clean() {
    await removeStaging(tmpdir(), process.pid);
  }
}
