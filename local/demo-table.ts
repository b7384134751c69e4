import Table from 'cli-table3';
import type { Output } from './terminal.ts';
import { colors } from './terminal.ts';
import type { ConsumerStats } from './consumer.ts';
import type { PublishedNotification } from './moto-inspect.ts';
import type { RotationReport } from './runner.ts';
import type { KeyStatus } from '#shared/aws/iam.ts';
import type { KeyClass } from '#shared/scan/classify-keys.ts';

export type ExpectedOutcome = RotationReport['status'] | 'not rotated';

/** One demo user after the run: what both demos' tables show of it. */
export interface DemoUserOutcome {
  /** The member account holding the user (organization demo); absent in the single-account demo, which has no account column. */
  readonly account?: { readonly name: string; readonly id: string };
  readonly userName: string;
  /**
   * The classes the scan gave the user's keys; undefined when the scan did not look at its account. Empty
   * is ok: the scan counts a user whose credential report rows are all ok without listing its keys.
   */
  readonly scanClasses: readonly KeyClass[] | undefined;
  /** The rotations the scan started for the user: the scanner starts at most one per user and run, so more is a surprise. */
  readonly rotations: readonly RotationReport[];
  readonly expected: ExpectedOutcome;
  readonly keys: readonly { readonly accessKeyId: string; readonly status: KeyStatus }[];
  /** The key the user's secret holds as AWSCURRENT. */
  readonly currentKeyId: string | undefined;
  readonly consumers: readonly ConsumerStats[];
  readonly notices: readonly PublishedNotification[];
}

const LEGEND = {
  current:
    "★ marks the key the user's secret holds as AWSCURRENT, the one consumers reading the secret get; a key without ★ is one a consumer may still hold from a copy.",
  columns:
    "consumer: each simulated workload using the user's key, its calls, the failed ones and the keys it signed with; notices: the notifications SNS published about the key, by event.",
  makeSafe:
    'MakeSafe runs after any failure and restores what the run changed: "MakeSafe ok" then "Failed" means the run was refused and nothing was left changed.',
  safeEnds:
    'NeedsAttention and RolledBack end safely (no consumer cut, the owner told what to do); exit code 3 for a person, not a failure.',
} as const;

/** The notifications about one user's key; in an organization the same user name may exist in several accounts, so the account tells them apart. */
export function noticesAbout(
  notifications: readonly PublishedNotification[],
  userName: string,
  accountId: string,
): PublishedNotification[] {
  return notifications.filter(
    (notification) => notification.attributes.userName === userName && notification.attributes.accountId === accountId,
  );
}

/**
 * Both demos' table of what happened to every user, and the legend lines that apply to it; returns
 * how many users did not end as the demo expects (the demo's exit code depends on it).
 */
export function printDemoTable(output: Output, users: readonly DemoUserOutcome[]): number {
  const withAccount = users.some((user) => user.account !== undefined);
  const table = new Table({
    head: [...(withAccount ? ['account'] : []), 'user', 'scan', 'rotation', 'keys now (★ = AWSCURRENT)', 'consumer', 'notices'],
    style: { head: [], border: [] },
  });
  let surprises = 0;
  for (const user of users) {
    const rotation = rotationCell(user);
    if (!rotation.asExpected) surprises += 1;
    table.push([
      ...(withAccount ? [user.account ? `${user.account.name}\n${user.account.id}` : ''] : []),
      user.userName,
      user.scanClasses === undefined ? 'not scanned' : [...new Set(user.scanClasses)].join(', ') || 'ok',
      rotation.asExpected ? rotation.text : colors.red(`${rotation.text} (expected ${user.expected})`),
      keysCell(user),
      consumerCell(user),
      noticesCell(user.notices),
    ]);
  }
  output.out(table.toString());
  for (const line of legendFor(users)) output.out(colors.dim(`  ${line}`));
  return surprises;
}

function rotationCell(user: DemoUserOutcome): { text: string; asExpected: boolean } {
  const [rotation, ...more] = user.rotations;
  if (rotation === undefined) return { text: 'not rotated', asExpected: user.expected === 'not rotated' };
  // One outcome per user: a second rotation of the same user would be the scanner's bug, shown rather than hidden behind the first.
  if (more.length > 0) return { text: `${user.rotations.length} rotations started`, asExpected: false };
  const status = rotation.error ? `${rotation.status}: ${rotation.error.name}` : rotation.status;
  const stragglers = (rotation.stillOnOldKey ?? []).map((consumer) => `still on the old key:\n  ${consumer.source} (${consumer.agent})`);
  return { text: [status, ...stragglers].join('\n'), asExpected: rotation.status === user.expected };
}

function keysCell(user: DemoUserOutcome): string {
  return (
    user.keys.map((key) => `${key.accessKeyId === user.currentKeyId ? '★' : ' '}${key.accessKeyId.slice(-6)} ${key.status}`).join('\n') ||
    '(none)'
  );
}

function consumerCell(user: DemoUserOutcome): string {
  const line = (consumer: ConsumerStats): string =>
    `${consumer.calls} calls, ${consumer.failures} failed, ${consumer.keysUsed.length} key${consumer.keysUsed.length === 1 ? '' : 's'} used`;
  const [only, ...others] = user.consumers;
  if (only === undefined) return '(none)';
  // A consumer named after its user is that user's one workload and needs no name; several of one key are told apart by the address CloudTrail records.
  if (others.length === 0) return only.name === user.userName ? line(only) : `${only.name}:\n  ${line(only)}`;
  return user.consumers.map((consumer) => `${consumer.name} (${consumer.sourceIp}):\n  ${line(consumer)}`).join('\n');
}

/** Each event once, in the order it was first published, with how many times when more than once. */
function noticesCell(notices: readonly PublishedNotification[]): string {
  const counts = new Map<string, number>();
  for (const notice of notices) {
    const event = notice.attributes.event ?? '?';
    counts.set(event, (counts.get(event) ?? 0) + 1);
  }
  return [...counts].map(([event, count]) => (count === 1 ? event : `${event} ×${count}`)).join('\n') || '(none)';
}

/** The marks and columns are always explained; the lines about how a run ended only when some run in the table ended so. */
function legendFor(users: readonly DemoUserOutcome[]): string[] {
  const statuses = new Set(users.flatMap((user) => user.rotations.map((rotation) => rotation.status)));
  return [
    LEGEND.current,
    LEGEND.columns,
    ...(statuses.has('Failed') ? [LEGEND.makeSafe] : []),
    ...(statuses.has('NeedsAttention') || statuses.has('RolledBack') ? [LEGEND.safeEnds] : []),
  ];
}
