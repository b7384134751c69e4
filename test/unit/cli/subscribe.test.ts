import { describe, expect, test } from '@jest/globals';
import { filterPolicyFor, stackTopicName } from '../../../cli/subscribe.ts';

describe('filterPolicyFor', () => {
  test.each<[string, string | undefined, string | undefined, object]>([
    ['nothing: every message', undefined, undefined, {}],
    ['an owner', 'alice@example.com', undefined, { owner: ['alice@example.com'] }],
    [
      'events, trimmed and deduplicated',
      undefined,
      'action-needed, rotation-failed,action-needed',
      { event: ['action-needed', 'rotation-failed'] },
    ],
    ['both', 'unknown', 'compromise-contained', { owner: ['unknown'], event: ['compromise-contained'] }],
  ])('%s', (_name, owner, events, expected) => {
    // Act & Assess
    expect(filterPolicyFor(owner, events)).toEqual(expected);
  });

  test.each([
    ['an unknown event', undefined, 'rotation-warning,nope', /unknown event nope/],
    ['an empty event list', undefined, ',', /no event given/],
    ['an empty owner', ' ', undefined, /--owner must not be empty/],
  ])('%s is refused', (_name, owner, events, message) => {
    // Act & Assess
    expect(() => filterPolicyFor(owner, events)).toThrow(message);
  });
});

test("the stack's topic name matches serverless.yml", () => {
  // Act & Assess
  expect(stackTopicName('prod')).toBe('iam-key-rotator-prod-notifications');
});
