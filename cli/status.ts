import type { Command } from 'commander';
import Table from 'cli-table3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type ExecutionListItem,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { sfn as defaultSfn } from '#shared/aws/clients.ts';
import * as z from 'zod/mini';
import { errorMessage, InvalidInputError } from '#shared/base/errors.ts';
import { incidentLines, type Incident } from '#shared/rotation/incident.ts';
import { Contained, Straggler } from '#shared/rotation/workflow-state.ts';
import { STATES } from '#statemachines/rotate-key.ts';
import { colors, type Output } from '../local/terminal.ts';
import { addStackOptions, parseAccountFlag, resolveStack, stackAccountId, STACK_HELP, type StackFlags } from './stack.ts';
import { addOutputOptions, outputFormat, type OutputFlags } from './output-format.ts';
import { rowsCsv } from '#shared/base/csv.ts';

interface StatusFlags extends StackFlags, OutputFlags {
  readonly limit?: string;
  readonly account?: string;
}

export interface TimelineEntry {
  readonly state: string;
  readonly enteredAt: string;
}

export interface RotationStatusLine {
  readonly executionName: string;
  readonly executionArn: string;
  readonly status: string;
  readonly userName: string | null;
  /** The account the rotation acts in: a member account of the organization, else the stack's own. */
  readonly accountId: string;
  readonly accountName: string | null;
  readonly accessKeyId: string | null;
  readonly kind: string | null;
  readonly startedAt: string | null;
  readonly stoppedAt: string | null;
  /** The state the execution is in (running) or ended in; null when the history could not be read. */
  readonly currentStep: string | null;
  readonly timeline: readonly TimelineEntry[];
  readonly error: string | null;
  /** Why there is no timeline, when GetExecutionHistory failed (the status comes from DescribeExecution alone). */
  readonly historyUnavailable: string | null;
  /** The consumers the last gate check found still on the old key (CloudTrail; empty when none or not read). */
  readonly stillOnOldKey: readonly Straggler[];
  /** A compromise rotation's containment, from Contain's output: what was cut and what the leaked key did (CloudTrail). Null otherwise. */
  readonly containment: {
    readonly deniedBefore: string;
    readonly denyPolicyName: string;
    readonly keyWasActive: boolean;
    /** Set when the trigger named a session (an ASIA key id): the key that opened it, if CloudTrail shows it. */
    readonly session: { readonly issuedBy: string | null; readonly detail: string } | null;
    readonly incident: Incident | null;
  } | null;
}

const HELP = `
Lists running and recent rotations of the deployed stack, newest first: user, key, kind, status,
the current step, and each execution's timeline (the states it entered, from GetExecutionHistory).
When the history cannot be read, the line falls back to DescribeExecution and says so. A rotation
whose gate waits for consumers names the ones CloudTrail still sees on the old key.
${STACK_HELP}

With an organization-wide deployment (SCAN_SCOPE=organization), --account <id> shows only the
rotations acting in that member account; rotations without one act in the stack's own account.

Examples:
  $ iam-key-rotator status
  $ iam-key-rotator status --account 111122223333
  $ iam-key-rotator status billing-export --json`;

/** Running executions first (all of them), then the most recent others up to the limit. */
async function listRecent(sfn: SFNClient, stateMachineArn: string, limit: number): Promise<ExecutionListItem[]> {
  const running = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000 }));
  const recent = await sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: Math.min(1000, limit) }));
  const seen = new Set<string>();
  return [...(running.executions ?? []), ...(recent.executions ?? [])].filter((item) => {
    if (!item.executionArn || seen.has(item.executionArn)) return false;
    seen.add(item.executionArn);
    return true;
  });
}

/** The stragglers of the last CheckConsumers: its output is the workflow state, which holds ids, labels and times, never a secret. */
function stragglersOf(events: readonly HistoryEvent[]): Straggler[] {
  const exited = [...events].reverse().find((event) => event.stateExitedEventDetails?.name === STATES.CheckConsumers);
  try {
    const output = JSON.parse(exited?.stateExitedEventDetails?.output ?? '{}') as { gate?: unknown };
    const parsed = z.optional(z.array(Straggler)).safeParse((output.gate as { stragglers?: unknown } | undefined)?.stragglers);
    return parsed.success ? (parsed.data ?? []) : [];
  } catch {
    return []; // an output that is not ours (or was truncated): no stragglers to show
  }
}

