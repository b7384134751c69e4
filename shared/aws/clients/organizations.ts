import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { CLIENT_DEFAULTS } from './defaults.ts';

/** Created once per Lambda container (module scope); only list-accounts and the CLI bundle it. */
export const organizations = new OrganizationsClient(CLIENT_DEFAULTS);
