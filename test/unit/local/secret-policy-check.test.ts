import { describe, expect, test } from '@jest/globals';
import { selfRefreshPolicy } from '#shared/rotation/self-refresh-policy.ts';
import { inCidr, policyAllowsRead } from '#local/secret-policy-check.ts';

const USER = 'arn:aws:iam::123456789012:user/apps/billing-export';
const FENCED = { sourceCidrs: ['203.0.113.0/24'], sourceVpces: ['vpce-0a1b2c3d4e5f67890'] };
const text = (document: unknown): string => JSON.stringify(document);

describe('the local stand-in of the secret’s resource policy', () => {
  test.each([
    ['the user, inside the CIDR', { userArn: USER, sourceIp: '203.0.113.77' }, true],
    ['the user, outside it', { userArn: USER, sourceIp: '198.51.100.1' }, false],
    ['the user, through the endpoint', { userArn: USER, sourceIp: '10.0.0.5', sourceVpce: 'vpce-0a1b2c3d4e5f67890' }, true],
    ['the user, through another endpoint', { userArn: USER, sourceIp: '10.0.0.5', sourceVpce: 'vpce-99999999' }, false],
    [
      'through an endpoint, the public CIDR does not count',
      { userArn: USER, sourceIp: '203.0.113.77', sourceVpce: 'vpce-99999999' },
      false,
    ],
    ['another user, inside the CIDR', { userArn: 'arn:aws:iam::123456789012:user/other', sourceIp: '203.0.113.77' }, false],
  ])('%s', (_case, origin, allowed) => {
    // Act & Assess
    expect(policyAllowsRead(text(selfRefreshPolicy(USER, FENCED)), origin)).toBe(allowed);
  });

  test('no policy, or one of another shape, admits no one; CIDR edges', () => {
    // Act & Assess
    expect(policyAllowsRead(undefined, { userArn: USER, sourceIp: '203.0.113.1' })).toBe(false);
    expect(
      policyAllowsRead(text({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }] }), {
        userArn: USER,
        sourceIp: '203.0.113.1',
      }),
    ).toBe(false);
    expect([
      inCidr('10.255.255.255', '10.0.0.0/8'),
      inCidr('11.0.0.0', '10.0.0.0/8'),
      inCidr('192.0.2.1', '0.0.0.0/0'),
      inCidr('2001:db8::1', '2001:db8::/32'),
    ]).toEqual([true, false, true, false]);
  });
});
