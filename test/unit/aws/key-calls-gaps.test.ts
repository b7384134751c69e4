import { describe, expect, test } from '@jest/globals';
import { gapsOf, type CallEvidence } from '#shared/aws/key-calls.ts';

const unreadable: CallEvidence = {
  source: 'trail-log-group',
  calls: [],
  complete: false,
  apiCalls: 1,
  blindSpots: [
    'FilterLogEvents on the log group x found nothing to read (ResourceNotFoundException): set CLOUDTRAIL_LOG_GROUP',
    'data events only if the trail logs them',
  ],
  unavailable: {
    errorName: 'ResourceNotFoundException',
    message: 'FilterLogEvents on the log group x found nothing to read (ResourceNotFoundException): set CLOUDTRAIL_LOG_GROUP',
  },
};

describe('gapsOf: what a read could not see', () => {
  test('a source that could not be read is named once, with its source, whatever its blind spots repeat', () => {
    // Act
    const gaps = gapsOf({ calls: [], evidence: [unreadable], deliveryDelayMs: 0 });

    // Assess
    expect(gaps).toEqual([
      'trail-log-group: FilterLogEvents on the log group x found nothing to read (ResourceNotFoundException): set CLOUDTRAIL_LOG_GROUP',
      'data events only if the trail logs them',
    ]);
  });

  test('a source read in part says it sampled, and keeps its blind spots', () => {
    // Act
    const gaps = gapsOf({
      calls: [],
      evidence: [{ source: 'event-history', calls: [], complete: false, apiCalls: 3, blindSpots: ['management events only'] }],
      deliveryDelayMs: 0,
    });

    // Assess
    expect(gaps).toEqual(['event-history: sampled, not every call was read', 'management events only']);
  });
});
