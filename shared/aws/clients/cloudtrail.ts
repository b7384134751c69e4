import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
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
