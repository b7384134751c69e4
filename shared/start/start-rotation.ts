import type { Logger } from '@aws-lambda-powertools/logger';
import { describeExecutionIfExists } from '../aws/step-functions.ts';
import type { IAMClient } from '@aws-sdk/client-iam';
import {
  DescribeExecutionCommand,
  paginateListExecutions,
  StartExecutionCommand,
  StopExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { ACCOUNT_ID } from '../base/account-id.ts';
import {
  AccessKeyNotFoundError,
  ConfigError,
  type InvalidTagError,
  KeyNotActiveError,
  KeyOfAnotherUserError,
  RotationAttemptsExhaustedError,
  RotationInProgressError,
} from '../base/errors.ts';
import { executionArnFor, executionName } from '../base/execution-name.ts';
import { DEFAULT_GUARDDUTY_POLICY, parseTrigger, type OnDemandKind, type TriggerRequest } from './triggers.ts';
import { listUserKeys, ownerOfKey, readUserFacts } from '../aws/iam.ts';
import { isSessionKeyId } from '../base/access-key-id.ts';
import { systemClock, type Clock } from '../base/clock.ts';
import { exemptionOf, refuseExempt, refuseOutOfScope, refuseProtected } from '../config/exemptions.ts';
import type { Config } from '../config/settings.ts';
import { invalidTagsError, refusingProblems, resolveUserSettings } from '../config/user-settings.ts';

/**
 * Starts rotations on demand, from an API call, the CLI or an EventBridge event. It checks the user
 * and key live before anything starts (an unknown user, another user's key or a malformed event is
 * refused with a typed error, changing nothing). Execution names are deterministic and inputs hold
 * no timestamps, so a repeated trigger finds the execution it already started. A compromise
 * rotation first stops any other running rotation of the user: the fast path takes over their keys.
 */

export interface StartDeps {
  /** IAM of the stack's own account. */
  readonly iam: IAMClient;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  readonly logger: Logger;
  /** The account the stack runs in; asked only when a request names an account. */
  readonly ownAccountId?: () => Promise<string>;
  /** IAM of a member account, through its member role; rejects with MemberAccountAccessError when the role cannot be assumed. */
  readonly iamFor?: (accountId: string) => Promise<IAMClient>;
  /**
   * Applies the organization filters to the account a start acts in (isSelf: the stack's own);
   * rejects with AccountExcludedError naming the filter. Absent: no filters apply (tests, older callers).
   */
  readonly admitAccount?: (accountId: string, isSelf: boolean) => Promise<void>;
  /**
   * The deployment's settings: with them a protected user, or an exempt one without an explicit
   * override, is refused here, before anything starts. Prepare and Contain check again (they are the
   * authority: a StartExecution can bypass this function); without them only they do.
   */
  readonly config?: Config;
  readonly clock?: Clock;
}

export interface StartedExecution {
  readonly status: 'started' | 'already-started';
  readonly userName: string;
  readonly accessKeyId: string;
  readonly kind: OnDemandKind;
  readonly executionName: string;
  readonly executionArn: string;
  /** The member account the rotation acts in; absent for the stack's own account. */
  readonly accountId?: string;
  /** Executions stopped because this compromise rotation took over. */
  readonly stopped: readonly string[];
  /** The attempt before this one, when an earlier run of this key and kind had ended (recorded in the new run's input). */
  readonly previousAttempt?: PreviousAttempt;
}

export interface PreviousAttempt {
  readonly executionName: string;
  readonly status: string;
}

export type StartOutcome = StartedExecution | { readonly status: 'ignored'; readonly reason: string };

/** The error Step Functions records on a rotation that a compromise rotation stopped. */
export const SUPERSEDED_ERROR = 'SupersededByCompromise';

const isNamed = (error: unknown, ...names: string[]): boolean => error instanceof Error && names.includes(error.name);

/**
 * The account an AWS Health event or GuardDuty finding is about. An event's `account` is where it
 * was delivered: in an organization's view (Health's delegated administrator, GuardDuty's
 * administrator account) that is the administrator, and the account that holds the key is
 * `detail.affectedAccount` (Health) or `detail.accountId` (GuardDuty), so those win when they are
 * account ids. Undefined for a direct request (a bare payload with an event's `source` never gets
 * here: parseTrigger refuses it).
 */
export function eventAccountId(payload: unknown): string | undefined {
  // Events arrive wrapped by their rule (RULE_DELIVERY); parseTrigger has checked the wrapper already.
  const event =
    payload !== null && typeof payload === 'object' && 'deliveredBy' in payload ? (payload as { event?: unknown }).event : undefined;
  if (event === undefined || event === null || typeof event !== 'object' || !('source' in event) || !('account' in event)) return undefined;
  const { source, account, detail } = event as {
    source: unknown;
    account: unknown;
    detail?: { affectedAccount?: unknown; accountId?: unknown };
  };
  const accountId = (value: unknown): string | undefined => (typeof value === 'string' && ACCOUNT_ID.test(value) ? value : undefined);
  // A field that is present but no account id (a redacted sample, say) does not name another account: the delivery account stands.
  if (source === 'aws.health') return accountId(detail?.affectedAccount) ?? accountId(account);
  if (source === 'aws.guardduty') return accountId(detail?.accountId) ?? accountId(account);
  return undefined;
}

interface TargetAccount {
  /** Undefined for the stack's own account: the execution input then stays as in single-account mode. */
  readonly accountId: string | undefined;
  readonly accountName: string | undefined;
  readonly iam: IAMClient;
}

/** IAM of the account a request names: the stack's own (no account, or its id) or a member account's, through its member role. */
async function targetAccount(request: TriggerRequest, deps: StartDeps): Promise<TargetAccount> {
  const { accountId } = request;
  if (accountId === undefined) {
    // The stack's own account: only an explicit exclude leaves it out (accountExclusion).
    if (deps.admitAccount && deps.ownAccountId) await deps.admitAccount(await deps.ownAccountId(), true);
    return { accountId: undefined, accountName: undefined, iam: deps.iam };
  }
  if (!deps.ownAccountId || !deps.iamFor) {
    throw new ConfigError(
      `The request names account ${accountId}, but this start-rotation cannot act in other accounts (no member-account credentials). Nothing was started.`,
    );
  }
  const isSelf = accountId === (await deps.ownAccountId());
  // Before the member role is assumed: an excluded account is not touched at all.
  await deps.admitAccount?.(accountId, isSelf);
  if (isSelf) return { accountId: undefined, accountName: undefined, iam: deps.iam };
  return { accountId, accountName: request.accountName, iam: await deps.iamFor(accountId) };
}

/** Resolves and checks who and which key, live. Throws a typed error and changes nothing when the request cannot be honoured. */
export async function resolveTarget(request: TriggerRequest, iam: IAMClient): Promise<{ userName: string; accessKeyId: string }> {
  let userName = request.userName;
  if (userName === undefined) {
    userName = request.accessKeyId === undefined ? undefined : await ownerOfKey(iam, request.accessKeyId);
    if (userName === undefined) {
      throw new AccessKeyNotFoundError(
        `No IAM user in this account has access key ${request.accessKeyId ?? '(none given)'}, so there is nothing to contain. If the key belongs to another account, contain it there.`,
      );
    }
  }
  const keys = await listUserKeys(iam, userName);
  // Temporary credentials of the user (a finding about its sessions): no key of its own to find; Contain denies the sessions.
  if (request.accessKeyId !== undefined && isSessionKeyId(request.accessKeyId)) {
    if (request.kind !== 'compromise') {
      throw new KeyNotActiveError(
        `${request.accessKeyId} is a session's temporary key id (ASIA…), not an access key of ${userName}: only containment acts on it (--compromised). Nothing was started.`,
      );
    }
    return { userName, accessKeyId: request.accessKeyId };
  }
  if (request.accessKeyId === undefined) {
    const oldest = keys.filter((key) => key.status === 'Active').sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())[0];
    if (!oldest) throw new KeyNotActiveError(`IAM user ${userName} has no Active access key: there is nothing to rotate.`);
    return { userName, accessKeyId: oldest.accessKeyId };
  }
  const key = keys.find((candidate) => candidate.accessKeyId === request.accessKeyId);
  if (!key) {
    const owner = await ownerOfKey(iam, request.accessKeyId);
    if (owner !== undefined && owner !== userName) {
      throw new KeyOfAnotherUserError(
        `Access key ${request.accessKeyId} belongs to IAM user ${owner}, not ${userName}. Nothing was started. Name the right user: \`iam-key-rotator rotate ${owner} --key ${request.accessKeyId}\`.`,
      );
    }
    throw new AccessKeyNotFoundError(
      `IAM user ${userName} has no access key ${request.accessKeyId} (keys: ${keys.map((candidate) => candidate.accessKeyId).join(', ') || 'none'}). Nothing was started. ` +
        `List them with \`aws iam list-access-keys --user-name ${userName}\`.`,
    );
  }
  // A leaked key that is already Inactive still gets its sessions denied; any other rotation needs an Active key.
  if (key.status !== 'Active' && request.kind !== 'compromise') {
    throw new KeyNotActiveError(
      `Access key ${key.accessKeyId} of ${userName} is Inactive: there is nothing to rotate. Nothing was started.`,
    );
  }
  return { userName, accessKeyId: key.accessKeyId };
}

