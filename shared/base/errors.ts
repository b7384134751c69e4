/**
 * Typed errors. Each class has a literal `name` that the state machine's Catch/Retry clauses match
 * (`"ErrorEquals": ["KeyLimitReachedError"]`), and a message that tells a person what to do next.
 * Messages never hold secret values.
 */
export abstract class RotatorError extends Error {
  abstract override readonly name: string;
}

/** The deployment's configuration (environment or SSM) is invalid. Nothing was touched. */
export class ConfigError extends RotatorError {
  override readonly name = 'ConfigError';
}

/**
 * A combination of health-check interval, gate deadline and observation period whose polls could
 * take one execution's history past the bound of shared/config/history-budget.ts (Step Functions
 * fails an execution at 25,000 events, and then no Catch runs: no MakeSafe). Raised where durations
 * are given outside the validated settings (CLI flags, the local runner, Prepare's final check)
 * before anything is changed; settings and tags report the same problem as a ConfigError and an
 * InvalidTagError.
 */
export class HistoryBoundError extends RotatorError {
  override readonly name = 'HistoryBoundError';
  constructor(
    /** The most events the waits could use. */
    readonly events: number,
    /** The bound they must stay within. */
    readonly bound: number,
    /** The smallest interval that fits the same deadline and observation. */
    readonly smallestIntervalMs: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The deployed stack the CLI was pointed at lacks an output it needs (or holds one it cannot read),
 * e.g. a stack deployed before that output existed. Nothing was changed; the message names the
 * stack, the output and the fix.
 */
export class StackOutputMissingError extends RotatorError {
  override readonly name = 'StackOutputMissingError';
  constructor(
    readonly stackName: string,
    readonly outputKey: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A `rotation:*` tag on one IAM user has a value we cannot use. Reported for that user only. */
export class InvalidTagError extends RotatorError {
  override readonly name = 'InvalidTagError';
  constructor(
    readonly userName: string,
    readonly tagKey: string,
    message: string,
    /** Falling back to the default could weaken what the owner asked for (a misspelled check): the user's rotations wait until it is fixed. */
    readonly refuses = false,
  ) {
    super(message);
  }
}

/** Input to a handler, the CLI or an event was malformed. Nothing was changed. */
export class InvalidInputError extends RotatorError {
  override readonly name = 'InvalidInputError';
}

export class UserNotFoundError extends RotatorError {
  override readonly name = 'UserNotFoundError';
}

export class AccessKeyNotFoundError extends RotatorError {
  override readonly name = 'AccessKeyNotFoundError';
}

/** The access key exists but belongs to another IAM user than the one named. Nothing was changed. */
export class KeyOfAnotherUserError extends RotatorError {
  override readonly name = 'KeyOfAnotherUserError';
}

/** confirm/abort found no rotation of the user waiting at the gate or under observation. Nothing was changed. */
export class NoRotationInProgressError extends RotatorError {
  override readonly name = 'NoRotationInProgressError';
}

/**
 * A person aborted the rotation at the manual confirmation step (`iam-key-rotator abort`, which calls
 * SendTaskFailure with this error name). The state machine catches it and rolls back.
 */
export class RotationAbortedError extends RotatorError {
  override readonly name = 'RotationAbortedError';
}

/**
 * AwaitConfirmation found the rotation:confirm tag already set for the new key (a confirm that
 * arrived while the gate was moving to the task-token wait): the state machine catches it and deactivates.
 */
export class AlreadyConfirmedError extends RotatorError {
  override readonly name = 'AlreadyConfirmedError';
}

export class KeyNotActiveError extends RotatorError {
  override readonly name = 'KeyNotActiveError';
}

/** The user already has two Active keys: we never delete an Active key to make room. */
export class KeyLimitReachedError extends RotatorError {
  override readonly name = 'KeyLimitReachedError';
}

/** Another rotation of the same user is running: one rotation per user at a time keeps the two-key limit safe. */
export class RotationInProgressError extends RotatorError {
  override readonly name = 'RotationInProgressError';
}

/** A key was rotated by hand so often, each attempt ending, that no execution name is left for another within 90 days. Nothing was started. */
export class RotationAttemptsExhaustedError extends RotatorError {
  override readonly name = 'RotationAttemptsExhaustedError';
}

/** The new key could not be verified with STS within the deadline. */
export class KeyVerificationError extends RotatorError {
  override readonly name = 'KeyVerificationError';
}

/**
 * STS does not accept the new key yet: IAM is eventually consistent and a new key takes a few
 * seconds to work everywhere. The workflow retries this error with backoff for about a minute.
 */
export class KeyNotYetValidError extends RotatorError {
  override readonly name = 'KeyNotYetValidError';
}

/** An AWS call was throttled or hit a service error after the SDK's own retries; the workflow retries the step. */
export class AwsTransientError extends RotatorError {
  override readonly name = 'AwsTransientError';
}

/** The user's secret is in a state we will not overwrite (e.g. it holds another user's key). */
export class SecretStateError extends RotatorError {
  override readonly name = 'SecretStateError';
}

/** No CloudTrail source is configured or readable where one is needed to tell who uses a key. */
export class NoCloudTrailSourceError extends RotatorError {
  override readonly name = 'NoCloudTrailSourceError';
}

/** IAM did not produce the credential report in time. */
export class CredentialReportTimeoutError extends RotatorError {
  override readonly name = 'CredentialReportTimeoutError';
}

/** The credential report did not look like one (missing columns): IAM may have changed its format. */
export class CredentialReportFormatError extends RotatorError {
  override readonly name = 'CredentialReportFormatError';
}

/** The caller lacks an IAM permission we need; the message names it. */
export class MissingPermissionError extends RotatorError {
  override readonly name = 'MissingPermissionError';
}

/** No AWS credentials could be found by the SDK's default chain. */
export class MissingCredentialsError extends RotatorError {
  override readonly name = 'MissingCredentialsError';
}

/** moto_server is needed for local runs and tests but is missing or failed to start. */
export class MotoUnavailableError extends RotatorError {
  override readonly name = 'MotoUnavailableError';
}

/** The error's name, for any thrown value. */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The rotator could not act in a member account of the organization (the member role is missing,
 * its trust or external id does not match, or it lacks a permission). Reported for that account only.
 */
export class MemberAccountAccessError extends RotatorError {
  override readonly name = 'MemberAccountAccessError';
  constructor(
    readonly accountId: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * An on-demand rotation names an account that the organization filters (ORG_INCLUDE_* /
 * ORG_EXCLUDE_*) leave out, or one that is not an ACTIVE account of the organization. The filters
 * bind every start, not only the scan. Nothing was started.
 */
export class AccountExcludedError extends RotatorError {
  override readonly name = 'AccountExcludedError';
  constructor(
    readonly accountId: string,
    /** The filter setting that excludes the account; undefined when the account is not ACTIVE or not in the organization. */
    readonly setting: string | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A payload that claims an AWS event source (`source: "aws.health"`) was invoked directly instead of
 * being delivered by the stack's EventBridge rule. Refused rather than believed: Lambda does not
 * tell a function who invoked it, so the shape of an event proves nothing. Nothing was changed.
 */
export class UnverifiedEventSourceError extends RotatorError {
  override readonly name = 'UnverifiedEventSourceError';
}

/**
 * The secret a rotation would write the user's new key into is not bound to that user (named by a
 * tag but not created by the rotator for the user, encrypted with another KMS key than the stack's,
 * or readable by other principals through its resource policy). Raised before any key is created;
 * the message names the secret and the fix.
 */
export class SecretNotBoundError extends RotatorError {
  override readonly name = 'SecretNotBoundError';
  constructor(
    readonly secretName: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The user is exempt from rotation (EXEMPT_PATHS, EXEMPT_GROUPS or the rotation:exempt tag) and the
 * request did not say, explicitly, that it overrides the exemption. Nothing was changed.
 */
export class UserExemptError extends RotatorError {
  override readonly name = 'UserExemptError';
}

/**
 * The user is protected (PROTECTED_USERS, PROTECTED_PATHS: break-glass users, the deployer): the
 * rotator never acts on it, on any path, compromise included. Nothing was changed.
 */
export class UserProtectedError extends RotatorError {
  override readonly name = 'UserProtectedError';
}

/**
 * The user is outside the rotator's scope (ROTATION_USER_PATH, ROTATION_USER_TAG_VALUE): the stack's
 * roles may not write to it, so the rotator does not try. Nothing was changed.
 */
export class UserOutOfScopeError extends RotatorError {
  override readonly name = 'UserOutOfScopeError';
}

/** A Security Hub call failed (SECURITY_HUB_FINDINGS). Never stops a scan or a rotation: findings are written again at the next event. */
export class SecurityHubError extends RotatorError {
  override readonly name = 'SecurityHubError';
  constructor(
    message: string,
    /** Security Hub's error type (x-amzn-ErrorType), or HTTP<status>. */
    readonly errorType: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
