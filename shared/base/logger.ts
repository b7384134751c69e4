import { Logger } from '@aws-lambda-powertools/logger';

export const SERVICE_NAME = 'iam-key-rotator';

/** Powertools Logger, once per container. Metrics live in base/metrics.ts: only the scanner publishes them. */
export const logger = new Logger({ serviceName: SERVICE_NAME });