export interface RunningExecution {
  readonly executionArn: string;
  readonly name: string;
  readonly kind: string;
  /** The key it rotates (its input's accessKeyId). */
  readonly accessKeyId: string;
}

/**
 * Running rotations of a user. ListExecutions RUNNING narrows them by the deterministic name's user
 * part (executionName), and each candidate's input decides: names are shortened and sanitized, so
 * they cannot be trusted to carry the user exactly. Also read by `confirm` and `abort`.
 */
export async function runningRotationsOf(
  sfn: SFNClient,
  stateMachineArn: string,
  userName: string,
  accountId: string | undefined,
): Promise<RunningExecution[]> {
  const found: RunningExecution[] = [];
  const namePrefix = userName.replace(/[^0-9A-Za-z_-]/g, '_').slice(0, 16);
  for await (const page of paginateListExecutions({ client: sfn }, { stateMachineArn, statusFilter: 'RUNNING' })) {
    for (const execution of page.executions ?? []) {
      if (!execution.executionArn || !execution.name?.startsWith(namePrefix)) continue;
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
      let input: { userName?: unknown; accessKeyId?: unknown; kind?: unknown; accountId?: unknown } = {};
      try {
        input = JSON.parse(described.input ?? '{}') as typeof input;
      } catch {
        continue; // not an execution this tool started
      }
      // The same user name in two accounts is two users (inputs name only member accounts).
      const sameAccount = (input.accountId ?? undefined) === accountId;
      if (input.userName === userName && sameAccount && described.status === 'RUNNING') {
        found.push({
          executionArn: execution.executionArn,
          name: execution.name,
          kind: String(input.kind ?? ''),
          accessKeyId: String(input.accessKeyId ?? ''),
        });
      }
    }
  }
  return found;
}

