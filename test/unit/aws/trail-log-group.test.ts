import { beforeEach, describe, expect, test } from '@jest/globals';
import {
  CloudWatchLogsClient,
  FilterLogEventsCommand,
  ResourceNotFoundException,
  ServiceUnavailableException,
  type FilterLogEventsCommandInput,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DAY_MS, fixedClock } from '#shared/base/clock.ts';
import { TRAIL_BLIND_SPOT, trailLogGroupSource } from '#shared/aws/trail-log-group.ts';
import type { CallQuery, RateGate } from '#shared/aws/key-calls.ts';
import { cloudTrailRecord, FIXTURE_KEY, syntheticRecord } from '../../helpers/cloudtrail-fixtures.ts';
import { OTHER_KEY, SyntheticTrail } from '../../helpers/synthetic-trail.ts';

const NOW = new Date('2026-11-21T12:00:00Z');
const clock = fixedClock(NOW);
const LOG_GROUP = 'aws-cloudtrail-logs-111122223333-management-and-data';
const query: CallQuery = {
  accessKeyId: FIXTURE_KEY,
  from: new Date('2026-11-20T00:00:00Z'),
  to: new Date('2026-11-21T00:00:00Z'),
  regions: ['us-east-1'],
};
const budget = { maxApiCalls: 20 };
const logsMock = mockClient(CloudWatchLogsClient);
const logs = new CloudWatchLogsClient({});
const source = (extra: Partial<Parameters<typeof trailLogGroupSource>[0]> = {}) =>
  trailLogGroupSource({ logs, logGroupName: LOG_GROUP, clock, ...extra });

function logEvent(record: Record<string, unknown>) {
  return {
    logStreamName: '111122223333_CloudTrail_us-east-1',
    timestamp: Date.parse(String(record.eventTime)),
    message: JSON.stringify(record),
  };
}

beforeEach(() => {
  logsMock.reset();
});

