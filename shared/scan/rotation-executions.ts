import { paginateListExecutions, type SFNClient } from '@aws-sdk/client-sfn';
import { describeExecutionIfExists } from '../aws/step-functions.ts';
import { mapWithConcurrency } from '../base/concurrency.ts';
import { executionArnFor } from '../base/execution-name.ts';
import { oldestFirst, runningKeyIds } from './classify-keys.ts';

/** A due key's scheduled execution: its deterministic name, and what selectRotations orders it by. */
export interface ExecutionCandidate {
  readonly executionName: string;
  readonly accessKeyId: string;
  readonly userName: string;
  readonly createdAt: Date;
}

/**
 * The rotation state machine's executions a scan needs, read by name. Step Functions keeps an ended
 * execution for 90 days, so listing every execution costs a page per 1,000 of them on every scan
 * with a due key; a scan needs only the running ones (one ListExecutions RUNNING page per 1,000
 * running, and rotations run for days, so few) and, for the due keys it may start, their scheduled
 * execution by its deterministic name (one DescribeExecution each, oldest first, and only until the
 * run's cap of starts is filled: the keys after that wait for the next scan whatever their status).
 *
 * `statuses` is name → status, as selectRotations reads it. An ended scheduled run that succeeded as an
 * execution but not as a rotation (RolledBack, NeedsAttention end in a Succeed state) is named by its
 * outcome, so the scan summary says how it really ended.
 */
export class RotationExecutions {
  private readonly known = new Map<string, string>();
  private readonly described = new Set<string>();
  private runningKeys: ReadonlySet<string> = new Set();
  /** API calls made, by action: the scan's cost in Step Functions reads. */
  readonly calls = { listExecutions: 0, describeExecution: 0 };

  constructor(
    private readonly sfn: SFNClient,
    private readonly stateMachineArn: string,
    private readonly concurrency: number,
  ) {}

  /** The running executions; call once, before `resolve`. None without a state machine (a dry run). */
  async loadRunning(): Promise<void> {
    if (this.stateMachineArn === '') return;
    for await (const page of paginateListExecutions(
      { client: this.sfn, pageSize: 1000 },
      { stateMachineArn: this.stateMachineArn, statusFilter: 'RUNNING' },
    )) {
      this.calls.listExecutions += 1;
      for (const execution of page.executions ?? []) if (execution.name) this.known.set(execution.name, 'RUNNING');
    }
    this.runningKeys = runningKeyIds(this.known);
  }

  /**
   * Describes the scheduled executions of the oldest due candidates until `cap` of them are free to
   * start (no execution of that name, and no other run of the key). Candidates already known, or whose
   * key another kind of rotation is rotating, cost nothing.
   */
  async resolve(candidates: readonly ExecutionCandidate[], cap: number): Promise<void> {
    if (this.stateMachineArn === '') return;
    const ordered = [...candidates].sort(oldestFirst);
    let free = 0;
    let next = 0;
    while (next < ordered.length && free < cap) {
      const batch: ExecutionCandidate[] = [];
      // Each name in the batch may turn out free: never describe more than the cap can still take.
      while (next < ordered.length && free + batch.length < cap && batch.length < Math.max(1, this.concurrency)) {
        const candidate = ordered[next];
        next += 1;
        if (candidate === undefined || this.runningKeys.has(candidate.accessKeyId) || this.known.has(candidate.executionName)) continue;
        if (this.described.has(candidate.executionName)) free += 1;
        else batch.push(candidate);
      }
      const statuses = await mapWithConcurrency(batch, this.concurrency, (candidate) => this.describe(candidate.executionName));
      for (const [index, status] of statuses.entries()) {
        const name = batch[index]?.executionName ?? '';
        this.described.add(name);
        if (status === undefined) free += 1;
        else this.known.set(name, status);
      }
    }
  }

  get statuses(): ReadonlyMap<string, string> {
    return this.known;
  }

  private async describe(name: string): Promise<string | undefined> {
    this.calls.describeExecution += 1;
    const described = await describeExecutionIfExists(this.sfn, executionArnFor(this.stateMachineArn, name));
    return described === undefined ? undefined : outcomeOf(described.status, described.output);
  }
}

/** SUCCEEDED executions say how the rotation ended in `$.outcome.status`; an output that is not ours keeps the execution's status. */
function outcomeOf(status: string | undefined, output: string | undefined): string {
  if (status !== 'SUCCEEDED') return status ?? 'UNKNOWN';
  try {
    const outcome = (JSON.parse(output ?? '{}') as { outcome?: { status?: unknown } }).outcome?.status;
    return typeof outcome === 'string' && outcome !== 'Succeeded' ? outcome : status;
  } catch {
    return status;
  }
}
