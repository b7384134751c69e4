import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { CLIENT_DEFAULTS } from './defaults.ts';

const byRegion = new Map<string, CloudTrailClient>();

/**
 * Event history is per region (LookupEvents answers for the region it is sent to), so the readers
 * need one client per region; each is created on first use and kept for the container's life.
 */
export function cloudtrailFor(region: string): CloudTrailClient {
  let client = byRegion.get(region);
  if (!client) {
    client = new CloudTrailClient({ ...CLIENT_DEFAULTS, region });
    byRegion.set(region, client);
  }
  return client;
}

/**
 * The same per region, signed by other credentials (a member account's role session): one client per
 * region, made on first use by the reader built for that account, and kept with it.
 */
export function cloudtrailWith(
  credentials: AwsCredentialIdentityProvider,
  prepare: (client: CloudTrailClient) => CloudTrailClient = (client) => client,
): (region: string) => CloudTrailClient {
  const clients = new Map<string, CloudTrailClient>();
  return (region) => {
    let client = clients.get(region);
    if (!client) {
      client = prepare(new CloudTrailClient({ ...CLIENT_DEFAULTS, region, credentials }));
      clients.set(region, client);
    }
    return client;
  };
}
