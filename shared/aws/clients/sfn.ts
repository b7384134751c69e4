import { SFNClient } from '@aws-sdk/client-sfn';
import { CLIENT_DEFAULTS } from './defaults.ts';

/** Created once per Lambda container (module scope); only the functions that import this module bundle the client. */
export const sfn = new SFNClient(CLIENT_DEFAULTS);
