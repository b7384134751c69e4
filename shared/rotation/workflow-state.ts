import * as z from 'zod/mini';
import '../base/zod-locale.ts';
import { COMPROMISED_KEY_ACTIONS, HEALTH_CHECKS } from '../config/settings.ts';
import { Incident } from './incident.ts';
import { AccountId } from '../base/account-id.ts';
import { InvalidInputError } from '../base/errors.ts';

/**
 * The rotation workflow's state, as it travels between Tasks. Every piece is chosen by an explicit
 * `ResultSelector` in statemachines/rotate-key.asl.json, so the state carries ids, labels,
 * timestamps and statuses only: a handler that returned a secret by mistake would not get it into
 * the execution history. Handlers receive the whole state (`Payload.$: "$"`) and parse the parts
 * they need with these schemas; unknown fields are dropped.
 */

/** `retire`: no new key; the key is deactivated once no consumer has used it for a quiet period, observed, then deleted (retirement.ts). */
export const ROTATION_KINDS = ['scheduled', 'manual', 'compromise', 'retire'] as const;
export type RotationKind = (typeof ROTATION_KINDS)[number];

/**
 * How a person's confirm or abort reaches the manual health check. `task-token` (deployed): the gate
 * waits in AwaitConfirmation (`.waitForTaskToken`) and the CLI completes the task at once.
 * `tag` (local runs, which have no callbacks): CheckConsumers reads the rotation:confirm/abort tag at each check.
 */
export const CONFIRM_CHANNELS = ['task-token', 'tag'] as const;
export type ConfirmChannel = (typeof CONFIRM_CHANNELS)[number];

const accessKeyId = z.string().check(z.regex(/^[A-Z0-9]{16,128}$/, 'must be an access key id like AKIAIOSFODNN7EXAMPLE'));
const userName = z.string().check(z.regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM user name'));
/** An AWS account id; the rotation acts in it through the member role when it is not the stack's own. */
export { AccountId };
const accountName = z.string().check(z.maxLength(128));
const timestamp = z.string().check(z.refine((text: string) => !Number.isNaN(Date.parse(text)), 'must be an ISO 8601 timestamp'));

/** The execution input. No timestamps, so a StartExecution with the same name and input is idempotent. */
export const RotationInput = z.object({
  userName,
  accessKeyId,
  kind: z._default(z.enum(ROTATION_KINDS), 'manual'),
  requestedBy: z._default(z.string().check(z.maxLength(256)), 'unknown'),
  reason: z._default(z.string().check(z.maxLength(1024)), ''),
  /** The account that holds the user (organization-wide rotation); absent: the account the stack runs in. */
  accountId: z.optional(AccountId),
  /** Its name, for notifications only. */
  accountName: z.optional(accountName),
  /**
   * A person's reason for rotating an exempt user anyway (EXEMPT_PATHS, EXEMPT_GROUPS, rotation:exempt):
   * without it Prepare refuses with UserExemptError. Recorded in the notices. Text only, no timestamp.
   */
  exemptionOverride: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
  /** Retirement only: also schedule the user's secret for deletion (with Secrets Manager's recovery window) once the key is deleted. */
  deleteSecret: z.optional(z.boolean()),
  /** The earlier run of this key and kind, when it had ended and this request starts the next attempt (start-rotation.ts). */
  previousAttempt: z.optional(z.object({ executionName: z.string().check(z.maxLength(80)), status: z.string().check(z.maxLength(32)) })),
});
export type RotationInput = z.output<typeof RotationInput>;

/** What Prepare resolved: who, which key, where it is stored, and every wait, fixed for this execution. */
export const Rotation = z.object({
  userName,
  userArn: z.string(),
  oldAccessKeyId: accessKeyId,
  kind: z.enum(ROTATION_KINDS),
  requestedBy: z.string(),
  reason: z.string(),
  owner: z.nullable(z.string()),
  /** Checked again here (Prepare resolved it from a tag): a state edited by hand must not point the rotation at a path-like name. */
  secretName: z.string().check(
    z.regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'must be a secret name (letters, digits and /_+=.@-)'),
    z.refine((name: string) => !name.split('/').some((part) => part === '.' || part === '..'), 'must not hold "." or ".." parts'),
  ),
  startedAt: timestamp,
  healthChecks: z.array(z.enum(HEALTH_CHECKS)),
  healthCheckUrls: z.array(z.string()),
  /** Seconds between two health checks (Wait states read it with SecondsPath; at least 1). */
  waitSeconds: z.number().check(z.int(), z.gte(1)),
  healthCheckDeadlineMs: z.number().check(z.int(), z.positive()),
  observationMs: z.number().check(z.int(), z.positive()),
  oldKeyQuietMs: z.number().check(z.int(), z.positive()),
  /** An Inactive, unreferenced key deleted to make room under the two-key limit. */
  removedKeyId: z.nullable(z.string()),
  /** Where the manual check's confirm/abort arrives (Prepare always sets it); absent, as in states written before it existed: by tag. */
  confirmVia: z.optional(z.enum(CONFIRM_CHANNELS)),
  /** The member account the user lives in; null (Prepare) or absent (states written before) for the stack's own account. */
  accountId: z.optional(z.nullable(AccountId)),
  accountName: z.optional(z.nullable(accountName)),
  /** Why the user is exempt (null: it is not); absent in states written before exemptions held on every path. */
  exemption: z.optional(z.nullable(z.string())),
  /** The request's reason for overriding that exemption, when it gave one. */
  exemptionOverride: z.optional(z.nullable(z.string())),
  /** Applied tags that weaken an account default, for the owner's notices; absent in states written before it existed. */
  weakened: z.optional(z.array(z.object({ tag: z.string(), value: z.string(), default: z.string() }))),
  /** Retirement: schedule the user's secret for deletion after the key (null or absent: keep it). */
  deleteSecret: z.optional(z.nullable(z.boolean())),
});
export type Rotation = z.output<typeof Rotation>;

