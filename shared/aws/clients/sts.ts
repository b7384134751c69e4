import { STSClient } from '@aws-sdk/client-sts';
import { CLIENT_DEFAULTS } from './defaults.ts';

/** Created once per Lambda container (module scope); only the functions that import this module bundle the client. */
export const sts = new STSClient(CLIENT_DEFAULTS);
