import { SNSClient } from '@aws-sdk/client-sns';
import { CLIENT_DEFAULTS } from './defaults.ts';

/** Created once per Lambda container (module scope); only the functions that import this module bundle the client. */
export const sns = new SNSClient(CLIENT_DEFAULTS);
