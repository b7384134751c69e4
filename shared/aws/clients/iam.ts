import { IAMClient } from '@aws-sdk/client-iam';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { CLIENT_DEFAULTS } from './defaults.ts';

/** Created once per Lambda container (module scope); only the functions that import this module bundle the client. */
export const iam = new IAMClient(CLIENT_DEFAULTS);

/** A client with the same settings, signed by other credentials (a member account's role session). */
export const iamWith = (credentials: AwsCredentialIdentityProvider): IAMClient => new IAMClient({ ...CLIENT_DEFAULTS, credentials });
