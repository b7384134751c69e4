import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, TagUserCommand } from '@aws-sdk/client-iam';
import {
  CreateTopicCommand,
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTopicsCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { resetMoto } from '#local/moto.ts';
import { publishedNotifications } from '#local/moto-inspect.ts';
import { LOCAL_TOPIC_NAME } from '#local/runner.ts';
import { main } from '../../../cli/main.ts';
import type { Output } from '../../../local/terminal.ts';

const endpoint = process.env.AWS_ENDPOINT_URL ?? '';
const sns = new SNSClient({});
const iam = new IAMClient({});
const saved = { ...process.env };

function capture(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text) };
}

const cli = (output: Output, ...args: string[]) => main(['node', 'iam-key-rotator', ...args], output);

async function subscriptions(topicArn: string): Promise<{ endpoint: string; attributes: Record<string, string> }[]> {
  const listed = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
  return Promise.all(
    (listed.Subscriptions ?? []).map(async (subscription) => ({
      endpoint: subscription.Endpoint ?? '',
      attributes:
        (await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscription.SubscriptionArn ?? '' }))).Attributes ?? {},
    })),
  );
}

beforeEach(async () => {
  await resetMoto(endpoint);
  delete process.env.NOTIFICATION_TOPIC_ARN;
  delete process.env.NOTIFICATION_LEDGER_TABLE;
});

afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
});

describe('iam-key-rotator subscribe', () => {
  test('--owner and --events become a filter policy on message attributes; it says a confirmation email is on its way', async () => {
    // Prepare
    const output = capture();

    // Act
    const code = await cli(
      output,
      'subscribe',
      'alice@example.com',
      '--owner',
      'alice@example.com',
      '--events',
      'action-needed,rotation-failed',
      '--local',
    );

    // Assess
    expect(code).toBe(0);
    const topicArn = `arn:aws:sns:us-east-1:123456789012:${LOCAL_TOPIC_NAME}`;
    const [subscription, ...others] = await subscriptions(topicArn);
    expect(others).toEqual([]);
    expect(subscription?.endpoint).toBe('alice@example.com');
    expect(subscription?.attributes).toMatchObject({ Protocol: 'email', FilterPolicyScope: 'MessageAttributes' });
    expect(JSON.parse(subscription?.attributes.FilterPolicy ?? '{}')).toEqual({
      owner: ['alice@example.com'],
      event: ['action-needed', 'rotation-failed'],
    });
    const text = output.stdout.join('\n');
    expect(text).toContain(
      `Subscribed alice@example.com to ${topicArn} (keys owned by alice@example.com, events action-needed, rotation-failed).`,
    );
    expect(text).toContain('AWS sends alice@example.com a confirmation email');
  });

  test("--stage finds the deployed stack's topic in this account and region, and refuses a stage that was never deployed", async () => {
    // Prepare
    const missing = capture();

    // Act & Assess: subscribe to a stage never deployed, then create its topic and subscribe again.
    expect(await cli(missing, 'subscribe', 'ops@example.com', '--stage', 'prod')).toBe(2);
    expect(missing.stderr.join('\n')).toContain('deploy stage prod first (npx osls deploy --stage prod)');

    const topicArn = (await sns.send(new CreateTopicCommand({ Name: 'iam-key-rotator-prod-notifications' }))).TopicArn ?? '';
    const output = capture();
    expect(await cli(output, 'subscribe', 'ops@example.com', '--stage', 'prod', '--json')).toBe(0);

    expect(JSON.parse(output.stdout.join('\n'))).toMatchObject({ topicArn, endpoint: 'ops@example.com', filterPolicy: {} });
    const [subscription] = await subscriptions(topicArn);
    expect(subscription?.attributes.FilterPolicy).toBeUndefined();
  });

  test('an unknown event name is bad usage that lists the real ones, and subscribes nothing', async () => {
    // Prepare
    const output = capture();

    // Act & Assess
    expect(await cli(output, 'subscribe', 'alice@example.com', '--events', 'rotation-done', '--local')).toBe(2);

    expect(output.stderr.join('\n')).toMatch(/unknown event rotation-done\. Events: rotation-warning, unused-key, .*compromise-contained/);
    // Checked before any AWS call: not even the local topic was created.
    expect((await sns.send(new ListTopicsCommand({}))).Topics).toEqual([]);
  });

  test('without a topic it asks which one', async () => {
    // Prepare
    const output = capture();

    // Act & Assess
    expect(await cli(output, 'subscribe', 'alice@example.com')).toBe(2);
    expect(output.stderr.join('\n')).toContain('Which topic? Pass --stage <stage>');
  });
});

describe('iam-key-rotator scan and notifications', () => {
  async function userDueSoon(): Promise<void> {
    await iam.send(new CreateUserCommand({ UserName: 'soon' }));
    await iam.send(new TagUserCommand({ UserName: 'soon', Tags: [{ Key: 'rotation:owner', Value: 'soon@example.com' }] }));
    await iam.send(new CreateAccessKeyCommand({ UserName: 'soon' }));
  }

  test('a dry run (--as-of) lists the warning but notifies no one', async () => {
    // Prepare: a key due soon by --as-of, a topic, and a ledger table that does not exist.
    await userDueSoon();
    process.env.NOTIFICATION_TOPIC_ARN = (await sns.send(new CreateTopicCommand({ Name: LOCAL_TOPIC_NAME }))).TopicArn ?? '';
    process.env.NOTIFICATION_LEDGER_TABLE = 'never-created';
    // The never-used key must read as due soon, not unused.
    process.env.UNUSED_AFTER_DAYS = '365';
    const asOf = new Date(Date.now() + 80 * 86_400_000).toISOString().slice(0, 10);
    const output = capture();

    // Act & Assess
    expect(await cli(output, 'scan', '--as-of', asOf, '--json')).toBe(0);

    expect((JSON.parse(output.stdout.join('\n')) as { class: string }[]).map((row) => row.class)).toEqual(['warn']);
    expect(await publishedNotifications(endpoint)).toEqual([]);
  });

  test('a topic without a ledger table is refused before anything is scanned', async () => {
    // Prepare: a topic and no ledger table.
    process.env.NOTIFICATION_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:t';
    const output = capture();

    // Act & Assess
    expect(await cli(output, 'scan', '--dry-run')).toBe(2);

    expect(output.stderr.join('\n')).toContain('NOTIFICATION_TOPIC_ARN is set but NOTIFICATION_LEDGER_TABLE is empty');
  });
});