describe('trailLogGroupSource', () => {
  test('filters the log group by the key id as a quoted term over the window in milliseconds', async () => {
    // Prepare
    logsMock.on(FilterLogEventsCommand).resolves({ events: [logEvent(cloudTrailRecord('iam-user-boto3'))] });

    // Act
    const evidence = await source().read(query, budget);

    // Assess
    expect(logsMock).toHaveReceivedCommandWith(FilterLogEventsCommand, {
      logGroupName: LOG_GROUP,
      filterPattern: `"${FIXTURE_KEY}"`,
      startTime: query.from.getTime(),
      endTime: query.to.getTime(),
      limit: 10_000,
    });
    expect(evidence).toMatchObject({ source: 'trail-log-group', complete: true, apiCalls: 1 });
    expect(evidence.calls.map((call) => call.eventName)).toEqual(['GetSecretValue']);
  });

  test('keeps only records signed with the key: one that merely mentions it (the rotator’s GetAccessKeyLastUsed) is not a call', async () => {
    // Prepare
    const mention = syntheticRecord({
      eventId: 'mention',
      at: new Date('2026-11-20T09:00:00Z'),
      accessKeyId: OTHER_KEY,
      eventName: 'GetAccessKeyLastUsed',
      requestParameters: { accessKeyId: FIXTURE_KEY },
    });
    logsMock.on(FilterLogEventsCommand).resolves({
      events: [logEvent(mention), logEvent(cloudTrailRecord('data-event-s3-getobject')), logEvent(cloudTrailRecord('console-signin'))],
    });

    // Act
    const evidence = await source().read(query, budget);

    // Assess
    expect(evidence.calls.map((call) => [call.eventName, call.category])).toEqual([['GetObject', 'Data']]);
    expect(evidence.blindSpots.join('\n')).not.toMatch(/could not be read/);
  });

  test('pages through nextToken and says what the trail decides it sees', async () => {
    // Prepare: two pages of an hourly call that reach across the day
    logsMock
      .on(FilterLogEventsCommand)
      .resolvesOnce({
        events: [logEvent(syntheticRecord({ eventId: 'a', at: new Date('2026-11-20T10:00:00Z'), accessKeyId: FIXTURE_KEY }))],
        nextToken: 'page-2',
      })
      .resolves({ events: [logEvent(syntheticRecord({ eventId: 'b', at: new Date('2026-11-20T20:00:00Z'), accessKeyId: FIXTURE_KEY }))] });

    // Act
    const evidence = await source().read(query, budget);

    // Assess
    expect(logsMock.commandCalls(FilterLogEventsCommand).map((call) => call.args[0].input.nextToken)).toEqual([undefined, 'page-2']);
    expect(evidence).toMatchObject({ complete: true, apiCalls: 2 });
    expect(evidence.calls.map((call) => call.eventId)).toEqual(['a', 'b']);
    expect(evidence.blindSpots).toContain(TRAIL_BLIND_SPOT);
    expect(TRAIL_BLIND_SPOT).toBe('only what the trail records: check it logs data events and every region');
  });

  test('an empty page with a token is followed: FilterLogEvents returns those while it searches', async () => {
    // Prepare
    logsMock
      .on(FilterLogEventsCommand)
      .resolvesOnce({ events: [], nextToken: 'still-searching' })
      .resolves({ events: [logEvent(cloudTrailRecord('iam-user-awscli'))] });

    // Act
    const evidence = await source().read(query, budget);

    // Assess
    expect(evidence).toMatchObject({ complete: true, apiCalls: 2 });
    expect(evidence.calls).toHaveLength(1);
  });

  test('a log group that does not exist: unavailable, and the fix is the CLOUDTRAIL_LOG_GROUP setting', async () => {
    // Prepare
    logsMock
      .on(FilterLogEventsCommand)
      .rejects(new ResourceNotFoundException({ message: 'The specified log group does not exist.', $metadata: {} }));

    // Act
    const evidence = await source().read(query, budget);

    // Assess
    expect(evidence.unavailable).toEqual({
      errorName: 'ResourceNotFoundException',
      message: expect.stringMatching(new RegExp(`log group ${LOG_GROUP}.*set CLOUDTRAIL_LOG_GROUP.*describe-trails`)),
    });
    expect(evidence.calls).toEqual([]);
  });

  test('AccessDenied: unavailable, naming logs:FilterLogEvents on the log group', async () => {
    // Prepare
    logsMock
      .on(FilterLogEventsCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException', $metadata: {} }));

    // Act
    const evidence = await source().read(query, budget);

    // Assess
    expect(evidence.unavailable).toEqual({
      errorName: 'AccessDeniedException',
      message: expect.stringMatching(new RegExp(`logs:FilterLogEvents.*log-group:${LOG_GROUP}:\\*`)),
    });
    expect(evidence.unavailable?.message).not.toMatch(/not authorized/);
  });

  test('a service outage after the first page: the page is kept, the read incomplete, the outage named', async () => {
    // Prepare
    logsMock
      .on(FilterLogEventsCommand)
      .resolvesOnce({ events: [logEvent(cloudTrailRecord('iam-user-awscli'))], nextToken: 'page-2' })
      .rejects(new ServiceUnavailableException({ message: 'unavailable', $metadata: {} }));

    // Act
    const evidence = await source().read({ ...query, from: new Date('2026-11-20T08:00:00Z') }, budget);

    // Assess
    expect(evidence).toMatchObject({ complete: false, apiCalls: 2 });
    expect(evidence.unavailable).toBeUndefined();
    expect(evidence.calls).toHaveLength(1);
    expect(evidence.blindSpots).toContainEqual(expect.stringMatching(/did not answer \(ServiceUnavailableException\)/));
  });

  test('a chatty key over 14 days never costs more than the budget, and is sampled across the window', async () => {
    // Prepare: 10,000 calls an hour, and the rotator's own calls that mention the key
    const from = new Date(NOW.getTime() - 14 * DAY_MS);
    const trail = new SyntheticTrail(FIXTURE_KEY, [
      { sourceIp: '198.51.100.1', userAgent: 'busy', periodMs: 360, phaseMs: from.getTime() },
      { sourceIp: 'iam-key-rotator', userAgent: 'rotator', periodMs: 3_600_000, phaseMs: from.getTime(), mentionsOnly: true },
    ]);
    logsMock.on(FilterLogEventsCommand).callsFake((input: FilterLogEventsCommandInput) => trail.filterLogEvents(input));
    const keys: string[] = [];
    const gate: RateGate = { acquire: async (key) => void keys.push(key) };

    // Act
    const evidence = await source({ gate, random: () => 0.5 }).read({ ...query, from, to: NOW }, budget);

    // Assess
    expect(trail.filterCalls).toBe(20);
    expect(keys).toEqual(Array.from({ length: 20 }, () => 'filter-log-events'));
    expect(evidence).toMatchObject({ apiCalls: 20, complete: false });
    expect(evidence.calls.every((call) => call.accessKeyId === FIXTURE_KEY)).toBe(true);
    const days = new Set(evidence.calls.map((call) => Math.floor((call.at.getTime() - from.getTime()) / DAY_MS)));
    expect(days.size).toBeGreaterThanOrEqual(13);
    expect(evidence.blindSpots).toContainEqual(expect.stringMatching(new RegExp(`^log group ${LOG_GROUP}: the budget did not cover`)));
  });

  test('a key id that could break out of the quoted term is refused before any call', async () => {
    // Act & Assess
    await expect(source().read({ ...query, accessKeyId: 'AKIA" || "x' }, budget)).rejects.toMatchObject({ name: 'InvalidInputError' });
    expect(logsMock).toHaveReceivedCommandTimes(FilterLogEventsCommand, 0);
  });
});
