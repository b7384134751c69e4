import { describe, expect, test } from '@jest/globals';
import { buildNotification, NOTIFICATION_EVENTS, type NotificationFacts } from '#shared/notifications.ts';

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
    const message = buildNotification(facts({ event, userName: `u${'x'.repeat(63)}` }));
    expect(message.subject.length).toBeLessThan(100);
    expect(message.subject).toMatch(/^[\x20-\x7e]+$/);
    expect(Object.keys(message.attributes).sort()).toEqual(['accountId', 'event', 'owner', 'region', 'severity', 'userName']);
    expect(message.attributes.event?.StringValue).toBe(event);
    const body = JSON.parse(message.message) as { default: string; email: string };
    expect(body.email).toMatch(/What to do:/);
    const compact = JSON.parse(body.default) as { version: string; source: string; metadata: { event: string } };
    expect(compact).toMatchObject({ version: '1.0', source: 'custom', metadata: { event } });
  });

  test('a compromise is critical', () => {
    expect(buildNotification(facts({ event: 'compromise-contained' })).attributes.severity?.StringValue).toBe('critical');
  });

  test('the new-key message names the secret and its ARN, never a value', () => {
    const message = buildNotification(facts({ secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:iam-key-rotator/billing-export-AbCdEf' }));
    const email = (JSON.parse(message.message) as { email: string }).email;
    expect(email).toContain('iam-key-rotator/billing-export');
    expect(email).toContain('secret:iam-key-rotator/billing-export-AbCdEf');
    expect(email).not.toMatch(/SecretAccessKey/);
  });

  test('a user without an owner is flagged for operations, never dropped', () => {
    const message = buildNotification(facts({ owner: undefined }));
    expect(message.subject.startsWith('[owner unknown]')).toBe(true);
    expect(message.attributes.owner?.StringValue).toBe('unknown');
    expect((JSON.parse(message.message) as { email: string }).email).toMatch(/no rotation:owner, owner or email tag/);
  });
});