/** What Contain reported, from its output (the workflow state: ids, names, times, never a secret). */
function containmentOf(events: readonly HistoryEvent[]): RotationStatusLine['containment'] {
  const exited = events.find((event) => event.stateExitedEventDetails?.name === STATES.Contain);
  if (!exited) return null;
  try {
    const output = JSON.parse(exited.stateExitedEventDetails?.output ?? '{}') as { contained?: unknown };
    const parsed = Contained.safeParse(output.contained);
    if (!parsed.success) return null;
    const { deniedBefore, denyPolicyName, keyWasActive, session, incident } = parsed.data;
    return { deniedBefore, denyPolicyName, keyWasActive, session: session ?? null, incident: incident ?? null };
  } catch {
    return null; // an output that is not ours (or was truncated)
  }
}

function timelineOf(events: readonly HistoryEvent[]): TimelineEntry[] {
  return events
    .filter((event) => event.stateEnteredEventDetails?.name !== undefined)
    .map((event) => ({ state: event.stateEnteredEventDetails?.name ?? '', enteredAt: event.timestamp?.toISOString() ?? '' }));
}

export async function rotationStatus(
  sfn: SFNClient,
  stateMachineArn: string,
  userName: string | undefined,
  limit: number,
  accountId?: string,
): Promise<RotationStatusLine[]> {
  const lines: RotationStatusLine[] = [];
  const stackAccount = stackAccountId(stateMachineArn);
  for (const item of await listRecent(sfn, stateMachineArn, limit)) {
    const executionArn = item.executionArn ?? '';
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    let input: { userName?: unknown; accessKeyId?: unknown; kind?: unknown; accountId?: unknown; accountName?: unknown } = {};
    try {
      input = JSON.parse(described.input ?? '{}') as typeof input;
    } catch {
      input = {}; // started by hand with an input that is not ours: listed without user and key
    }
    const user = typeof input.userName === 'string' ? input.userName : null;
    if (userName !== undefined && user !== userName) continue;
    const account = typeof input.accountId === 'string' && input.accountId !== '' ? input.accountId : stackAccount;
    if (accountId !== undefined && account !== accountId) continue;
    let timeline: TimelineEntry[] = [];
    let stillOnOldKey: Straggler[] = [];
    let containment: RotationStatusLine['containment'] = null;
    let historyUnavailable: string | null = null;
    try {
      const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, includeExecutionData: true }));
      timeline = timelineOf(history.events ?? []);
      stillOnOldKey = stragglersOf(history.events ?? []);
      containment = containmentOf(history.events ?? []);
    } catch (error) {
      historyUnavailable = `GetExecutionHistory failed (${errorMessage(error)}); status from DescribeExecution only`;
    }
    lines.push({
      executionName: described.name ?? item.name ?? '',
      executionArn,
      status: described.status ?? item.status ?? 'UNKNOWN',
      userName: user,
      accountId: account,
      accountName: typeof input.accountName === 'string' ? input.accountName : null,
      accessKeyId: typeof input.accessKeyId === 'string' ? input.accessKeyId : null,
      kind: typeof input.kind === 'string' ? input.kind : null,
      startedAt: described.startDate?.toISOString() ?? null,
      stoppedAt: described.stopDate?.toISOString() ?? null,
      currentStep: timeline.at(-1)?.state ?? null,
      timeline,
      error: described.error ? `${described.error}${described.cause ? `: ${described.cause.slice(0, 300)}` : ''}` : null,
      historyUnavailable,
      stillOnOldKey,
      containment,
    });
    if (lines.length >= limit) break;
  }
  return lines;
}

const STATUS_COLOR: Record<string, (text: string) => string> = {
  RUNNING: colors.cyan,
  SUCCEEDED: colors.green,
  FAILED: colors.red,
  TIMED_OUT: colors.red,
  ABORTED: colors.yellow,
};

