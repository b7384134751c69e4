import { describe, expect, test } from '@jest/globals';
import { NOTIFICATION_EVENTS, QUIET_EVENTS, type NotificationEvent } from '#shared/config/notification-events.ts';
import { buildNotification, route, type NotificationFacts, type Routing } from '#shared/notify/messages.ts';
import { deployedAccountId } from '#shared/aws/deployed-account.ts';

const facts = (overrides: Partial<NotificationFacts> = {}): NotificationFacts => ({
  event: 'new-key-ready',
  userName: 'billing-export',
  owner: 'alice@example.com',
  accountId: '123456789012',
  region: 'eu-west-1',
  oldAccessKeyId: 'AKIAOLD0000000000001',
  newAccessKeyId: 'AKIANEW0000000000002',
  secretName: 'iam-key-rotator/billing-export',
  ...overrides,
});

describe('buildNotification', () => {
  test.each(NOTIFICATION_EVENTS)('%s: subject is one ASCII line under 100 characters, attributes are complete', (event) => {
    // Act
    const message = buildNotification(facts({ event, userName: `u${'x'.repeat(63)}` }));

    // Assess
    expect(message.subject.length).toBeLessThan(100);
    expect(message.subject).toMatch(/^[\x20-\x7e]+$/);
    expect(Object.keys(message.attributes).sort()).toEqual(['accountId', 'event', 'owner', 'region', 'severity', 'userName']);
    expect(message.attributes.event?.StringValue).toBe(event);
    const body = JSON.parse(message.message) as { default: string; email: string };
    expect(body.email).toMatch(/What to do:/);
    const compact = JSON.parse(body.default) as { version: string; source: string; metadata: { event: string } };
    expect(compact).toMatchObject({ version: '1.0', source: 'custom', metadata: { event } });
  });

  test.each([
    ['the old key back in AWSCURRENT', 'AKIAOLD0000000000001', 'is Active and AWSCURRENT again'],
    [
      'AWSCURRENT kept on the new key (no version ever held the old one)',
      'AKIANEW0000000000002',
      'keeps AKIANEW0000000000002 as AWSCURRENT',
    ],
  ])('rolled-back says where AWSCURRENT is: %s', (_name, currentKeyId, says) => {
    // Act
    const body = JSON.parse(buildNotification(facts({ event: 'rolled-back', currentKeyId, reason: 'a consumer went silent' })).message) as {
      email: string;
    };

    // Assess
    expect(body.email).toContain(says);
  });

  test.each([
    ['rotation-failed', undefined],
    ['rolled-back', 'AKIAOLD0000000000001'],
    ['action-needed', undefined],
  ] as const)(
    '%s gives the command that starts the rotation again, naming the key and, for a member account, the account',
    (event, currentKeyId) => {
      // Act
      const own = JSON.parse(buildNotification(facts({ event, currentKeyId })).message) as { email: string };
      const member = JSON.parse(
        buildNotification(facts({ event, currentKeyId, accountId: '111111111111', rotatorAccountId: '123456789012' })).message,
      ) as { email: string };

      // Assess
      expect(own.email).toContain('iam-key-rotator rotate billing-export --key AKIAOLD0000000000001.');
      expect(member.email).toContain('iam-key-rotator rotate billing-export --key AKIAOLD0000000000001 --account 111111111111.');
      expect(own.email).not.toContain('<user>');
    },
  );

  test('the stragglers of action-needed are listed one per line, with address, tool, calls and last seen', () => {
    // Act
    const message = buildNotification(
      facts({
        event: 'action-needed',
        consumers: {
          heading: 'Still on the old key (from CloudTrail)',
          consumers: [{ source: '198.51.100.7', agent: 'aws-cli/2', calls: ['s3:GetObject'], lastSeen: '2026-06-01T12:00:00.000Z' }],
          more: 0,
        },
      }),
    );

    // Assess
    const body = JSON.parse(message.message) as { email: string; default: string };
    expect(body.email).toContain(
      'Still on the old key (from CloudTrail):\n- 198.51.100.7 (aws-cli/2) calling s3:GetObject, last seen 2026-06-01T12:00:00.000Z',
    );
    expect(JSON.parse(body.default)).toMatchObject({ metadata: { consumers: { consumers: [{ source: '198.51.100.7' }] } } });
  });

  test('a compromise is critical', () => {
    // Act & Assess
    expect(buildNotification(facts({ event: 'compromise-contained' })).attributes.severity?.StringValue).toBe('critical');
  });

  test('the new-key message names the secret and its ARN, never a value', () => {
    // Act
    const message = buildNotification(
      facts({ secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:iam-key-rotator/billing-export-AbCdEf' }),
    );

    // Assess
    const email = (JSON.parse(message.message) as { email: string }).email;
    expect(email).toContain('iam-key-rotator/billing-export');
    expect(email).toContain('secret:iam-key-rotator/billing-export-AbCdEf');
    expect(email).not.toMatch(/SecretAccessKey/);
  });

  test('a user without an owner is flagged for operations, never dropped', () => {
    // Act
    const message = buildNotification(facts({ owner: undefined }));

    // Assess
    expect(message.subject.startsWith('[owner unknown]')).toBe(true);
    expect(message.attributes.owner?.StringValue).toBe('unknown');
    expect((JSON.parse(message.message) as { email: string }).email).toMatch(/no rotation:owner, owner or email tag/);
  });
});

describe('buildNotification for a member account (organization-wide rotation)', () => {
  test('subject, body and attributes name the member account and its name; the body says which stack acted', () => {
    // Act
    const message = buildNotification(facts({ accountId: '111111111111', accountName: 'payments-prod', rotatorAccountId: '123456789012' }));

    // Assess
    expect(message.subject).toBe('[payments-prod 111111111111] New access key ready for billing-export');
    expect(message.attributes.accountId?.StringValue).toBe('111111111111');
    expect(message.attributes.accountName?.StringValue).toBe('payments-prod');
    const body = JSON.parse(message.message) as { default: string; email: string };
    expect(body.email).toContain('Account 111111111111 (payments-prod), region eu-west-1');
    expect(body.email).toContain('stack in account 123456789012');
    expect((JSON.parse(body.default) as { metadata: { accountId: string; accountName: string } }).metadata).toMatchObject({
      accountId: '111111111111',
      accountName: 'payments-prod',
    });
  });

  test('without a name the subject names the id; still one line under 100 characters', () => {
    // Act
    const message = buildNotification(
      facts({ owner: undefined, userName: `u${'x'.repeat(63)}`, accountId: '111111111111', rotatorAccountId: '123456789012' }),
    );

    // Assess
    expect(message.subject.startsWith('[owner unknown] [111111111111] ')).toBe(true);
    expect(message.subject.length).toBeLessThan(100);
    expect(message.attributes.accountName).toBeUndefined();
  });

  test("the stack's own account keeps the single-account subject", () => {
    // Act & Assess
    expect(buildNotification(facts({ rotatorAccountId: '123456789012' })).subject).toBe('New access key ready for billing-export');
  });
});

describe('buildNotification for operations and scan notices', () => {
  test('without an owner tag the owner attribute is the operations address, so its subscription matches, and the subject is flagged', () => {
    // Act
    const message = buildNotification(facts({ owner: undefined, operationsOwner: 'ops@example.com' }));

    // Assess
    expect(message.attributes.owner?.StringValue).toBe('ops@example.com');
    expect(message.subject).toMatch(/^\[owner unknown\] /);
    expect(
      (JSON.parse((JSON.parse(message.message) as { default: string }).default) as { metadata: { ownerKnown: boolean } }).metadata
        .ownerKnown,
    ).toBe(false);
  });

  test('a known owner wins over the operations address', () => {
    // Act & Assess
    expect(buildNotification(facts({ operationsOwner: 'ops@example.com' })).attributes.owner?.StringValue).toBe('alice@example.com');
  });

  test('a warning says when the rotation starts and how to hold it back', () => {
    // Act
    const email = (
      JSON.parse(buildNotification(facts({ event: 'rotation-warning', nextStepAt: '2026-09-01' })).message) as { email: string }
    ).email;

    // Assess
    expect(email).toContain('Next step: The rotation starts with the first daily scan on or after 2026-09-01.');
    expect(email).toContain('rotation:exempt-until');
  });

  test('an unused key the scan deactivated says so and how to undo it', () => {
    // Act
    const message = buildNotification(facts({ event: 'unused-key', keyDeactivated: true, reason: 'never used in 50 days' }));

    // Assess
    expect(message.subject).toBe('Deactivated unused access key of billing-export');
    expect((JSON.parse(message.message) as { email: string }).email).toContain('--status Active');
  });
});

describe('route', () => {
  const routing = (overrides: Partial<Routing> = {}): Routing => ({ notifyEvents: [], notificationsQuiet: false, ...overrides });
  test.each<[string, NotificationEvent, Partial<Routing>, boolean]>([
    ['everything by default', 'rotation-completed', {}, true],
    ['quiet mode holds back info', 'rotation-started', { notificationsQuiet: true }, false],
    ['quiet mode holds back the scan warnings', 'rotation-warning', { notificationsQuiet: true }, false],
    ['quiet mode lets action-needed out', 'action-needed', { notificationsQuiet: true }, true],
    ['quiet mode lets failures out', 'rotation-failed', { notificationsQuiet: true }, true],
    ['NOTIFY_EVENTS holds back what it does not list', 'unused-key', { notifyEvents: ['rotation-warning'] }, false],
    ['NOTIFY_EVENTS lets its events out', 'rotation-warning', { notifyEvents: ['rotation-warning'] }, true],
    ['both: an event must pass both', 'rotation-warning', { notifyEvents: ['rotation-warning'], notificationsQuiet: true }, false],
    ['a contained compromise always goes out', 'compromise-contained', { notifyEvents: ['unused-key'], notificationsQuiet: true }, true],
  ])('%s', (_name, event, overrides, send) => {
    // Act & Assess
    expect(route(event, routing(overrides)).send).toBe(send);
  });

  test('quiet events are exactly action-needed, failures (of a rotation or of accounts an organization scan could not reach) and compromise', () => {
    // Assess
    expect([...QUIET_EVENTS].sort()).toEqual(['accounts-unreachable', 'action-needed', 'compromise-contained', 'rotation-failed']);
  });
});

describe('deployedAccountId', () => {
  test('reads the account id the stack writes to ROTATOR_ACCOUNT_ID, without calling STS', async () => {
    // Act & Assess
    await expect(deployedAccountId({ ROTATOR_ACCOUNT_ID: '123456789012' })()).resolves.toBe('123456789012');
  });

  test.each([undefined, '', '12345', 'arn:aws:iam::123456789012:root'])(
    'a missing or malformed id (%p) is a ConfigError naming the variable',
    async (value) => {
      // Act & Assess
      await expect(deployedAccountId({ ROTATOR_ACCOUNT_ID: value })()).rejects.toMatchObject({
        name: 'ConfigError',
        message: expect.stringContaining('ROTATOR_ACCOUNT_ID'),
      });
    },
  );
});

describe('tags that weaken a default', () => {
  test('are listed in the email and the compact body, each with its value and the account default', () => {
    // Prepare
    const weakened = [
      { tag: 'rotation:max-age-days', value: '180', default: '90' },
      { tag: 'rotation:observation', value: '1h', default: '7d' },
    ];

    // Act
    const message = buildNotification(facts({ event: 'rotation-started', weakened }));

    // Assess
    const body = JSON.parse(message.message) as { default: string; email: string };
    expect(body.email).toContain(
      "Tags on this user weaken the account's defaults (anyone who may tag the user can set them): " +
        'rotation:max-age-days=180 (account default: 90); rotation:observation=1h (account default: 7d).',
    );
    expect((JSON.parse(body.default) as { metadata: { weakened?: unknown } }).metadata.weakened).toEqual(weakened);
  });

  test('none: no such line', () => {
    // Act
    const body = JSON.parse(buildNotification(facts({ event: 'rotation-started', weakened: [] })).message) as { email: string };

    // Assess
    expect(body.email).not.toContain('weaken');
  });
});
