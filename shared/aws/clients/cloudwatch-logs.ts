import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CLIENT_DEFAULTS } from './defaults.ts';

/** Created once per Lambda container (module scope): reads the trail's log group (CLOUDTRAIL_LOG_GROUP) in the stack's region. */
export const logs = new CloudWatchLogsClient(CLIENT_DEFAULTS);
