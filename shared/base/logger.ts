import { Logger } from '@aws-lambda-powertools/logger';

export const SERVICE_NAME = 'iam-key-rotator';

/** Powertools Logger, once per container. Metrics live in base/metrics.ts: only the scanner publishes them. */
export const logger = new Logger({ serviceName: SERVICE_NAME });

/**
 * A logger that writes nothing, for runs whose reader is a report, not log lines: the demos, the
 * CLI without POWERTOOLS_LOG_LEVEL, the benches and the tests. A new one each call, so keys one
 * caller appends never reach another's.
 */
export function silentLogger(): Logger {
  return new Logger({ serviceName: SERVICE_NAME, logLevel: 'SILENT' });
}
