import { Metrics } from '@aws-lambda-powertools/metrics';
import { SERVICE_NAME } from './logger.ts';

// Apart from the logger: only the scanner publishes metrics, so the step functions never bundle Metrics.
export const metrics = new Metrics({ namespace: 'IamKeyRotator', serviceName: SERVICE_NAME });
