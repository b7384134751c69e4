import { describe, expect, test } from '@jest/globals';
import {
  MEMBER_SESSION_ACTIONS,
  memberSessionOf,
  SESSION_POLICY_MAX_CHARS,
  type MemberFunction,
} from '#shared/aws/member-session-policies.ts';

const FUNCTIONS = Object.keys(MEMBER_SESSION_ACTIONS) as MemberFunction[];

describe('member session policies', () => {
  test.each(FUNCTIONS)('%s: the packed session policy fits the STS quota of 2,048 characters', (fn) => {
    // Act
    const { policy } = memberSessionOf(fn);

    // Assess
    expect(policy).toBe(JSON.stringify(JSON.parse(policy)));
    expect(policy.length).toBeLessThanOrEqual(SESSION_POLICY_MAX_CHARS);
  });

  test.each(FUNCTIONS)('%s: RoleSessionName and SourceIdentity are valid for STS (2 to 64 of [\\w+=,.@-], not aws:)', (fn) => {
    // Act
    const { sessionName, sourceIdentity } = memberSessionOf(fn);

    // Assess
    for (const name of [sessionName, sourceIdentity]) {
      expect(name).toMatch(/^[\w+=,.@-]{2,64}$/);
      expect(name.toLowerCase().startsWith('aws:')).toBe(false);
    }
    expect(sessionName).toContain(fn);
  });

  test('only IAM, Secrets Manager and event-history actions, what the member role grants, and Security Hub only for the two that keep findings; each function’s list without repeats', () => {
    // Assess
    const keepsFindings = new Set<string>(['scanKeys', 'notify']);
    for (const fn of FUNCTIONS) {
      const actions = MEMBER_SESSION_ACTIONS[fn];
      const granted = (action: string) =>
        /^(iam|secretsmanager):[A-Za-z]+$/.test(action) ||
        action === 'cloudtrail:LookupEvents' ||
        (keepsFindings.has(fn) && ['securityhub:BatchImportFindings', 'securityhub:GetFindings'].includes(action));
      expect({ fn, foreign: actions.filter((action) => !granted(action)) }).toEqual({ fn, foreign: [] });
      expect(new Set(actions).size).toBe(actions.length);
    }
  });

  test('notify may read the user and describe the secret, and import a finding; nothing that writes IAM or Secrets Manager', () => {
    // Act & Assess
    expect(memberSessionOf('notify').actions).toEqual(
      new Set(['iam:GetUser', 'iam:ListUserTags', 'secretsmanager:DescribeSecret', 'securityhub:BatchImportFindings']),
    );
  });
});
