import { observabilitySettings } from './settings.js';
import { createLogger, type Logger } from './logger.js';

let logger: Logger | undefined;

/** The function's logger, created once per cold start with the stage; each request adds the function's name from its Lambda context. */
export const baseLogger = (): Logger => {
  if (!logger) {
    const { LOG_LEVEL, STAGE } = observabilitySettings();
    logger = createLogger({ level: LOG_LEVEL, fields: { stage: STAGE } });
  }
  return logger;
};
