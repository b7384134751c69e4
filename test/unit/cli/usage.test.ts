import { describe, expect, test } from '@jest/globals';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupsForUserCommand,
  ListUserPoliciesCommand,
  ListUserTagsCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { MANAGEMENT_ONLY_BLIND_SPOT } from '#shared/aws/event-history.ts';
import { fixedClock } from '#shared/base/clock.ts';
import { keyCallReader } from '#shared/consumers/reader.ts';
import { roleProposal, usageReport } from '../../../cli/usage.ts';
import { FIXTURE_KEY, syntheticRecord } from '../../helpers/cloudtrail-fixtures.ts';

/**
 * The usage report over CloudTrail event history (LookupEvents), which moto does not implement: the
 * records come as AWS returns them (CloudTrailEvent JSON), IAM's policy documents URL-encoded as IAM
 * returns them. The moto path (a trail log group) is test/integration/cli/usage.test.ts.
 */

const NOW = new Date('2026-11-21T12:00:00Z');
const ROLE = 'arn:aws:iam::111122223333:role/deployer';

function lookupEvent(record: Record<string, unknown>): { EventId: string; EventTime: Date; CloudTrailEvent: string } {
  return { EventId: String(record.eventID), EventTime: new Date(String(record.eventTime)), CloudTrailEvent: JSON.stringify(record) };
}

function iamAnswering(): IAMClient {
  const client = new IAMClient({});
  const iam = mockClient(client);
  iam.on(GetUserCommand).resolves({
    User: { UserName: 'app-reporter', UserId: 'AIDA', Arn: 'arn:aws:iam::111122223333:user/app-reporter', Path: '/', CreateDate: NOW },
  });
  iam.on(ListUserTagsCommand).resolves({ Tags: [] });
  iam
    .on(ListAccessKeysCommand)
    .resolves({ AccessKeyMetadata: [{ AccessKeyId: FIXTURE_KEY, Status: 'Active', CreateDate: new Date('2026-01-01T00:00:00Z') }] });
  iam
    .on(ListAttachedUserPoliciesCommand)
    .resolves({ AttachedPolicies: [{ PolicyName: 'Reports', PolicyArn: 'arn:aws:iam::111122223333:policy/Reports' }] });
  iam.on(GetPolicyCommand).resolves({ Policy: { DefaultVersionId: 'v2' } });
  iam.on(GetPolicyVersionCommand, { VersionId: 'v2' }).resolves({
    PolicyVersion: {
      Document: encodeURIComponent(
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:GetObject', 's3:ListBucket', 'sqs:SendMessage'], Resource: '*' },
            { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: ROLE },
          ],
        }),
      ),
    },
  });
  iam.on(ListUserPoliciesCommand).resolves({ PolicyNames: [] });
  iam.on(ListGroupsForUserCommand).resolves({ Groups: [] });
  return client;
}

describe('usageReport over event history', () => {
  test('resources come from the records; grants of data events no record could show say so, and the blind spot is named', async () => {
    // Prepare
    const cloudtrail = new CloudTrailClient({ region: 'us-east-1' });
    mockClient(cloudtrail)
      .on(LookupEventsCommand)
      .resolves({
        Events: [
          lookupEvent({
            ...syntheticRecord({
              eventId: 'e2',
              at: new Date('2026-11-20T10:05:00Z'),
              accessKeyId: FIXTURE_KEY,
              eventName: 'GetBucketLocation',
              requestParameters: { bucketName: 'reports', Host: 'reports.s3.amazonaws.com' },
            }),
            eventSource: 's3.amazonaws.com',
          }),
          lookupEvent(
            syntheticRecord({
              eventId: 'e1',
              at: new Date('2026-11-20T10:00:00Z'),
              accessKeyId: FIXTURE_KEY,
              eventName: 'AssumeRole',
              requestParameters: { roleArn: ROLE, roleSessionName: 'deploy' },
            }),
          ),
        ],
      });
    const reader = keyCallReader({
      regions: ['us-east-1'],
      eventHistory: { clientFor: () => cloudtrail, gate: { acquire: async () => undefined }, resources: true },
      deliveryDelayMs: 0,
    });
    if (!reader) throw new Error('a reader with event history is always made');

    // Act
    const report = await usageReport('app-reporter', 14, undefined, {
      iam: iamAnswering(),
      readKeyCalls: reader,
      clock: fixedClock(NOW),
      read: { eventHistoryRegions: ['us-east-1'], trailLogGroup: undefined },
    });
    const proposal = roleProposal(report);

    // Assess
    expect(report.usage.actions.map(({ action, resources }) => ({ action, resources }))).toEqual([
      { action: 's3:GetBucketLocation', resources: ['arn:aws:s3:::reports'] },
      { action: 'sts:AssumeRole', resources: [ROLE] },
    ]);
    expect(report.keys[0]?.notSeen).toContain(MANAGEMENT_ONLY_BLIND_SPOT);
    expect(report.grants.unused).toEqual([
      {
        action: 's3:GetObject',
        policies: ['managed Reports'],
        mayBeUnseen: expect.stringMatching(/data events, which event history does not hold/),
      },
      { action: 's3:ListBucket', policies: ['managed Reports'], mayBeUnseen: expect.stringMatching(/data events/) },
      { action: 'sqs:SendMessage', policies: ['managed Reports'] },
    ]);
    expect(proposal.policy.document.Statement).toEqual([
      { Sid: 'S3Used1', Effect: 'Allow', Action: ['s3:GetBucketLocation'], Resource: ['arn:aws:s3:::reports'] },
      { Sid: 'StsUsed1', Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: [ROLE] },
    ]);
    expect(proposal.trusts.map((trust) => [trust.file, trust.trust.kind])).toEqual([
      ['trust-198.51.100.24_aws-cli-2.json', 'IAM Roles Anywhere'],
    ]);
    expect(JSON.stringify(proposal.trusts[0]?.trust.document)).toContain('arn:aws:rolesanywhere:<REGION>:111122223333:trust-anchor/');
    expect(proposal.checklist.at(-1)).toMatch(/^The evidence could not see: .*management events only/);
    expect(proposal.checklist).toContainEqual(expect.stringMatching(/^The key assumes arn:aws:iam::111122223333:role\/deployer: /));
  });
});
