import { beforeEach, describe, expect, test } from '@jest/globals';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CloudWatchLogsClient, FilterLogEventsCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { fixedClock } from '#shared/base/clock.ts';
import { DEFAULT_READ_BUDGET, eventHistorySource, intervalRateGate, readCalls, trailLogGroupSource } from '#shared/aws/cloudtrail.ts';
import { parseCloudTrailRecord } from '#shared/aws/cloudtrail-record.ts';
import type { CallEvidence, CallQuery, CallSource, KeyCall, ReadBudget } from '#shared/aws/key-calls.ts';
import { cloudTrailRecord, FIXTURE_KEY, lookupEventsPage } from '../../helpers/cloudtrail-fixtures.ts';

const clock = fixedClock('2026-11-21T12:00:00Z');
const query: CallQuery = {
  accessKeyId: FIXTURE_KEY,
  from: new Date('2026-11-20T00:00:00Z'),
  to: new Date('2026-11-21T00:00:00Z'),
  regions: ['us-east-1'],
};
const cloudtrail = mockClient(CloudTrailClient);
const logs = mockClient(CloudWatchLogsClient);
const trailClient = new CloudTrailClient({});

const call = (name: Parameters<typeof cloudTrailRecord>[0]): KeyCall => parseCloudTrailRecord(cloudTrailRecord(name)) as KeyCall;

/** A source that answers with fixed calls and remembers the budget it was given. */
function fixedSource(name: CallEvidence['source'], calls: KeyCall[]): CallSource & { budgets: ReadBudget[] } {
  const budgets: ReadBudget[] = [];
  return {
    name,
    budgets,
    read: async (_, budget) => {
      budgets.push(budget);
      return { source: name, calls, complete: true, apiCalls: 1, blindSpots: [] };
    },
  };
}

beforeEach(() => {
  cloudtrail.reset();
  logs.reset();
});

describe('readCalls', () => {
  test('merges the sources’ calls once each, oldest first, and keeps each source’s evidence in order', async () => {
    // Prepare: the same ListAccessKeys record in both sources
    const history = fixedSource('event-history', [call('access-denied'), call('iam-user-awscli')]);
    const trail = fixedSource('trail-log-group', [call('data-event-s3-getobject'), call('iam-user-awscli')]);

    // Act
    const reading = await readCalls([history, trail], query, { maxApiCalls: 7 });

    // Assess
    expect(reading.calls.map((one) => one.eventName)).toEqual(['ListAccessKeys', 'GetObject', 'ListUsers']);
    expect(reading.evidence.map((one) => one.source)).toEqual(['event-history', 'trail-log-group']);
    expect([history.budgets, trail.budgets]).toEqual([[{ maxApiCalls: 7 }], [{ maxApiCalls: 7 }]]);
  });

  test('a source that cannot be read is reported in its evidence and the other’s calls still count', async () => {
    // Prepare: event history answers, the trail's log group does not exist
    cloudtrail.on(LookupEventsCommand).resolves({ ...lookupEventsPage(), NextToken: undefined });
    logs
      .on(FilterLogEventsCommand)
      .rejects(new ResourceNotFoundException({ message: 'The specified log group does not exist.', $metadata: {} }));
    const sources = [
      eventHistorySource({ clientFor: () => trailClient, gate: intervalRateGate(2), clock }),
      trailLogGroupSource({ logs: new CloudWatchLogsClient({}), logGroupName: 'missing-trail-group', clock }),
    ];

    // Act
    const reading = await readCalls(sources, query, DEFAULT_READ_BUDGET);

    // Assess
    expect(reading.calls.map((one) => one.eventName)).toEqual(['ListAccessKeys', 'ListUsers']);
    expect(reading.evidence[0]?.unavailable).toBeUndefined();
    expect(reading.evidence[1]?.unavailable).toMatchObject({ errorName: 'ResourceNotFoundException' });
  });

  test('no sources, no calls', async () => {
    // Act
    const reading = await readCalls([], query, DEFAULT_READ_BUDGET);

    // Assess
    expect(reading).toEqual({ calls: [], evidence: [] });
  });
});
