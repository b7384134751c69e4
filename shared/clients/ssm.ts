import { SSMClient } from '@aws-sdk/client-ssm';
import { CLIENT_DEFAULTS } from './defaults.ts';

/** Created once per Lambda container (module scope); only the functions that import this module bundle the client. */
export const ssm = new SSMClient(CLIENT_DEFAULTS);
