import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CLIENT_DEFAULTS } from './defaults.ts';

/** Created once per Lambda container (module scope); only the functions that import this module bundle the client. */
export const secretsManager = new SecretsManagerClient(CLIENT_DEFAULTS);