/**
 * How the compromise path makes room for a replacement (see planCompromiseRoom in decisions.ts).
 * `discard-orphan` is no longer planned (an unused key the rotation did not create is never deleted);
 * it stays so that states written before still parse.
 */
export const COMPROMISE_PLANS = ['fresh', 'delete-other', 'adopt', 'discard-orphan', 'delete-compromised', 'skip'] as const;
export type CompromisePlanName = (typeof COMPROMISE_PLANS)[number];

/** What Contain did to the leaked key, and whether a replacement follows. */
export const Contained = z.object({
  containedAt: timestamp,
  /** False when the key was already Inactive (a person or AWS got there first): the deny policy is still attached. */
  keyWasActive: z.boolean(),
  denyPolicyName: z.string(),
  /** Sessions issued before this instant are denied (the policy's aws:TokenIssueTime condition). */
  deniedBefore: timestamp,
  /** AWS-managed quarantine policies found attached (AWSCompromisedKeyQuarantine*); the rotator never detaches them. */
  awsQuarantinePolicies: z.array(z.string()),
  /** What the leaked key did (CloudTrail, COMPROMISE_LOOKBACK) and what became of the role sessions it opened; bounded (incident.ts). */
  incident: z.optional(Incident),
  /** The user's other key, if any. */
  otherKeyId: z.nullable(z.string()),
  plan: z.enum(COMPROMISE_PLANS),
  replacement: z.enum(['create', 'skip']),
  compromisedKeyAction: z.enum(COMPROMISED_KEY_ACTIONS),
  detail: z.string(),
  /** Why the user is exempt (null: it is not): a leaked key is contained regardless, and the notice says so. */
  exemption: z.optional(z.nullable(z.string())),
  /**
   * Set when the trigger named temporary credentials of the user (an ASIA key id): only the user's
   * sessions were denied, no key was cut. `issuedBy`: the long-term key CloudTrail shows opening that
   * session (GetSessionToken, GetFederationToken), null when it shows none; `detail` says what was found.
   * Null for a leaked key (the ASL's ResultSelector names every field, so each is always present).
   */
  session: z.optional(z.nullable(z.object({ issuedBy: z.nullable(z.string()), detail: z.string() }))),
});
export type Contained = z.output<typeof Contained>;

export const NewKey = z.object({
  accessKeyId,
  versionId: z.string(),
  createdAt: timestamp,
  /** True when a key created by an earlier attempt of this step was found in AWSPENDING and kept. */
  reused: z.boolean(),
});
export type NewKey = z.output<typeof NewKey>;

export const Verified = z.object({ arn: z.string(), verifiedAt: timestamp });

/** A consumer still on the old key, as the notices and `status` name it: where it calls from, with what, what it calls, when last seen. */
export const Straggler = z.object({
  source: z.string(),
  agent: z.string(),
  calls: z.array(z.string()),
  lastSeen: timestamp,
});
export type Straggler = z.output<typeof Straggler>;

export const Promoted = z.object({
  promotedAt: timestamp,
  previousVersionId: z.nullable(z.string()),
  gateDeadline: timestamp,
  /** The old key's consumers CloudTrail saw before promotion (at most MAX_STRAGGLERS), for new-key-ready; absent in states written before. */
  consumersToMove: z.optional(z.array(Straggler)),
});
export type Promoted = z.output<typeof Promoted>;

/** `awaiting-confirmation`: every check but `manual` passes and confirm arrives by task token (AwaitConfirmation). */
export const GATE_STATUSES = ['healthy', 'waiting', 'overdue', 'aborted', 'awaiting-confirmation'] as const;
export type GateStatus = (typeof GATE_STATUSES)[number];

export const Gate = z.object({
  status: z.enum(GATE_STATUSES),
  checkedAt: timestamp,
  passing: z.array(z.string()),
  failing: z.array(z.string()),
  detail: z.string(),
  /** The consumers the consumers-moved check still waits for (at most MAX_STRAGGLERS); empty when it passed or did not run. */
  stragglers: z.optional(z.array(Straggler)),
  /** Whole seconds left until the gate's deadline, at least 1: AwaitConfirmation's TimeoutSecondsPath. */
  confirmTimeoutSeconds: z.optional(z.number().check(z.int(), z.gte(1))),
});
export type Gate = z.output<typeof Gate>;

