/**
 * A stack of a file's own points this worker's SDK endpoints (and other settings) at itself through `process.env`.
 * Take this before starting it, and call what it answers after stopping it, to give the next file what it had.
 */
export const keepEnvironment = (): (() => void) => {
  const environment = { ...process.env };
  return () => {
    for (const key of Object.keys(process.env)) if (!(key in environment)) Reflect.deleteProperty(process.env, key);
    Object.assign(process.env, environment);
  };
};
