import { readFileSync } from 'node:fs';
import { repoPath } from './paths.ts';

type Event = Record<string, unknown>;

const health = JSON.parse(readFileSync(repoPath('test/fixtures/health-credentials-exposed.json'), 'utf8')) as Event;
const organization = JSON.parse(readFileSync(repoPath('test/fixtures/health-credentials-exposed-organization.json'), 'utf8')) as Event;

/**
 * AWS_RISK_CREDENTIALS_EXPOSED as the stack's Health rule sees it, by how it arrived. AWS Health
 * publishes IAM's events in us-east-1 (us-west-2 when it fails over); stack/health-forwarding.yml
 * puts them on the rotator Region's bus. A forwarded event keeps its content, so its `region` names
 * where Health published it; the variant with the receiving Region in it shows that the rule's
 * pattern does not depend on that field either way.
 */
export function healthDeliveries(stackRegion: string): [string, Event][] {
  const fromBackup = { ...health, region: 'us-west-2' };
  // Outside us-west-2 a stack gets the backup Region's events forwarded too (README, Deploy).
  const deliveries: [string, Event][] =
    stackRegion === 'us-east-1'
      ? [
          ['published in us-east-1, delivered directly', health],
          ['published in us-west-2 (the backup), forwarded', fromBackup],
        ]
      : [
          ['published in us-east-1, forwarded', health],
          ['published in us-west-2 (the backup), forwarded', fromBackup],
          [`forwarded with its region rewritten to ${stackRegion}`, { ...health, region: stackRegion }],
        ];
  return [...deliveries, ["seen in an organization's delegated administrator view (affectedAccount)", organization]];
}

/** A Health event of another type: the rule must not match it. */
export const otherHealthEvent: Event = {
  ...health,
  detail: { ...(health.detail as Event), eventTypeCode: 'AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED' },
};
