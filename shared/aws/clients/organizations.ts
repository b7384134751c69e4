import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { CLIENT_DEFAULTS } from './defaults.ts';

/** Created once per Lambda container (module scope); list-accounts, start-rotation (the organization filters) and the CLI bundle it. */
export const organizations = new OrganizationsClient(CLIENT_DEFAULTS);
