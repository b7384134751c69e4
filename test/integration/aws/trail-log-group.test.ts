import { beforeAll, describe, expect, test } from '@jest/globals';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { trailLogGroupSource } from '#shared/aws/trail-log-group.ts';
import type { CallQuery } from '#shared/aws/key-calls.ts';
import { cloudTrailRecord, FIXTURE_KEY, syntheticRecord } from '../../helpers/cloudtrail-fixtures.ts';
import { countCalls } from '../../helpers/call-counter.ts';
import { OTHER_KEY } from '../../helpers/synthetic-trail.ts';

// A trail delivered to CloudWatch Logs, in moto: one log stream per account and region, as CloudTrail
// names them, each message one record. moto accepts events of the last 14 days only: the records are
// placed in the last few hours.
const LOG_GROUP = 'aws-cloudtrail-logs-123456789012-consumers';
const STREAM = '123456789012_CloudTrail_us-east-1';
const logs = new CloudWatchLogsClient({});
const now = Date.now();
const hoursAgo = (hours: number): Date => new Date(Math.floor((now - hours * 3_600_000) / 1000) * 1000);
const query = (extra: Partial<CallQuery> = {}): CallQuery => ({
  accessKeyId: FIXTURE_KEY,
  from: hoursAgo(12),
  to: hoursAgo(0),
  regions: ['us-east-1'],
  ...extra,
});

/** The key's calls from two consumers, a data event, a call of another key that names this one, and an unrelated call. */
const records = [
  syntheticRecord({
    eventId: 'cli-1',
    at: hoursAgo(10),
    accessKeyId: FIXTURE_KEY,
    sourceIp: '198.51.100.24',
    userAgent: 'aws-cli/2.15.30',
  }),
  syntheticRecord({ eventId: 'boto-1', at: hoursAgo(9), accessKeyId: FIXTURE_KEY, sourceIp: '203.0.113.77', userAgent: 'Boto3/1.34.69' }),
  syntheticRecord({
    eventId: 'rotator-mention',
    at: hoursAgo(8),
    accessKeyId: OTHER_KEY,
    eventName: 'GetAccessKeyLastUsed',
    requestParameters: { accessKeyId: FIXTURE_KEY },
  }),
  { ...cloudTrailRecord('data-event-s3-getobject'), eventTime: hoursAgo(7).toISOString(), eventID: 'data-1' },
  syntheticRecord({ eventId: 'other-key', at: hoursAgo(6), accessKeyId: OTHER_KEY }),
  syntheticRecord({ eventId: 'cli-2', at: hoursAgo(5), accessKeyId: FIXTURE_KEY, sourceIp: '198.51.100.24', userAgent: 'aws-cli/2.15.30' }),
  syntheticRecord({ eventId: 'boto-2', at: hoursAgo(4), accessKeyId: FIXTURE_KEY, sourceIp: '203.0.113.77', userAgent: 'Boto3/1.34.69' }),
];

beforeAll(async () => {
  // Prepare
  await logs.send(new CreateLogGroupCommand({ logGroupName: LOG_GROUP }));
  await logs.send(new CreateLogStreamCommand({ logGroupName: LOG_GROUP, logStreamName: STREAM }));
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: LOG_GROUP,
      logStreamName: STREAM,
      logEvents: records.map((record) => ({ timestamp: Date.parse(String(record.eventTime)), message: JSON.stringify(record) })),
    }),
  );
});

describe('trailLogGroupSource against moto CloudWatch Logs', () => {
  test('reads back the key’s calls, data event included, and nothing that only mentions the key', async () => {
    // Act
    const evidence = await trailLogGroupSource({ logs, logGroupName: LOG_GROUP }).read(query(), { maxApiCalls: 20 });

    // Assess
    expect(evidence).toMatchObject({ source: 'trail-log-group', complete: true, apiCalls: 1 });
    expect(evidence.calls.map((call) => call.eventId)).toEqual(['cli-1', 'boto-1', 'data-1', 'cli-2', 'boto-2']);
    expect(new Set(evidence.calls.map((call) => `${call.sourceIp} ${call.userAgent.split(' ')[0]}`))).toEqual(
      new Set(['198.51.100.24 aws-cli/2.15.30', '203.0.113.77 Boto3/1.34.69', '203.0.113.77 [Boto3/1.34.69']),
    );
    expect(evidence.calls.find((call) => call.eventId === 'data-1')?.category).toBe('Data');
  });

  test('pages through small pages with nextToken, one call a page', async () => {
    // Prepare
    const counter = countCalls(logs);

    // Act
    const evidence = await trailLogGroupSource({ logs, logGroupName: LOG_GROUP, limit: 2 }).read(query(), { maxApiCalls: 20 });

    // Assess: 6 records hold the key id as a term (the mention too): 3 pages of 2, the last without a token
    counter.detach();
    expect(counter.byCommand).toEqual({ FilterLogEventsCommand: 3 });
    expect(evidence).toMatchObject({ complete: true, apiCalls: 3 });
    expect(evidence.calls).toHaveLength(5);
  });

  test('a budget too small for the window samples it and never spends more', async () => {
    // Prepare
    const counter = countCalls(logs);

    // Act
    const evidence = await trailLogGroupSource({ logs, logGroupName: LOG_GROUP, limit: 1, random: () => 0.5 }).read(query(), {
      maxApiCalls: 3,
    });

    // Assess
    counter.detach();
    expect(counter.total()).toBe(3);
    expect(evidence).toMatchObject({ complete: false, apiCalls: 3 });
    expect(evidence.calls.length).toBeGreaterThan(0);
    expect(evidence.calls.every((call) => call.accessKeyId === FIXTURE_KEY)).toBe(true);
  });

  test('a log group that does not exist makes the source unavailable, naming the setting', async () => {
    // Act
    const evidence = await trailLogGroupSource({ logs, logGroupName: 'no-such-trail-group' }).read(query(), { maxApiCalls: 20 });

    // Assess
    expect(evidence.unavailable).toEqual({
      errorName: 'ResourceNotFoundException',
      message: expect.stringMatching(/CLOUDTRAIL_LOG_GROUP/),
    });
  });
});
