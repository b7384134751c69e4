import { beforeEach, describe, expect, test } from '@jest/globals';
import {
  AccessDeniedException,
  CloudTrailClient,
  InvalidLookupAttributesException,
  LookupEventsCommand,
  ThrottlingException,
  type LookupEventsCommandInput,
} from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DAY_MS, fixedClock } from '#shared/base/clock.ts';
import { eventHistorySource, MANAGEMENT_ONLY_BLIND_SPOT } from '#shared/aws/event-history.ts';
import type { CallQuery, RateGate } from '#shared/aws/key-calls.ts';
import { cloudTrailRecord, FIXTURE_KEY, lookupEventsPage, syntheticRecord } from '../../helpers/cloudtrail-fixtures.ts';
import { SyntheticTrail } from '../../helpers/synthetic-trail.ts';

const NOW = new Date('2026-11-21T12:00:00Z');
const clock = fixedClock(NOW);
const query: CallQuery = {
  accessKeyId: FIXTURE_KEY,
  from: new Date(NOW.getTime() - 14 * DAY_MS),
  to: new Date(NOW.getTime() - DAY_MS),
  regions: ['us-east-1'],
};
const budget = { maxApiCalls: 20 };
const cloudtrail = mockClient(CloudTrailClient);
const clients = new Map<string, CloudTrailClient>();
const clientFor = (region: string): CloudTrailClient => {
  const client = clients.get(region) ?? new CloudTrailClient({ region });
  clients.set(region, client);
  return client;
};
const denied = () =>
  new AccessDeniedException({ message: 'User: arn:aws:sts::111122223333:assumed-role/x is not authorized', $metadata: {} });
const throttled = () => new ThrottlingException({ message: 'Rate exceeded', $metadata: {} });

/** Records every acquire, so a test can check each call waited for its region's key. */
function recordingGate(): RateGate & { keys: string[] } {
  const keys: string[] = [];
  return { keys, acquire: async (key) => void keys.push(key) };
}

/** The region a LookupEvents call went to: its client's. */
async function regionOf(call: { thisValue: unknown }): Promise<string> {
  return (call.thisValue as CloudTrailClient).config.region();
}

/** Answers each region's calls its own way (one class mock sees every client). */
function byRegion(answers: Record<string, (input: LookupEventsCommandInput) => unknown>): void {
  cloudtrail.on(LookupEventsCommand).callsFake(async (input: LookupEventsCommandInput, getClient: () => CloudTrailClient) => {
    const answer = answers[await getClient().config.region()];
    if (!answer) throw new Error('no answer for that region');
    return answer(input);
  });
}

function syntheticEvent(eventId: string, at: Date, accessKeyId = FIXTURE_KEY) {
  return { EventId: eventId, EventTime: at, CloudTrailEvent: JSON.stringify(syntheticRecord({ eventId, at, accessKeyId })) };
}

beforeEach(() => {
  cloudtrail.reset();
  clients.clear();
});

