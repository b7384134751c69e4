import { IAMClient } from '@aws-sdk/client-iam';
import { CLIENT_DEFAULTS } from './defaults.ts';

/** Created once per Lambda container (module scope); only the functions that import this module bundle the client. */
export const iam = new IAMClient(CLIENT_DEFAULTS);
