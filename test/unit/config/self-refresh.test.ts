import { describe, expect, test } from '@jest/globals';
import { parseSelfRefreshUsers, selfRefreshFenceFor } from '#shared/config/self-refresh.ts';
import { loadConfig } from '#shared/config/settings.ts';

describe('SELF_REFRESH_USERS', () => {
  test('entries with an account, fences of both kinds (IPv6 too), separated by spaces or ";"', () => {
    // Act
    const entries = parseSelfRefreshUsers(
      'billing-export:203.0.113.0/24|vpce-0a1b2c3d4e5f67890; 111122223333/reports-sync  ops+bot@corp:2001:db8::/32',
      'SELF_REFRESH_USERS',
    );

    // Assess
    expect(entries).toEqual([
      { accountId: undefined, userName: 'billing-export', sourceCidrs: ['203.0.113.0/24'], sourceVpces: ['vpce-0a1b2c3d4e5f67890'] },
      { accountId: '111122223333', userName: 'reports-sync', sourceCidrs: [], sourceVpces: [] },
      { accountId: undefined, userName: 'ops+bot@corp', sourceCidrs: ['2001:db8::/32'], sourceVpces: [] },
    ]);
  });

  test.each([
    ['a bad fence', 'app:10.0.0.0/33', 'neither a CIDR'],
    ['a word as fence', 'app:office', 'neither a CIDR'],
    ['a short account id', '1234/app', 'not a 12-digit account id'],
    ['a name IAM refuses', 'app!:10.0.0.0/8', 'not an IAM user name'],
    ['the same user twice', 'app app:10.0.0.0/8', 'listed twice'],
  ])('%s is a ConfigError naming the entry and the format', (_case, text, problem) => {
    // Act & Assess
    expect(() => loadConfig({ SELF_REFRESH_USERS: text })).toThrow(
      expect.objectContaining({ name: 'ConfigError', message: expect.stringContaining(problem) }),
    );
    expect(() => loadConfig({ SELF_REFRESH_USERS: text })).toThrow(/\[<account id>\/\]<user name>/);
  });

  test('off by default; an account’s own entry wins over a bare name, which applies in every account', () => {
    // Prepare
    const entries = parseSelfRefreshUsers('app:10.0.0.0/8 111122223333/app:192.0.2.0/24', 'SELF_REFRESH_USERS');

    // Act & Assess
    expect(loadConfig({}).selfRefreshUsers).toEqual([]);
    expect(selfRefreshFenceFor(entries, '111122223333', 'app')?.sourceCidrs).toEqual(['192.0.2.0/24']);
    expect(selfRefreshFenceFor(entries, '444455556666', 'app')?.sourceCidrs).toEqual(['10.0.0.0/8']);
    expect(selfRefreshFenceFor(entries, '111122223333', 'other')).toBeUndefined();
  });
});