function render(lines: readonly RotationStatusLine[]): string {
  // The account column appears only when rotations act in more than one account (organization mode).
  const withAccount = new Set(lines.map((line) => line.accountId)).size > 1;
  const table = new Table({
    head: [...(withAccount ? ['Account'] : []), 'User', 'Key', 'Kind', 'Status', 'Started', 'Current step'],
    style: { head: [], border: [] },
  });
  for (const line of lines) {
    table.push([
      ...(withAccount ? [line.accountName ? `${line.accountId} (${line.accountName})` : line.accountId] : []),
      line.userName ?? '?',
      line.accessKeyId ?? '?',
      line.kind ?? '?',
      (STATUS_COLOR[line.status] ?? ((text: string) => text))(line.status),
      line.startedAt?.slice(0, 19).replace('T', ' ') ?? '',
      line.currentStep ?? colors.dim('(no history)'),
    ]);
  }
  const details = lines.map((line) => {
    const head = `${line.executionName} ${colors.dim(line.executionArn)}`;
    const steps = line.timeline.map((entry) => `  ${colors.dim(entry.enteredAt.slice(11, 19))}  ${entry.state}`);
    return [
      head,
      ...(line.error ? [`  ${colors.red(line.error)}`] : []),
      ...(line.historyUnavailable ? [`  ${colors.yellow(line.historyUnavailable)}`] : []),
      ...line.stillOnOldKey.map(
        (consumer) =>
          `  ${colors.yellow('still on the old key:')} ${consumer.source} (${consumer.agent}) calling ${consumer.calls.join(', ') || 'nothing seen'}, last seen ${consumer.lastSeen}`,
      ),
      ...containmentLines(line.containment),
      ...steps,
    ].join('\n');
  });
  return [table.toString(), '', ...details].join('\n');
}

function containmentLines(containment: RotationStatusLine['containment']): string[] {
  if (!containment) return [];
  const cut = containment.session
    ? `the user's sessions issued before ${containment.deniedBefore} are denied (${containment.denyPolicyName}); no key was cut. ${containment.session.detail}`
    : `${containment.keyWasActive ? 'the key was deactivated' : 'the key was already Inactive'}; the user's sessions issued before ${containment.deniedBefore} are denied (${containment.denyPolicyName})`;
  const incident = containment.incident ? incidentLines(containment.incident, containment.deniedBefore) : [];
  return [`  ${colors.red('contained:')} ${cut}`, ...incident.map((text) => `  ${text}`)];
}

export function registerStatus(program: Command, output: Output, setResult: (code: number) => void, sfn: SFNClient = defaultSfn): void {
  const command = program
    .command('status')
    .description('Running and recent rotations in the deployed stack, with their current step and timeline.')
    .argument('[user]', 'only rotations of this IAM user')
    .option('--limit <n>', 'how many recent executions to show', '20')
    .option('--account <id>', 'only rotations acting in this AWS account (organization-wide deployments)')
    .addHelpText('after', HELP)
    .action(async (userName: string | undefined, flags: StatusFlags) => {
      const format = outputFormat(flags);
      const text = flags.limit ?? '20';
      if (!/^[1-9]\d{0,3}$/.test(text)) throw new InvalidInputError(`--limit must be a whole number from 1 to 9999 (got "${text}")`);
      const limit = Number(text);
      const accountId = parseAccountFlag(flags.account);
      // Status reads executions only: it needs none of the stack's settings, so an older stack still answers.
      const stack = await resolveStack(flags, process.env, undefined, { settings: false, instead: null });
      const lines = await rotationStatus(sfn, stack.stateMachineArn, userName, limit, accountId);
      if (format === 'json') output.out(JSON.stringify(lines, null, 2));
      else if (format === 'csv') output.out(rowsCsv(lines).trimEnd());
      else if (lines.length === 0)
        output.out(
          `No rotations${userName ? ` of ${userName}` : ''}${accountId ? ` in account ${accountId}` : ''} in ${stack.stateMachineArn}.`,
        );
      else output.out(render(lines));
      setResult(0);
    });
  addOutputOptions(command, 'print a JSON array on stdout', 'one row per execution, a column per JSON field');
  addStackOptions(command);
}