/** Statuses of an execution that has ended; any other (RUNNING, PENDING_REDRIVE) is still going on. */
const ENDED = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/** How many manual rotations, or containments, of one key may start within the 90 days Step Functions keeps an ended execution's name. */
export const MAX_MANUAL_ATTEMPTS = 20;

/** A compromise run that ended like this did not contain the key for sure: the next trigger runs containment again. */
const UNSUCCESSFUL = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

/** Whether a request finds an earlier execution of its name ended, so that it starts the next attempt. */
function startsAnotherAttempt(kind: OnDemandKind, status: string): boolean {
  return kind === 'compromise' ? UNSUCCESSFUL.has(status) : ENDED.has(status);
}

/**
 * The execution this request names, and its status if it exists. Key ids are unique across AWS, so
 * names need no account. A second trigger of a compromise rotation finds the first while it runs or
 * once it succeeded: never a second containment; one that failed, timed out or was stopped did not
 * surely contain the key, so the next trigger starts the next attempt at once (the failure itself
 * raised its alarm, when it failed or timed out). A manual request while its rotation runs finds it; once that
 * one has ended (NeedsAttention, RolledBack, Failed), asking again is a new request: the next
 * attempt's name (the only way to finish a rotation that ended NeedsAttention is to rotate again).
 */
