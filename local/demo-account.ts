import { CreateAccessKeyCommand, CreateUserCommand, TagUserCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createSecretHolding } from '#shared/rotation/secret.ts';

/** How a demo workload gets its key: it reads the secret before every call, or keeps the key it was first given. */
export type ConsumerBehaviour = 'follows-rotation' | 'never-moves';

/** A workload holding a demo user's key, and where its calls come from as CloudTrail records them. */
export interface DemoConsumer {
  readonly behaviour: ConsumerBehaviour;
  /** Tells it from the other consumers of the same key; default: the user's name. */
  readonly name?: string;
  /** Default: an address of its own (see SimulatedConsumer). */
  readonly sourceIp?: string;
  /** Default: the SDK's own User-Agent. */
  readonly userAgent?: string;
}

const FOLLOWS_ROTATION: readonly DemoConsumer[] = [{ behaviour: 'follows-rotation' }];
const NEVER_MOVES: readonly DemoConsumer[] = [{ behaviour: 'never-moves' }];

export interface DemoUser {
  readonly userName: string;
  readonly owner: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly keys: 1 | 2;
  /** The workloads that use its first key; none for a key nobody uses. */
  readonly consumers: readonly DemoConsumer[];
  /** What the demo expects to happen, shown beside what did happen. */
  readonly story: string;
}

/**
 * The demo looks at the account 100 days from now (moto cannot backdate a key), so every key is
 * 100 days old when scanned. Tags give each user a different policy, which is also how real users
 * tune the rotator per user.
 */
export const DEMO_SCAN_DAYS_AHEAD = 100;

/** A UTC date `days` from now, as a `rotation:exempt-until` tag writes it. */
function daysFromNow(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}
export const DEMO_ENVIRONMENT = { UNUSED_AFTER_DAYS: '120' } as const;

export const DEMO_USERS: readonly DemoUser[] = [
  {
    userName: 'billing-export',
    owner: 'alice@example.com',
    tags: {},
    keys: 1,
    consumers: FOLLOWS_ROTATION,
    story: 'due at 90 days: rotated, consumer follows',
  },
  {
    userName: 'onprem-backup',
    owner: 'bob@example.com',
    tags: {},
    keys: 1,
    consumers: FOLLOWS_ROTATION,
    story: 'due at 90 days: rotated, consumer follows',
  },
  {
    userName: 'saas-analytics',
    owner: 'carol@example.com',
    tags: { 'rotation:max-age-days': '110' },
    keys: 1,
    consumers: FOLLOWS_ROTATION,
    story: 'rotates at 110 days: warned, not rotated yet',
  },
  {
    userName: 'partner-sftp',
    owner: 'dave@example.com',
    // A tag exemption must end within EXEMPTION_MAX_DAYS (90 by default) of the scan: 60 days past the demo's scan date.
    tags: { 'rotation:exempt': 'vendor contract until Q3', 'rotation:exempt-until': daysFromNow(DEMO_SCAN_DAYS_AHEAD + 60) },
    keys: 1,
    consumers: FOLLOWS_ROTATION,
    story: 'exempt by tag: left alone',
  },
  {
    userName: 'legacy-etl',
    owner: 'erin@example.com',
    tags: {},
    keys: 2,
    consumers: FOLLOWS_ROTATION,
    story: 'two Active keys: refused, nothing deleted',
  },
  {
    userName: 'hardcoded-cron',
    owner: 'frank@example.com',
    tags: {},
    keys: 1,
    consumers: NEVER_MOVES,
    story: 'consumer never moves to the new key: needs attention, both keys kept',
  },
  {
    userName: 'forgotten-bot',
    owner: 'grace@example.com',
    tags: { 'rotation:unused-after-days': '60' },
    keys: 1,
    consumers: [],
    story: 'never used: reported as unused, to retire rather than renew',
  },
  {
    userName: 'reports-sync',
    owner: 'heidi@example.com',
    tags: {},
    keys: 1,
    consumers: [
      { name: 'dashboard', behaviour: 'follows-rotation', sourceIp: '198.51.100.7' },
      {
        name: 'nightly-export',
        behaviour: 'never-moves',
        sourceIp: '203.0.113.25',
        userAgent: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64',
      },
    ],
    story:
      'two consumers of one key, nightly-export with it pasted in its config: CloudTrail shows the dashboard move and the export still ' +
      'on the old key, so the consumers-moved gate keeps both keys and ends NeedsAttention naming 203.0.113.25; nothing is cut',
  },
  {
    userName: 'ml-pipeline',
    owner: '',
    tags: { 'rotation:max-age-days': '365' },
    keys: 1,
    consumers: FOLLOWS_ROTATION,
    story: 'within its 365-day window: ok',
  },
];

type SeedClients = { readonly iam: IAMClient; readonly secretsManager: SecretsManagerClient };

/** Creates the demo users, their keys, and for each user a secret holding its first key as AWSCURRENT. */
export async function seedDemoAccount(clients: SeedClients, secretName: (userName: string) => string): Promise<void> {
  await Promise.all(DEMO_USERS.map((user) => seedDemoUser(clients, user, secretName)));
}

/** One demo user in the account `clients` act in: tags, its key(s), and the secret its consumer reads. */
export async function seedDemoUser(clients: SeedClients, user: DemoUser, secretName: (userName: string) => string): Promise<void> {
  const tags = Object.entries(user.tags).map(([Key, Value]) => ({ Key, Value }));
  if (user.owner) tags.push({ Key: 'rotation:owner', Value: user.owner });
  await clients.iam.send(new CreateUserCommand({ UserName: user.userName, Path: '/demo/' }));
  if (tags.length > 0) await clients.iam.send(new TagUserCommand({ UserName: user.userName, Tags: tags }));
  const first = await clients.iam.send(new CreateAccessKeyCommand({ UserName: user.userName }));
  if (user.keys === 2) await clients.iam.send(new CreateAccessKeyCommand({ UserName: user.userName }));
  const key = first.AccessKey;
  if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error(`IAM returned no access key for ${user.userName}`);
  if (user.consumers.length > 0) {
    // As `iam-key-rotator adopt-secret` leaves a secret its operator wrote by hand.
    await createSecretHolding(clients.secretsManager, secretName(user.userName), {
      AccessKeyId: key.AccessKeyId,
      SecretAccessKey: key.SecretAccessKey,
      UserName: user.userName,
      CreatedAt: (key.CreateDate ?? new Date()).toISOString(),
    });
  }
}
