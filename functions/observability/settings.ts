import { type LogLevel, levels } from './logger.js';

/**
 * The two settings every function's logs and metrics need, read without zod: a function that serves a precomputed
 * answer (notFound, getOpenApi) then loads no schema library at all. A wrong value still fails loudly.
 */
export const observabilitySettings = (env: NodeJS.ProcessEnv = process.env): { STAGE: string; LOG_LEVEL: LogLevel } => {
  const level = env.LOG_LEVEL || 'info';
  if (!(levels as readonly string[]).includes(level)) {
    throw new Error(`LOG_LEVEL must be one of ${levels.join(', ')}; it is ${level}`);
  }
  return { STAGE: env.STAGE || 'dev', LOG_LEVEL: level as LogLevel };
};