describe('eventHistorySource', () => {
  test('looks the key up by its AccessKeyId attribute over the window, 50 a page, after the gate of its region', async () => {
    // Prepare
    cloudtrail.on(LookupEventsCommand).resolves({ ...lookupEventsPage(), NextToken: undefined });
    const gate = recordingGate();

    // Act
    const evidence = await eventHistorySource({ clientFor, gate, clock }).read(query, budget);

    // Assess
    expect(cloudtrail).toHaveReceivedCommandTimes(LookupEventsCommand, 1);
    expect(cloudtrail).toHaveReceivedCommandWith(LookupEventsCommand, {
      LookupAttributes: [{ AttributeKey: 'AccessKeyId', AttributeValue: FIXTURE_KEY }],
      StartTime: query.from,
      EndTime: query.to,
      MaxResults: 50,
    });
    expect(gate.keys).toEqual(['lookup-events:us-east-1']);
    expect(evidence).toMatchObject({ source: 'event-history', complete: true, apiCalls: 1 });
    expect(evidence.calls.map((call) => [call.eventName, call.errorCode])).toEqual([
      ['ListAccessKeys', undefined],
      ['ListUsers', 'AccessDenied'],
    ]);
    expect(evidence.unavailable).toBeUndefined();
  });

  test('follows NextToken with the same window until the last page, when the pace says the window fits', async () => {
    // Prepare: the fixture page (with a token) reaches back 3.75 of 12 hours; then a last page
    const halfDay = { ...query, from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-20T12:00:00Z') };
    cloudtrail
      .on(LookupEventsCommand)
      .resolvesOnce(lookupEventsPage())
      .resolves({ Events: [syntheticEvent('older-1', new Date('2026-11-20T02:00:00Z'))] });
    const gate = recordingGate();

    // Act
    const evidence = await eventHistorySource({ clientFor, gate, clock }).read(halfDay, budget);

    // Assess
    const inputs = cloudtrail.commandCalls(LookupEventsCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => input.NextToken)).toEqual([undefined, lookupEventsPage().NextToken]);
    expect(inputs[1]).toMatchObject({ StartTime: halfDay.from, EndTime: halfDay.to });
    expect(gate.keys).toHaveLength(2);
    expect(evidence).toMatchObject({ complete: true, apiCalls: 2 });
    expect(evidence.calls.map((call) => call.eventId)).toEqual([
      'older-1',
      '5a0e3c62-7b1f-4d2e-8c9a-1e2f3a4b5c6d',
      '2d3e4f5a-6b7c-48d9-9eaf-b0c1d2e3f4a5',
    ]);
  });

  test('says what event history cannot see: data events, other regions, beyond 90 days, unauthenticated calls, sessions', async () => {
    // Prepare: a window that starts 100 days ago
    cloudtrail.on(LookupEventsCommand).resolves({ Events: [] });
    const old = { ...query, from: new Date(NOW.getTime() - 100 * DAY_MS), regions: ['us-east-1', 'eu-west-1'] };

    // Act
    const evidence = await eventHistorySource({ clientFor, gate: recordingGate(), clock }).read(old, budget);

    // Assess
    expect(evidence.blindSpots).toEqual(
      expect.arrayContaining([
        MANAGEMENT_ONLY_BLIND_SPOT,
        expect.stringMatching(/^only the regions read \(us-east-1, eu-west-1\).*global services log in us-east-1/),
        expect.stringMatching(/^only the last 90 days: calls before 2026-08-23T12:00:00.000Z/),
        expect.stringMatching(/never logged.*deactivated key/),
        expect.stringMatching(/ASIA key id/),
      ]),
    );
    expect(MANAGEMENT_ONLY_BLIND_SPOT).toMatch(/S3 GetObject.*CLOUDTRAIL_LOG_GROUP/);
    expect(evidence.blindSpots.join('\n')).not.toMatch(/last 15 minutes/);
  });

  test('a window that reaches into the last 15 minutes warns that CloudTrail may not have delivered them yet', async () => {
    // Prepare
    cloudtrail.on(LookupEventsCommand).resolves({ Events: [] });

    // Act
    const evidence = await eventHistorySource({ clientFor, gate: recordingGate(), clock }).read({ ...query, to: NOW }, budget);

    // Assess
    expect(evidence.blindSpots).toContainEqual(expect.stringMatching(/last 15 minutes may be missing/));
  });

  test('reads each region with its own client and gate key', async () => {
    // Prepare
    cloudtrail.on(LookupEventsCommand).resolves({ Events: [] });
    const gate = recordingGate();

    // Act
    await eventHistorySource({ clientFor, gate, clock }).read({ ...query, regions: ['us-east-1', 'eu-west-1', 'us-east-1'] }, budget);

    // Assess
    const regions = await Promise.all(cloudtrail.commandCalls(LookupEventsCommand).map(regionOf));
    expect(regions.sort()).toEqual(['eu-west-1', 'us-east-1']);
    expect(gate.keys.sort()).toEqual(['lookup-events:eu-west-1', 'lookup-events:us-east-1']);
  });

  test('AccessDenied makes the source unavailable, naming cloudtrail:LookupEvents, and does not throw', async () => {
    // Prepare
    cloudtrail.on(LookupEventsCommand).rejects(denied());

    // Act
    const evidence = await eventHistorySource({ clientFor, gate: recordingGate(), clock }).read(query, budget);

    // Assess
    expect(evidence).toMatchObject({
      complete: false,
      calls: [],
      unavailable: { errorName: 'AccessDeniedException', message: expect.stringMatching(/cloudtrail:LookupEvents/) },
    });
    expect(evidence.unavailable?.message).not.toMatch(/not authorized/);
  });

  test('one region denied, another read: the calls of the one, the denial of the other as a blind spot', async () => {
    // Prepare
    byRegion({
      'us-east-1': () => ({ ...lookupEventsPage(), NextToken: undefined }),
      'eu-west-1': () => {
        throw denied();
      },
    });

    // Act
    const evidence = await eventHistorySource({ clientFor, gate: recordingGate(), clock }).read(
      { ...query, regions: ['us-east-1', 'eu-west-1'] },
      budget,
    );

    // Assess
    expect(evidence.unavailable).toBeUndefined();
    expect(evidence.complete).toBe(false);
    expect(evidence.calls).toHaveLength(2);
    expect(evidence.blindSpots).toContainEqual(
      expect.stringMatching(/^LookupEvents in eu-west-1 was refused \(AccessDeniedException\).*SCP/),
    );
  });

  test('throttled beyond the SDK’s retries after a page: stops, keeps that page, marks the read incomplete and says so', async () => {
    // Prepare
    cloudtrail.on(LookupEventsCommand).resolvesOnce(lookupEventsPage()).rejects(throttled());

    // Act
    const evidence = await eventHistorySource({ clientFor, gate: recordingGate(), clock }).read(query, budget);

    // Assess
    expect(cloudtrail).toHaveReceivedCommandTimes(LookupEventsCommand, 2);
    expect(evidence).toMatchObject({ complete: false, apiCalls: 2 });
    expect(evidence.calls).toHaveLength(2);
    expect(evidence.unavailable).toBeUndefined();
    expect(evidence.blindSpots).toContainEqual(
      expect.stringMatching(/^LookupEvents in us-east-1 was throttled \(ThrottlingException\) after 1 calls/),
    );
  });

  test('throttled from the first call: unavailable, as ThrottlingException', async () => {
    // Prepare
    cloudtrail.on(LookupEventsCommand).rejects(throttled());

    // Act
    const evidence = await eventHistorySource({ clientFor, gate: recordingGate(), clock }).read(query, budget);

    // Assess
    expect(evidence.unavailable).toEqual({ errorName: 'ThrottlingException', message: expect.stringMatching(/read again later/) });
  });

  test('a request CloudTrail calls malformed is a bug, and is thrown', async () => {
    // Prepare
    cloudtrail.on(LookupEventsCommand).rejects(new InvalidLookupAttributesException({ message: 'bad attribute', $metadata: {} }));

    // Act & Assess
    await expect(eventHistorySource({ clientFor, gate: recordingGate(), clock }).read(query, budget)).rejects.toThrow(
      InvalidLookupAttributesException,
    );
  });

  test('a record of another key, or one that cannot be read, is not a call of this key', async () => {
    // Prepare
    const broken = { ...cloudTrailRecord('iam-user-awscli'), eventID: undefined };
    cloudtrail.on(LookupEventsCommand).resolves({
      Events: [
        syntheticEvent('other-key', new Date('2026-11-19T08:00:00Z'), 'AKIAI44QH8DHBEXAMPLE'),
        { EventId: 'broken', EventTime: new Date('2026-11-19T09:00:00Z'), CloudTrailEvent: JSON.stringify(broken) },
        syntheticEvent('ours', new Date('2026-11-19T10:00:00Z')),
      ],
    });

    // Act
    const evidence = await eventHistorySource({ clientFor, gate: recordingGate(), clock }).read(query, budget);

    // Assess
    expect(evidence.calls.map((call) => call.eventId)).toEqual(['ours']);
    expect(evidence.blindSpots).toContainEqual('1 records could not be read (not JSON, or no eventID or eventTime)');
  });

  test('a chatty key in two regions never costs more than the budget, and a quiet region leaves its share to the busy one', async () => {
    // Prepare: us-east-1 has 10,000 calls an hour, eu-west-1 three calls in the window
    const busy = new SyntheticTrail(FIXTURE_KEY, [
      { sourceIp: '198.51.100.1', userAgent: 'busy', periodMs: 360, phaseMs: query.from.getTime() },
    ]);
    const quiet = new SyntheticTrail(FIXTURE_KEY, [
      { sourceIp: '198.51.100.2', userAgent: 'quiet', periodMs: 4 * DAY_MS, phaseMs: query.from.getTime() },
    ]);
    byRegion({ 'us-east-1': (input) => busy.lookupEvents(input), 'eu-west-1': (input) => quiet.lookupEvents(input) });

    // Act
    const evidence = await eventHistorySource({ clientFor, gate: recordingGate(), clock, random: () => 0.5 }).read(
      { ...query, regions: ['us-east-1', 'eu-west-1'] },
      budget,
    );

    // Assess
    expect(busy.lookupCalls + quiet.lookupCalls).toBe(20);
    expect(quiet.lookupCalls).toBe(1);
    expect(evidence).toMatchObject({ apiCalls: 20, complete: false });
    expect(evidence.calls.filter((call) => call.userAgent === 'quiet')).toHaveLength(4);
    expect(evidence.blindSpots).toContainEqual(expect.stringMatching(/^us-east-1: the budget did not cover the window, so 19 pages/));
  });

  test('a region whose first page misjudges the pace (quiet now, busy a week ago) still has the whole budget', async () => {
    // Prepare: an hourly consumer throughout, and one every 5 minutes during the first week only
    const from = query.from.getTime();
    const trail = new SyntheticTrail(FIXTURE_KEY, [
      { sourceIp: '198.51.100.1', userAgent: 'hourly', periodMs: 3_600_000, phaseMs: from },
      { sourceIp: '198.51.100.2', userAgent: 'early-busy', periodMs: 300_000, phaseMs: from, untilMs: from + 7 * DAY_MS },
    ]);
    cloudtrail.on(LookupEventsCommand).callsFake((input: LookupEventsCommandInput) => trail.lookupEvents(input));

    // Act
    const evidence = await eventHistorySource({ clientFor, gate: recordingGate(), clock, random: () => 0.5 }).read(query, budget);

    // Assess
    expect(trail.lookupCalls).toBe(20);
    expect(evidence).toMatchObject({ apiCalls: 20, complete: false });
    expect(new Set(evidence.calls.map((call) => call.userAgent))).toEqual(new Set(['hourly', 'early-busy']));
  });

  test('a budget smaller than the regions reads the first ones and names the others', async () => {
    // Prepare
    cloudtrail.on(LookupEventsCommand).resolves({ Events: [] });

    // Act
    const evidence = await eventHistorySource({ clientFor, gate: recordingGate(), clock }).read(
      { ...query, regions: ['us-east-1', 'eu-west-1', 'ap-south-1'] },
      { maxApiCalls: 1 },
    );

    // Assess
    expect(cloudtrail).toHaveReceivedCommandTimes(LookupEventsCommand, 1);
    expect(evidence.complete).toBe(false);
    expect(evidence.blindSpots).toContainEqual('not read, the budget ran out before them: eu-west-1, ap-south-1');
  });

  test.each([
    ['no region', { ...query, regions: [] }, /at least one region/],
    ['a window that ends before it starts', { ...query, from: query.to, to: query.from }, /starts after it ends/],
  ])('%s is refused before any call', async (_, bad, message) => {
    // Act & Assess
    await expect(eventHistorySource({ clientFor, gate: recordingGate(), clock }).read(bad, budget)).rejects.toMatchObject({
      name: 'InvalidInputError',
      message: expect.stringMatching(message),
    });
    expect(cloudtrail).toHaveReceivedCommandTimes(LookupEventsCommand, 0);
  });
});
