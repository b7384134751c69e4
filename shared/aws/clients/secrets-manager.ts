import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { CLIENT_DEFAULTS } from './defaults.ts';

/** Created once per Lambda container (module scope); only the functions that import this module bundle the client. */
export const secretsManager = new SecretsManagerClient(CLIENT_DEFAULTS);

/** A client with the same settings, signed by other credentials (a member account's role session). */
export const secretsManagerWith = (credentials: AwsCredentialIdentityProvider): SecretsManagerClient =>
  new SecretsManagerClient({ ...CLIENT_DEFAULTS, credentials });
