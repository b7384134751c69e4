import type { Command } from 'commander';
import Table from 'cli-table3';
import type { IAMClient } from '@aws-sdk/client-iam';
import { iam } from '#shared/aws/clients.ts';
import { listUserKeys, readUser } from '#shared/aws/iam.ts';
import { DAY_MS } from '#shared/base/clock.ts';
import { InvalidInputError } from '#shared/base/errors.ts';
import { loadConfig, type Config } from '#shared/config/settings.ts';
import { gapsOf, type CallEvidence, type KeyCallReader } from '#shared/aws/key-calls.ts';
import { consumersOf, type Consumer } from '#shared/consumers/inventory.ts';
import { colors, type Output } from '../local/terminal.ts';
import { addOutputOptions, outputFormat, type OutputFlags } from './output-format.ts';
import { rowsCsv } from '#shared/base/csv.ts';

const HELP = `
Who uses each access key of the user, from CloudTrail: every consumer (where its calls come from,
an IP address or the AWS service that called with the key, and the tool that signed them, to its
major version), what it calls, how often, when it was first and last seen, and the calls AWS refused.
Nothing a call carried (parameters, responses) and no secret is ever shown.

Sources: CloudTrail event history (LookupEvents: management events of the last 90 days, in the
regions of CLOUDTRAIL_REGIONS, default this region and us-east-1), and the trail log group named by
CLOUDTRAIL_LOG_GROUP, which also holds data events (S3 GetObject and the like) when the trail records
them. A source that cannot be read is named with the fix, and the others are used. A busy key is
sampled across the window rather than read in full; the output says so.

Run it before you rotate: every consumer listed must read the user's secret (AWSCURRENT) by the
time the rotation's gate checks (the consumers-moved check waits for each of them).

Needs: iam:GetUser, iam:ListUserTags, iam:ListAccessKeys; cloudtrail:LookupEvents;
logs:FilterLogEvents on CLOUDTRAIL_LOG_GROUP when it is set.

Examples:
  $ iam-key-rotator consumers billing-export
  $ iam-key-rotator consumers billing-export --days 30 --json`;

export interface KeyConsumers {
  readonly accessKeyId: string;
  readonly status: string;
  readonly from: string;
  readonly to: string;
  readonly consumers: readonly Consumer[];
  readonly sources: readonly Omit<CallEvidence, 'calls'>[];
  /** What the evidence could not see, for a person. */
  readonly notSeen: readonly string[];
  /**
   * Consumers that read a secret with this key and first appeared after the window began: with
   * self-refresh (SELF_REFRESH_USERS) a key can fetch its successor, so a newcomer doing so is either
   * a consumer someone just set up, or whoever holds a leaked copy of the key. Their `key`s.
   */
  readonly newSecretReaders: readonly string[];
}

export interface ConsumersReport {
  readonly userName: string;
  readonly days: number;
  readonly keys: readonly KeyConsumers[];
}

/** Every consumer of each of the user's keys over the last `days` days. */
export async function consumersReport(
  userName: string,
  days: number,
  deps: { readonly iam: IAMClient; readonly readKeyCalls: KeyCallReader; readonly now: Date },
): Promise<ConsumersReport> {
  await readUser(deps.iam, userName);
  const to = deps.now;
  const from = new Date(to.getTime() - days * DAY_MS);
  const keys: KeyConsumers[] = [];
  for (const key of await listUserKeys(deps.iam, userName)) {
    const read = await deps.readKeyCalls({ accessKeyId: key.accessKeyId, from, to });
    keys.push({
      accessKeyId: key.accessKeyId,
      status: key.status,
      from: from.toISOString(),
      to: to.toISOString(),
      consumers: consumersOf(read.calls),
      sources: read.evidence.map(({ calls: _calls, ...rest }) => rest),
      notSeen: gapsOf(read),
      newSecretReaders: newSecretReaders(consumersOf(read.calls), from),
    });
  }
  return { userName, days, keys };
}

/** A consumer present from the window's first day was reading before it; one first seen later is new. */
const NEW_AFTER_MS = DAY_MS;

export function newSecretReaders(consumers: readonly Consumer[], from: Date): string[] {
  return consumers
    .filter((consumer) => consumer.readsSecret && Date.parse(consumer.firstSeen) >= from.getTime() + NEW_AFTER_MS)
    .map((consumer) => consumer.key);
}

/** What each CloudTrail source gave, for the line under a key: read in full, sampled, or not read. */
export function sourcesRead(sources: readonly Omit<CallEvidence, 'calls'>[]): string {
  return sources
    .map((source) =>
      source.unavailable
        ? `${source.source}: not read`
        : `${source.source}: ${source.complete ? 'every call read' : 'sampled'}, ${source.apiCalls} requests`,
    )
    .join('; ');
}

