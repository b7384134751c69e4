import { describe, expect, test } from '@jest/globals';
import { isSelfRefreshPolicy, selfRefreshPolicy, selfRefreshReader } from '#shared/rotation/self-refresh-policy.ts';
import { bindingProblems, readGrants, type BindingRule } from '#shared/rotation/secret-binding.ts';

const USER = 'arn:aws:iam::123456789012:user/apps/billing-export';
const FENCED = { sourceCidrs: ['203.0.113.0/24'], sourceVpces: ['vpce-0a1b2c3d4e5f67890'] };
const text = (document: unknown): string => JSON.stringify(document);

describe('the self-refresh policy', () => {
  test('one user, GetSecretValue only, one statement per kind of fence (a request through an endpoint has no public address)', () => {
    // Act
    const policy = selfRefreshPolicy(USER, FENCED);

    // Assess
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Principal: { AWS: USER },
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
        Condition: { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24'] } },
      }),
      expect.objectContaining({ Principal: { AWS: USER }, Condition: { StringEquals: { 'aws:SourceVpce': ['vpce-0a1b2c3d4e5f67890'] } } }),
    ]);
    expect(selfRefreshPolicy(USER, { sourceCidrs: [], sourceVpces: [] }).Statement).toEqual([
      expect.not.objectContaining({ Condition: expect.anything() }),
    ]);
  });

  test('recognised by its shape and its one user, whatever the fence; any other grant is not one', () => {
    // Prepare
    const ours = text(selfRefreshPolicy(USER, FENCED));
    const widened = text({
      Version: '2012-10-17',
      Statement: [{ ...selfRefreshPolicy(USER, FENCED).Statement[0], Action: 'secretsmanager:*' }],
    });
    const twoUsers = text({
      Version: '2012-10-17',
      Statement: [
        ...selfRefreshPolicy(USER, FENCED).Statement,
        ...selfRefreshPolicy('arn:aws:iam::123456789012:user/other', FENCED).Statement,
      ],
    });
    const anyone = text({
      Version: '2012-10-17',
      Statement: [{ ...selfRefreshPolicy(USER, FENCED).Statement[0], Principal: { AWS: '*' } }],
    });

    // Act & Assess
    expect(selfRefreshReader(ours)).toBe(USER);
    expect(isSelfRefreshPolicy(ours, USER, FENCED)).toBe(true);
    expect(isSelfRefreshPolicy(ours, USER, { sourceCidrs: ['203.0.113.0/24'], sourceVpces: [] })).toBe(false);
    for (const other of [widened, twoUsers, anyone, 'not json']) expect(selfRefreshReader(other)).toBeUndefined();
  });
});

describe('the binding check with self-refresh', () => {
  const rule: BindingRule = {
    userName: 'billing-export',
    secretName: 'iam-key-rotator/billing-export',
    defaultName: 'iam-key-rotator/billing-export',
    expectedKmsKeyId: '',
    userArn: USER,
  };
  const facts = (resourcePolicy: string) => ({ exists: true, tags: new Map<string, string>(), kmsKeyId: undefined, resourcePolicy });

  test('its own policy passes only when SELF_REFRESH_USERS lists the user; unlisted, the refusal says how to remove it or list it', () => {
    // Act
    const listed = bindingProblems(facts(text(selfRefreshPolicy(USER, FENCED))), { ...rule, selfRefresh: true });
    const unlisted = bindingProblems(facts(text(selfRefreshPolicy(USER, FENCED))), rule);

    // Assess
    expect(listed).toEqual([]);
    expect(unlisted).toEqual([
      expect.objectContaining({
        kind: 'readable-by-others',
        fix: expect.stringContaining('delete-resource-policy --secret-id iam-key-rotator/billing-export'),
      }),
    ]);
    expect(unlisted[0]?.fix).toContain('SELF_REFRESH_USERS');
  });

  test('a self-refresh policy naming another user is a grant to someone else, listed or not', () => {
    // Act
    const problems = bindingProblems(facts(text(selfRefreshPolicy('arn:aws:iam::123456789012:user/intruder', FENCED))), {
      ...rule,
      selfRefresh: true,
    });

    // Assess
    expect(problems.map((problem) => problem.kind)).toEqual(['readable-by-others']);
    expect(readGrants(text(selfRefreshPolicy(USER, FENCED)))).toHaveLength(2);
  });
});
