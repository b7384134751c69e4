import { describe, expect, test } from '@jest/globals';
import { quietVerdict, type QuietFacts } from '#shared/rotation/retirement.ts';
import type { Consumer } from '#shared/consumers/inventory.ts';

const NOW = new Date('2026-12-03T12:00:00Z');
const HOUR = 3_600_000;
const consumer = (lastSeen: string): Consumer => ({
  source: '203.0.113.40',
  agent: 'aws-cli/2',
  key: '203.0.113.40 aws-cli/2',
  firstSeen: '2026-11-01T00:00:00Z',
  lastSeen,
  calls: 40,
  services: ['sts'],
  topCalls: ['sts:GetCallerIdentity'],
  errors: {},
  cadenceMs: HOUR,
  readsSecret: false,
});
const facts = (overrides: Partial<QuietFacts>): QuietFacts => ({
  now: NOW,
  startedAt: new Date(NOW.getTime() - 2 * HOUR).toISOString(),
  quietMs: 24 * HOUR,
  deadline: new Date(NOW.getTime() + 24 * HOUR).toISOString(),
  aborted: false,
  consumers: [],
  deliveryDelayMs: 15 * 60_000,
  lastUsed: undefined,
  precision: { granularityMs: 0, lagMs: 4 * HOUR },
  ...overrides,
});

describe('quietVerdict: has no consumer used the key for the quiet period?', () => {
  test.each([
    ['never used, nothing in CloudTrail: quiet at once', facts({}), 'healthy'],
    ['last used a month ago: quiet', facts({ lastUsed: new Date(NOW.getTime() - 30 * 24 * HOUR) }), 'healthy'],
    ['last used within the quiet period widened by the lag: waiting', facts({ lastUsed: new Date(NOW.getTime() - 26 * HOUR) }), 'waiting'],
    [
      'a consumer in CloudTrail within the quiet period: waiting',
      facts({ consumers: [consumer(new Date(NOW.getTime() - 3 * HOUR).toISOString())] }),
      'waiting',
    ],
    ['a consumer last seen before it: quiet', facts({ consumers: [consumer('2026-11-20T00:00:00Z')] }), 'healthy'],
    [
      'started less than a delivery delay ago: waiting for late records',
      facts({ startedAt: new Date(NOW.getTime() - 60_000).toISOString() }),
      'waiting',
    ],
    [
      'still used past the deadline: overdue, nothing is cut',
      facts({ deadline: '2026-12-03T11:00:00Z', lastUsed: new Date(NOW.getTime() - HOUR) }),
      'overdue',
    ],
    ['an abort wins over quiet', facts({ aborted: true }), 'aborted'],
  ])('%s', (_case, input, status) => {
    // Act & Assess
    expect(quietVerdict(input).status).toBe(status);
  });

  test('without a CloudTrail source it says so and judges by last use alone; the consumers still using the key are named', () => {
    // Act
    const blind = quietVerdict(facts({ consumers: undefined }));
    const used = quietVerdict(facts({ consumers: [consumer(new Date(NOW.getTime() - HOUR).toISOString())] }));

    // Assess
    expect(blind).toMatchObject({ status: 'healthy', detail: expect.stringContaining('no CloudTrail source could be read') });
    expect(used.stillUsing.map((seen) => seen.source)).toEqual(['203.0.113.40']);
    expect(used.detail).toContain('still used within the last');
  });
});
