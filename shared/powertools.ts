import { Metrics } from '@aws-lambda-powertools/metrics';
import { SERVICE_NAME } from './logger.ts';

// The logger lives in its own module: the step functions import it without bundling Metrics.
export { logger, SERVICE_NAME } from './logger.ts';
export const metrics = new Metrics({ namespace: 'IamKeyRotator', serviceName: SERVICE_NAME });
