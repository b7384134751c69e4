import { describe, expect, test } from '@jest/globals';
import { CreateAccessKeyCommand, CreateUserCommand, ListUserPoliciesCommand, TagUserCommand } from '@aws-sdk/client-iam';
import { loadConfig, type Config } from '#shared/config/settings.ts';
import { runRotation, type RotationReport } from '#local/runner.ts';
import { iam, keysOf, notificationsFor, quietLogger, seedSecret, type TestKey } from '../helpers/rotation-fixtures.ts';

/**
 * Exemptions and protected users hold on every path, not only in the scanner: the real workflow,
 * run locally against moto, refuses an exempt user's manual rotation unless the request overrides
 * it explicitly, contains an exempt user's leaked key and says so, and never acts on a protected user.
 */

const FAST = { healthCheckIntervalMs: 50, healthCheckDeadlineMs: 200, observationMs: 50, oldKeyQuietMs: 50 };
const names = (report: RotationReport): string[] => report.states.map((state) => state.name);

async function userWithKey(userName: string, options: { path?: string; tags?: Record<string, string> } = {}): Promise<TestKey> {
  await iam.send(new CreateUserCommand({ UserName: userName, ...(options.path ? { Path: options.path } : {}) }));
  const tags = Object.entries(options.tags ?? {});
  if (tags.length > 0) await iam.send(new TagUserCommand({ UserName: userName, Tags: tags.map(([Key, Value]) => ({ Key, Value })) }));
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  const created = { accessKeyId: key.AccessKey?.AccessKeyId ?? '', secretAccessKey: key.AccessKey?.SecretAccessKey ?? '' };
  await seedSecret(userName, created);
  return created;
}

// Tag exemptions must end within EXEMPTION_MAX_DAYS (90 by default).
const EXEMPT_UNTIL = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
const config = (overrides: Partial<Config>): Config => ({ ...loadConfig({}), ...overrides });
const inlinePolicies = async (userName: string): Promise<string[]> =>
  (await iam.send(new ListUserPoliciesCommand({ UserName: userName }))).PolicyNames ?? [];
const messagesOf = async (userName: string, event: string): Promise<string[]> =>
  (await notificationsFor(userName)).filter((notice) => notice.attributes.event === event).map((notice) => notice.message);

describe('exempt users, on every path', () => {
  test('a manual rotation of a user exempt by tag is refused in Prepare (UserExemptError), naming why and the override; nothing changes', async () => {
    // Prepare
    const key = await userWithKey('vendor-app', {
      tags: { 'rotation:exempt': 'vendor cannot rotate until Q3', 'rotation:exempt-until': EXEMPT_UNTIL },
    });

    // Act
    const report = await runRotation(
      { userName: 'vendor-app', accessKeyId: key.accessKeyId, kind: 'manual', requestedBy: 'test' },
      { logger: quietLogger, durations: FAST },
    );

    // Assess
    expect(report.status).toBe('Failed');
    expect(names(report)).not.toContain('CreateAndStore');
    expect(await keysOf('vendor-app')).toEqual({ [key.accessKeyId]: 'Active' });
    const failed = (await messagesOf('vendor-app', 'rotation-failed')).join('\n');
    expect(failed).toContain('UserExemptError');
    expect(failed).toContain('vendor cannot rotate until Q3');
    expect(failed).toContain('--override-exemption');
  });

  test('a scheduled rotation of a user exempt by EXEMPT_PATHS (a StartExecution past the scanner) is refused too', async () => {
    // Prepare: a user under /legacy/.
    const key = await userWithKey('legacy-batch', { path: '/legacy/' });

    // Act
    const report = await runRotation(
      { userName: 'legacy-batch', accessKeyId: key.accessKeyId, kind: 'scheduled', requestedBy: 'scanner' },
      { logger: quietLogger, durations: FAST, config: config({ exemptPaths: ['/legacy'] }) },
    );

    // Assess
    expect(report.status).toBe('Failed');
    expect(await keysOf('legacy-batch')).toEqual({ [key.accessKeyId]: 'Active' });
    expect((await messagesOf('legacy-batch', 'rotation-failed')).join('\n')).toContain('EXEMPT_PATHS');
  });

  test('with an explicit override the exempt user is rotated, and the notices say it was exempt and why it was overridden', async () => {
    // Prepare: a user exempt by tag.
    const key = await userWithKey('vendor-two', { tags: { 'rotation:exempt': 'vendor contract', 'rotation:exempt-until': EXEMPT_UNTIL } });

    // Act: with an explicit override.
    const report = await runRotation(
      {
        userName: 'vendor-two',
        accessKeyId: key.accessKeyId,
        kind: 'manual',
        requestedBy: 'alice',
        exemptionOverride: 'vendor confirmed the new key works',
      },
      { logger: quietLogger, durations: FAST },
    );

    // Assess
    // Past Prepare, a new key is issued (no consumer uses it here, so the gate ends NeedsAttention: a rotation, not a refusal).
    expect(names(report)).toContain('CreateAndStore');
    expect(report.status).toBe('NeedsAttention');
    expect(report.newAccessKeyId).not.toBeNull();
    const started = (await messagesOf('vendor-two', 'rotation-started')).join('\n');
    expect(started).toContain(`exempt (tagged rotation:exempt until ${EXEMPT_UNTIL} (vendor contract))`);
    expect(started).toContain('exemption overridden: vendor confirmed the new key works');
  });

  test('a leaked key of an exempt user is contained regardless, and the critical notice says the user was exempt', async () => {
    // Prepare: a user under /legacy/.
    const key = await userWithKey('legacy-leak', { path: '/legacy/' });

    // Act
    const report = await runRotation(
      { userName: 'legacy-leak', accessKeyId: key.accessKeyId, kind: 'compromise', requestedBy: 'test', reason: 'found in a paste' },
      { logger: quietLogger, durations: FAST, config: config({ exemptPaths: ['/legacy/'] }) },
    );

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(names(report).slice(0, 3)).toEqual(['IsCompromise', 'Contain', 'NotifyContained']);
    expect(Object.keys(await keysOf('legacy-leak'))).not.toContain(key.accessKeyId);
    const critical = (await messagesOf('legacy-leak', 'compromise-contained')).join('\n');
    expect(critical).toContain('the user is exempt from rotation (IAM path /legacy/ is under exempt path /legacy/ (EXEMPT_PATHS))');
    expect(critical).toContain('contained regardless');
  });
});