export function parseDays(text: string | undefined, config: Config): number {
  if (text === undefined) return Math.round(config.consumerLookbackMs / DAY_MS);
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1 || days > 90) {
    throw new InvalidInputError(`--days must be a whole number of days from 1 to 90 (event history keeps 90 days), not "${text}".`);
  }
  return days;
}

function renderKey(key: KeyConsumers, userName: string): string {
  const head = `${colors.bold(key.accessKeyId)} (${key.status}): ${key.consumers.length} consumer${key.consumers.length === 1 ? '' : 's'} from ${key.from.slice(0, 10)} to ${key.to.slice(0, 16).replace('T', ' ')} UTC`;
  const table = new Table({
    head: ['Source', 'Tool', 'Calls', 'Calls most', 'First seen', 'Last seen', 'Refused'],
    style: { head: [], border: [] },
  });
  for (const consumer of key.consumers) {
    table.push([
      consumer.source,
      consumer.agent,
      String(consumer.calls),
      consumer.topCalls.slice(0, 3).join('\n'),
      consumer.firstSeen.slice(0, 16).replace('T', ' '),
      consumer.lastSeen.slice(0, 16).replace('T', ' '),
      Object.entries(consumer.errors)
        .map(([code, count]) => `${code} ×${count}`)
        .join('\n'),
    ]);
  }
  const read = sourcesRead(key.sources);
  return [
    head,
    ...(key.consumers.length > 0 ? [table.toString()] : [colors.dim('  no calls seen')]),
    colors.dim(`  read: ${read || 'no source configured'}`),
    ...key.notSeen.map((gap) => colors.yellow(`  not seen: ${gap}`)),
    ...key.consumers
      .filter((consumer) => key.newSecretReaders.includes(consumer.key))
      .map((consumer) =>
        colors.red(
          `  new secret reader: ${consumer.source} (${consumer.agent}), first seen ${consumer.firstSeen.slice(0, 16).replace('T', ' ')} UTC, reads a secret with this key. ` +
            `If you did not set it up, treat the key as leaked: iam-key-rotator rotate ${userName} --compromised --key ${key.accessKeyId}`,
        ),
      ),
  ].join('\n');
}

export function registerConsumers(
  program: Command,
  output: Output,
  setResult: (code: number) => void,
  readerFor: (config: Config) => Promise<KeyCallReader>,
): void {
  const command = program
    .command('consumers')
    .description('Who uses each access key of a user, from CloudTrail: address, tool, what it calls, when last seen.')
    .argument('<user>', 'IAM user name')
    .option('--days <n>', 'how many days back to read (default: CONSUMER_LOOKBACK)')
    .addHelpText('after', HELP)
    .action(async (userName: string, flags: { readonly days?: string } & OutputFlags) => {
      const format = outputFormat(flags);
      const config = loadConfig();
      const days = parseDays(flags.days, config);
      output.err(colors.dim(`reading CloudTrail for the keys of ${userName}, last ${days} days…`));
      const report = await consumersReport(userName, days, { iam, readKeyCalls: await readerFor(config), now: new Date() });
      if (format === 'json') output.out(JSON.stringify(report, null, 2));
      else if (format === 'csv') output.out(rowsCsv(consumerRows(report), CONSUMER_COLUMNS).trimEnd());
      else if (report.keys.length === 0) output.out(`${userName} has no access keys.`);
      else output.out(report.keys.map((key) => renderKey(key, userName)).join('\n\n'));
      setResult(0);
    });
  addOutputOptions(command, 'print the report as JSON on stdout', 'one row per consumer of each key, a column per JSON field');
}

/** One row per consumer, after the key it uses; a new secret reader is marked, as the table marks it. */
type ConsumerRow = Consumer & { readonly accessKeyId: string; readonly keyStatus: string; readonly newSecretReader: boolean };

/** Every column, in order, so a key with no consumers still gets the header a spreadsheet or script expects. */
const CONSUMER_COLUMNS = [
  'accessKeyId',
  'keyStatus',
  'source',
  'agent',
  'key',
  'firstSeen',
  'lastSeen',
  'calls',
  'services',
  'topCalls',
  'errors',
  'cadenceMs',
  'readsSecret',
  'newSecretReader',
] as const satisfies readonly (keyof ConsumerRow)[];

function consumerRows(report: ConsumersReport): ConsumerRow[] {
  return report.keys.flatMap((key) =>
    key.consumers.map((consumer) => ({
      accessKeyId: key.accessKeyId,
      keyStatus: key.status,
      ...consumer,
      newSecretReader: key.newSecretReaders.includes(consumer.key),
    })),
  );
}