async function executionFor(
  userName: string,
  accessKeyId: string,
  kind: OnDemandKind,
  deps: StartDeps,
): Promise<{ name: string; executionArn: string; existing?: string; previous?: PreviousAttempt }> {
  let last = '';
  let previous: PreviousAttempt | undefined;
  for (let attempt = 1; attempt <= MAX_MANUAL_ATTEMPTS; attempt += 1) {
    const name = executionName(userName, accessKeyId, kind, attempt);
    const executionArn = executionArnFor(deps.stateMachineArn, name);
    const status = (await describeExecutionIfExists(deps.sfn, executionArn))?.status;
    if (status === undefined) return { name, executionArn, ...(previous === undefined ? {} : { previous }) };
    if (!startsAnotherAttempt(kind, status)) return { name, executionArn, existing: status };
    last = name;
    previous = { executionName: name, status };
  }
  throw new RotationAttemptsExhaustedError(
    `Access key ${accessKeyId} of ${userName} was already ${kind === 'manual' ? 'rotated by hand' : kind === 'retire' ? 'retired by hand' : 'contained'} ${MAX_MANUAL_ATTEMPTS} times, and each attempt ended${kind === 'compromise' ? ' without success' : ''} (the last: ${last}); ` +
      `Step Functions keeps an ended execution's name for 90 days. Nothing was started. Find out why they ended with \`iam-key-rotator status ${userName}\`.`,
  );
}

/**
 * Protected and out-of-scope users are refused on every path; users with invalid rotation tags and
 * exempt ones unless it is a compromise (exempt: or a manual request overrides explicitly). Before
 * anything starts, so a refusal notifies no one; `rotate --local` makes the same checks. Returns the
 * tag problems that refuse nothing (their setting keeps the account default), for a person to see.
 */
export async function refuseHeldBack(
  userName: string,
  request: TriggerRequest,
  iam: IAMClient,
  config: Config,
  clock: Clock,
): Promise<readonly InvalidTagError[]> {
  const facts = await readUserFacts(iam, userName, config.exemptGroups.length > 0);
  refuseProtected(config, userName, facts.path, `${request.kind} rotation`);
  refuseOutOfScope(config, userName, facts.path, facts.tags, `${request.kind} rotation`);
  const { settings, problems } = resolveUserSettings(userName, facts.tags, config, clock());
  const refusing = refusingProblems(problems);
  if (refusing.length > 0 && request.kind !== 'compromise') throw invalidTagsError(userName, refusing);
  refuseExempt(userName, exemptionOf(config, facts, settings, clock()), request.exemptionOverride, request.kind);
  return problems.filter((problem) => !refusing.includes(problem));
}

