import { DescribeExecutionCommand, paginateListExecutions, type DescribeExecutionCommandOutput, type SFNClient } from '@aws-sdk/client-sfn';
import { mapWithConcurrency } from '../base/concurrency.ts';

/**
 * How a rotation ended, as a person reads it. An execution that ends in a Succeed state may still be
 * a rotation that did not happen (RolledBack, NeedsAttention): its `$.outcome.status` says which.
 */
export const ROTATION_OUTCOMES = ['Succeeded', 'RolledBack', 'NeedsAttention', 'Failed', 'Aborted', 'TimedOut', 'Running'] as const;
export type RotationOutcome = (typeof ROTATION_OUTCOMES)[number];

/** One rotation (an execution of the rotate-key state machine, or a local run), with what the report shows of it. */
export interface RotationRecord {
  readonly executionName: string;
  /** The member account it acted in; null for the stack's own account. */
  readonly accountId: string | null;
  readonly userName: string | null;
  /** The key it replaced (the execution input's accessKeyId). */
  readonly oldAccessKeyId: string | null;
  /** The key it created, when it got that far. */
  readonly newAccessKeyId: string | null;
  readonly kind: string | null;
  readonly outcome: RotationOutcome;
  readonly startedAt: string;
  readonly stoppedAt: string | null;
  /** From the new key's promotion to the gate's last verdict: how long consumers took to move (null: the gate never ran). */
  readonly gateWaitSeconds: number | null;
}

export interface RotationHistory {
  readonly records: readonly RotationRecord[];
  /** The start of the period: executions started before it are listed but not read. */
  readonly since: string;
  readonly calls: { readonly listExecutions: number; readonly describeExecution: number };
}

const EXECUTION_OUTCOMES: Readonly<Record<string, RotationOutcome>> = {
  RUNNING: 'Running',
  FAILED: 'Failed',
  ABORTED: 'Aborted',
  TIMED_OUT: 'TimedOut',
  PENDING_REDRIVE: 'Failed',
};

interface WorkflowOutput {
  readonly outcome?: { readonly status?: unknown };
  readonly newKey?: { readonly accessKeyId?: unknown };
  readonly promoted?: { readonly promotedAt?: unknown };
  readonly gate?: { readonly checkedAt?: unknown };
}

interface WorkflowInput {
  readonly userName?: unknown;
  readonly accessKeyId?: unknown;
  readonly kind?: unknown;
  readonly accountId?: unknown;
}

function parseObject<T>(text: string | undefined): T {
  if (text === undefined) return {} as T;
  try {
    const parsed: unknown = JSON.parse(text);
    return (typeof parsed === 'object' && parsed !== null ? parsed : {}) as T;
  } catch {
    return {} as T; // started by hand with an input that is not ours: listed without user and key
  }
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** Whole seconds between two ISO timestamps, or null when either is missing or they are out of order. */
export function secondsBetween(from: unknown, to: unknown): number | null {
  const start = typeof from === 'string' ? Date.parse(from) : Number.NaN;
  const end = typeof to === 'string' ? Date.parse(to) : Number.NaN;
  if (Number.isNaN(start) || Number.isNaN(end) || end < start) return null;
  return Math.round((end - start) / 1000);
}

/** How a rotation ended, from the execution's status and, for one that succeeded, the workflow's own `$.outcome.status`. */
export function outcomeOf(status: string | undefined, output: { readonly outcome?: { readonly status?: unknown } }): RotationOutcome {
  if (status === 'SUCCEEDED') {
    const said = output.outcome?.status;
    return said === 'RolledBack' || said === 'NeedsAttention' ? said : 'Succeeded';
  }
  return EXECUTION_OUTCOMES[status ?? ''] ?? 'Failed';
}

/** A described execution as the report shows it. Reads ids, statuses and timestamps only: the state never holds a secret. */
export function rotationRecordOf(described: DescribeExecutionCommandOutput): RotationRecord {
  const input = parseObject<WorkflowInput>(described.input);
  const output = parseObject<WorkflowOutput>(described.output);
  return {
    executionName: described.name ?? '',
    accountId: text(input.accountId),
    userName: text(input.userName),
    oldAccessKeyId: text(input.accessKeyId),
    newAccessKeyId: text(output.newKey?.accessKeyId),
    kind: text(input.kind),
    outcome: outcomeOf(described.status, output),
    startedAt: described.startDate?.toISOString() ?? '',
    stoppedAt: described.stopDate?.toISOString() ?? null,
    gateWaitSeconds: secondsBetween(output.promoted?.promotedAt, output.gate?.checkedAt),
  };
}

export interface HistoryOptions {
  readonly since: Date;
  readonly concurrency?: number;
  readonly progress?: (message: string) => void;
}

/**
 * The rotations started since `since`: one ListExecutions page per 1,000 executions kept (Step Functions
 * keeps an ended one for 90 days, which bounds the pages) and one DescribeExecution per rotation in the
 * period, for its input and output. DescribeExecution is throttled per account
 * (a bucket of 250, refilled at 15 per second in most Regions: Step Functions quotas), so a year's
 * history of a large account takes minutes; the SDK's retries absorb the throttling.
 */
export async function readRotationHistory(sfn: SFNClient, stateMachineArn: string, options: HistoryOptions): Promise<RotationHistory> {
  const calls = { listExecutions: 0, describeExecution: 0 };
  const arns: string[] = [];
  for await (const page of paginateListExecutions({ client: sfn, pageSize: 1000 }, { stateMachineArn })) {
    calls.listExecutions += 1;
    for (const execution of page.executions ?? []) {
      if (execution.startDate !== undefined && execution.startDate < options.since) continue;
      if (execution.executionArn) arns.push(execution.executionArn);
    }
  }
  if (arns.length > 0) options.progress?.(`reading ${arns.length} rotation${arns.length === 1 ? '' : 's'} from Step Functions…`);
  const records = await mapWithConcurrency(arns, options.concurrency ?? 8, async (executionArn) => {
    calls.describeExecution += 1;
    return rotationRecordOf(await sfn.send(new DescribeExecutionCommand({ executionArn })));
  });
  return { records, since: options.since.toISOString(), calls };
}
