import { readFileSync } from 'node:fs';
import type { LookupEventsCommandOutput } from '@aws-sdk/client-cloudtrail';
import { repoPath } from './paths.ts';

/** The CloudTrail records of test/fixtures/cloudtrail/, shaped as AWS documents them ("CloudTrail record contents"). */
export type CloudTrailFixture =
  | 'iam-user-awscli'
  | 'iam-user-boto3'
  | 'data-event-s3-getobject'
  | 'invoked-by-service'
  | 'access-denied'
  | 'ec2-unauthorized'
  | 'legacy-no-category'
  | 'console-signin';

export const FIXTURE_KEY = 'AKIAIOSFODNN7EXAMPLE';

export function cloudTrailRecord(name: CloudTrailFixture): Record<string, unknown> {
  return JSON.parse(readFileSync(repoPath('test/fixtures/cloudtrail', `${name}.json`), 'utf8')) as Record<string, unknown>;
}

/** The LookupEvents page fixture as the SDK hands it over: the wire's epoch-second EventTime becomes a Date. */
export function lookupEventsPage(): Omit<LookupEventsCommandOutput, '$metadata'> {
  const page = JSON.parse(readFileSync(repoPath('test/fixtures/cloudtrail', 'lookup-events-page.json'), 'utf8')) as {
    Events: (Record<string, unknown> & { EventTime: number })[];
    NextToken?: string;
  };
  return { ...page, Events: page.Events.map((event) => ({ ...event, EventTime: new Date(event.EventTime * 1000) })) };
}

/** A record of `accessKeyId`'s call, as CloudTrail writes one, for tests that need many. */
export function syntheticRecord(options: {
  readonly eventId: string;
  readonly at: Date;
  readonly accessKeyId: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly eventName?: string;
  readonly requestParameters?: Record<string, unknown> | null;
}): Record<string, unknown> {
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDACKCEVSQ6C2EXAMPLE',
      arn: 'arn:aws:iam::111122223333:user/app-reporter',
      accountId: '111122223333',
      accessKeyId: options.accessKeyId,
      userName: 'app-reporter',
    },
    // CloudTrail writes whole seconds; a test's millisecond stays, so events keep their order.
    eventTime: options.at.toISOString().replace('.000Z', 'Z'),
    eventSource: 'sts.amazonaws.com',
    eventName: options.eventName ?? 'GetCallerIdentity',
    awsRegion: 'us-east-1',
    sourceIPAddress: options.sourceIp ?? '198.51.100.24',
    userAgent: options.userAgent ?? 'aws-cli/2.15.30 md/command#sts.get-caller-identity',
    requestParameters: options.requestParameters ?? null,
    responseElements: null,
    requestID: `req-${options.eventId}`,
    eventID: options.eventId,
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '111122223333',
    eventCategory: 'Management',
  };
}