/** Starts one rotation (or finds the one this request already started). */
export async function startRotation(request: TriggerRequest, deps: StartDeps): Promise<StartedExecution> {
  if (deps.stateMachineArn === '') {
    throw new ConfigError(
      'No rotation state machine configured: set ROTATION_STATE_MACHINE_ARN (the stack output RotateKeyStateMachineArn), or run the rotation locally with --local.',
    );
  }
  // The live checks run in the account that holds the user.
  const account = await targetAccount(request, deps);
  const { userName, accessKeyId } = await resolveTarget(request, account.iam);
  const kind = request.kind;
  if (deps.config) await refuseHeldBack(userName, request, account.iam, deps.config, deps.clock ?? systemClock);
  const { name, executionArn, existing, previous } = await executionFor(userName, accessKeyId, kind, deps);
  const inAccount = account.accountId === undefined ? {} : { accountId: account.accountId };
  const result = { userName, accessKeyId, kind, executionName: name, executionArn, ...inAccount };

  if (existing !== undefined) {
    deps.logger.info('rotation already started', { userName, accessKeyId, kind, executionName: name, status: existing });
    return { ...result, status: 'already-started', stopped: [] };
  }

  const stopped: string[] = [];
  if (kind !== 'compromise') {
    // Two rotations of one user (the same key by another kind, or the user's other key) would fight
    // over the two-key limit and the secret: the second waits until the first has ended.
    const running = await runningRotationsOf(deps.sfn, deps.stateMachineArn, userName, account.accountId);
    if (running.length > 0) {
      throw new RotationInProgressError(
        `User ${userName} already has a running rotation (${running.map((execution) => `${execution.name}, ${execution.kind}`).join('; ')}). ` +
          `Nothing was started. Wait for it to end (iam-key-rotator status ${userName}), or stop it with iam-key-rotator abort ${userName}, then rotate again.`,
      );
    }
  }
  // Containing a session touches no key: a rotation of the user's keys goes on beside it.
  if (kind === 'compromise' && !isSessionKeyId(accessKeyId)) {
    for (const running of await runningRotationsOf(deps.sfn, deps.stateMachineArn, userName, account.accountId)) {
      if (running.kind === 'compromise') continue;
      await deps.sfn.send(
        new StopExecutionCommand({
          executionArn: running.executionArn,
          error: SUPERSEDED_ERROR,
          cause: `A compromise rotation of access key ${accessKeyId} of ${userName} took over (${name}).`,
        }),
      );
      stopped.push(running.executionArn);
      deps.logger.warn('running rotation stopped: a compromise rotation takes over', {
        userName,
        stopped: running.name,
        kind: running.kind,
      });
    }
  }

  const input = {
    userName,
    accessKeyId,
    kind,
    requestedBy: request.requestedBy,
    reason: request.reason,
    ...inAccount,
    ...(account.accountName === undefined ? {} : { accountName: account.accountName }),
    // Absent unless the request overrides an exemption, so inputs of every other request stay as they were.
    ...(request.exemptionOverride === undefined ? {} : { exemptionOverride: request.exemptionOverride }),
    ...(request.deleteSecret === undefined ? {} : { deleteSecret: request.deleteSecret }),
    // Absent on a first attempt: a repeated trigger then sends the same input, which Step Functions treats as the same start.
    ...(previous === undefined ? {} : { previousAttempt: previous }),
  };
  try {
    const response = await deps.sfn.send(
      new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name, input: JSON.stringify(input) }),
    );
    deps.logger.info('rotation started', { userName, accessKeyId, kind, executionName: name });
    return {
      ...result,
      executionArn: response.executionArn ?? executionArn,
      status: 'started',
      stopped,
      ...(previous === undefined ? {} : { previousAttempt: previous }),
    };
  } catch (error) {
    // Started by a concurrent trigger between our look and our start.
    if (isNamed(error, 'ExecutionAlreadyExists')) return { ...result, status: 'already-started', stopped };
    throw error;
  }
}

/** Parses any trigger and starts one rotation per request, in order. */
export async function handleTrigger(event: unknown, deps: StartDeps): Promise<StartOutcome[]> {
  const parsed = parseTrigger(event, deps.config ?? DEFAULT_GUARDDUTY_POLICY);
  if (parsed.type === 'ignored') {
    deps.logger.info('trigger ignored', { source: parsed.source, reason: parsed.reason });
    return [{ status: 'ignored', reason: parsed.reason }];
  }
  const outcomes: StartOutcome[] = [];
  // Without member-account support (tests, older callers) events act in the stack's own account, as before.
  const eventAccount = deps.ownAccountId ? eventAccountId(event) : undefined;
  for (const request of parsed.requests)
    outcomes.push(await startRotation({ ...request, accountId: request.accountId ?? eventAccount }, deps));
  return outcomes;
}