describe('protected users: the rotator never acts on them', () => {
  test('a manual rotation of a user in PROTECTED_USERS is refused (UserProtectedError), even with an exemption override', async () => {
    // Prepare
    const key = await userWithKey('break-glass');

    // Act
    const report = await runRotation(
      { userName: 'break-glass', accessKeyId: key.accessKeyId, kind: 'manual', requestedBy: 'test', exemptionOverride: 'just do it' },
      { logger: quietLogger, durations: FAST, config: config({ protectedUsers: ['break-glass'] }) },
    );

    // Assess
    expect(report.status).toBe('Failed');
    expect(names(report)).not.toContain('CreateAndStore');
    expect(await keysOf('break-glass')).toEqual({ [key.accessKeyId]: 'Active' });
    const failed = (await messagesOf('break-glass', 'rotation-failed')).join('\n');
    expect(failed).toContain('UserProtectedError');
    expect(failed).toContain('PROTECTED_USERS');
  });

  test('a compromise of a user under PROTECTED_PATHS is refused in Contain: the key stays Active, no deny policy, no new key', async () => {
    // Prepare: a user under /ops/deploy/.
    const key = await userWithKey('deployer', { path: '/ops/deploy/' });

    // Act
    const report = await runRotation(
      { userName: 'deployer', accessKeyId: key.accessKeyId, kind: 'compromise', requestedBy: 'test', reason: 'drill' },
      { logger: quietLogger, durations: FAST, config: config({ protectedPaths: ['/ops/'] }) },
    );

    // Assess
    expect(report.status).toBe('Failed');
    expect(names(report)).not.toContain('Prepare');
    expect(await keysOf('deployer')).toEqual({ [key.accessKeyId]: 'Active' });
    expect(await inlinePolicies('deployer')).toEqual([]);
    expect((await messagesOf('deployer', 'rotation-failed')).join('\n')).toContain('protected path /ops/ (PROTECTED_PATHS)');
  });

  test('a path entry covers whole segments only: /ops protects /ops/x/ but not /ops-tools/', async () => {
    // Prepare: a user under /ops-tools/.
    const key = await userWithKey('ops-tool', { path: '/ops-tools/' });

    // Act
    const report = await runRotation(
      { userName: 'ops-tool', accessKeyId: key.accessKeyId, kind: 'manual', requestedBy: 'test' },
      { logger: quietLogger, durations: FAST, config: config({ protectedPaths: ['/ops'] }) },
    );

    // Assess
    expect(names(report)).toContain('CreateAndStore');
    expect(report.status).toBe('NeedsAttention');
  });
});