/** AwaitConfirmation's input: the ids of the rotation a person confirms, and the token that completes the task. */
export const AwaitConfirmationInput = z.object({
  userName,
  oldAccessKeyId: accessKeyId,
  newAccessKeyId: accessKeyId,
  /** `$$.Execution.Name`. */
  executionName: z.string().check(z.minLength(1), z.maxLength(80)),
  /** `$$.State.EnteredTime` and `$$.State.RetryCount`: a retried invocation's token replaces the earlier one, never the reverse. */
  enteredAt: timestamp,
  attempt: z.number().check(z.int(), z.gte(0)),
  gateDeadline: timestamp,
  taskToken: z.string().check(z.minLength(1), z.maxLength(4096)),
  /** `$.rotation.accountId`: the confirmation reads the user in its own account. */
  accountId: z.optional(z.nullable(AccountId)),
});
export type AwaitConfirmationInput = z.output<typeof AwaitConfirmationInput>;

export const Deactivated = z.object({ deactivatedAt: timestamp, observeUntil: timestamp });
export type Deactivated = z.output<typeof Deactivated>;

export const OBSERVATION_STATUSES = ['watching', 'over', 'trouble'] as const;
export type ObservationStatus = (typeof OBSERVATION_STATUSES)[number];
export const Observation = z.object({ status: z.enum(OBSERVATION_STATUSES), checkedAt: timestamp, detail: z.string() });
export type Observation = z.output<typeof Observation>;

/** What Catch puts in `$.error`. In AWS, Cause is the Lambda's JSON error document; locally the message. */
export const CaughtError = z.object({ Error: z.string(), Cause: z.optional(z.string()) });
export type CaughtError = z.output<typeof CaughtError>;

// Step inputs: the parts of the state each handler needs.
export const AfterPrepare = z.object({ rotation: Rotation });
export const AfterCreate = z.extend(AfterPrepare, { newKey: NewKey });
/**
 * The steps the retirement shares with a rotation (the gate, Deactivate, CheckObservation, Rollback,
 * DeleteOldKey) take this: a retirement has no new key and was never promoted. `newKeyOf` and
 * `promotedOf` hold a rotation's state to what those steps need. From its second check on, the gate
 * gets the gate the previous check wrote.
 */
export const OldKeyStepInput = z.object({
  rotation: Rotation,
  newKey: z.optional(NewKey),
  promoted: z.optional(Promoted),
  gate: z.optional(Gate),
  deactivated: z.optional(Deactivated),
  observation: z.optional(Observation),
});
export type OldKeyStepInput = z.output<typeof OldKeyStepInput>;
/** CheckObservation's input: the old key is Inactive, observed until `deactivated.observeUntil`. */
export const ObservationStepInput = z.extend(OldKeyStepInput, { deactivated: Deactivated });

/** A rotation's new key, which every step after CreateAndStore needs; an InvalidInputError when the state has none. */
export function newKeyOf(rotation: Rotation, newKey: NewKey | undefined): NewKey {
  if (newKey) return newKey;
  throw new InvalidInputError(
    `The ${rotation.kind} rotation of ${rotation.userName} has no new key in its state: only a retirement runs these steps without one. Start the rotation again.`,
  );
}

/** A rotation's new key and promotion, which the consumer gate needs. */
export function promotedOf(input: OldKeyStepInput): { readonly newKey: NewKey; readonly promoted: Promoted } {
  const newKey = newKeyOf(input.rotation, input.newKey);
  if (input.promoted) return { newKey, promoted: input.promoted };
  throw new InvalidInputError(
    `The ${input.rotation.kind} rotation of ${input.rotation.userName} reached the consumer gate without being promoted. Start the rotation again.`,
  );
}
/** MakeSafe and NotifyFailed run after any failure, so every part but the error is optional. */
export const FailureInput = z.object({
  userName: z.optional(z.string()),
  accessKeyId: z.optional(z.string()),
  kind: z.optional(z.enum(ROTATION_KINDS)),
  accountId: z.optional(AccountId),
  accountName: z.optional(accountName),
  rotation: z.optional(Rotation),
  newKey: z.optional(NewKey),
  promoted: z.optional(Promoted),
  error: z.optional(CaughtError),
});
export type FailureInput = z.output<typeof FailureInput>;

/** Parses a step's input, turning a schema mismatch into an InvalidInputError that names the fields. */
export function parseStepInput<S extends z.ZodMiniType>(schema: S, step: string, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`);
  throw new InvalidInputError(
    `${step} received malformed input (${problems.join('; ')}). Start the rotation with { userName, accessKeyId, kind, requestedBy, reason }.`,
  );
}

/** The human-readable message inside a caught error's Cause (a Lambda error document in AWS, plain text locally). */
export function causeMessage(error: CaughtError | undefined): string {
  if (!error) return 'unknown error';
  const cause = error.Cause ?? '';
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed && typeof parsed.errorMessage === 'string')
      return parsed.errorMessage;
  } catch {
    // not a Lambda error document: the Cause is the message itself
  }
  return cause || error.Error;
}
