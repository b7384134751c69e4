/**
 * Who uses a key, from CloudTrail. These are the shapes every evidence source returns and every
 * reader (the inventory, the gate, the observation, the CLI) consumes; the sources that read
 * CloudTrail live in shared/aws/cloudtrail.ts, the local stand-in in local/.
 */

/**
 * One call signed with a key, as CloudTrail recorded it: where it came from and what it did, and for
 * a write, the name of what it acted on (`target`, `createdAccessKeyId`). Nothing else of the request
 * parameters or response elements is kept: they may quote secrets.
 */
export interface KeyCall {
  /** CloudTrail's eventID: the same record read twice (two sources, two slices) counts once. */
  readonly eventId: string;
  readonly at: Date;
  /** userIdentity.accessKeyId. */
  readonly accessKeyId: string;
  /** sourceIPAddress: an IP address, or the AWS service that called on the key's behalf (e.g. `lambda.amazonaws.com`). */
  readonly sourceIp: string;
  /** userIdentity.invokedBy, when an AWS service made the call with the key's permissions. */
  readonly invokedBy: string | undefined;
  /** The userAgent as recorded (possibly truncated by CloudTrail). */
  readonly userAgent: string;
  /** eventSource, e.g. `s3.amazonaws.com`. */
  readonly eventSource: string;
  readonly eventName: string;
  /** awsRegion. */
  readonly region: string;
  /** errorCode, e.g. `AccessDenied`: the call was authenticated (the key works) but refused. */
  readonly errorCode: string | undefined;
  /** eventCategory: Management (event history holds these), Data (only a trail that records them). */
  readonly category: string;
  /**
   * What the call acted on, by ARN or name, when the record names it (requestParameters.roleArn of
   * an AssumeRole, roleName of a role write, userName of a user write), at most MAX_TARGET_LENGTH
   * characters. Containment reads it to find the roles a leaked key assumed and the users it touched.
   */
  readonly target?: string;
  /** responseElements.accessKey.accessKeyId of a CreateAccessKey: the key the call created (an id, never its secret). */
  readonly createdAccessKeyId?: string;
  /**
   * responseElements.credentials.accessKeyId of a GetSessionToken, GetFederationToken or AssumeRole:
   * the ASIA key id of the session the call opened (never its secret or token). Tells which long-term
   * key issued a session a finding names.
   */
  readonly sessionAccessKeyId?: string;
  /**
   * The role a write handed to a service (iam:PassRole is checked on it, and CloudTrail records no
   * PassRole of its own): a Lambda function's `role`, an instance profile, a task's role, a stack's
   * service role. Whatever runs with it keeps the role's permissions after the key is cut.
   */
  readonly passedRole?: string;
  /**
   * The resources the record names (resources[] and a few well-known request parameters, as ARNs;
   * call-resources.ts). Only a reader built to keep them (`resources: true`, the `usage` command's)
   * sets it: the rotation's steps never hold resource names.
   */
  readonly resources?: readonly string[];
}

/** IAM ARNs are at most 2048 characters; names far less. A longer value is cut, never trusted whole. */
export const MAX_TARGET_LENGTH = 2048;

export type CallSourceName = 'event-history' | 'trail-log-group';

export interface CallQuery {
  readonly accessKeyId: string;
  readonly from: Date;
  readonly to: Date;
  /** Where to look: event history is per region (global services such as IAM and STS log in us-east-1). */
  readonly regions: readonly string[];
}

/** What one read may spend; sources sample across the window rather than page through it when it would not last. */
export interface ReadBudget {
  /** API calls (pages) this read may make, across all regions and slices. */
  readonly maxApiCalls: number;
}

export interface SourceUnavailable {
  /** The SDK error's name, e.g. AccessDeniedException, ResourceNotFoundException. */
  readonly errorName: string;
  /** What a person does about it (never the SDK's raw message, which may quote a request). */
  readonly message: string;
}

/** What one source found for one key and window. */
export interface CallEvidence {
  readonly source: CallSourceName;
  readonly calls: readonly KeyCall[];
  /**
   * True when every call in the window was read. False when the source sampled the window or ran out
   * of budget: a consumer that calls rarely beside a busy one may then be missed.
   */
  readonly complete: boolean;
  /** API calls spent. */
  readonly apiCalls: number;
  /** What this source cannot see, in words for a person (e.g. "management events only: …"). */
  readonly blindSpots: readonly string[];
  /** Set when the source could not be read at all (denied, not configured, throttled throughout). */
  readonly unavailable?: SourceUnavailable;
}

export interface CallSource {
  readonly name: CallSourceName;
  read(query: CallQuery, budget: ReadBudget): Promise<CallEvidence>;
}

/**
 * Rations calls to a rate-limited API across everything that shares it (LookupEvents allows about two
 * requests a second per account and region, for all callers together). `acquire` resolves when a call
 * may be made now.
 */
export interface RateGate {
  acquire(key: string): Promise<void>;
}

/** Every call of one key in a window, merged from the sources that could be read, with what each source saw. */
export interface KeyCallsRead {
  readonly calls: readonly KeyCall[];
  readonly evidence: readonly CallEvidence[];
  /**
   * How late a call may show up in what was read (CloudTrail delivers within minutes, not at once;
   * CLOUDTRAIL_DELIVERY_DELAY deployed, next to nothing for the local stand-in): a key counts as quiet
   * only after this long without a call.
   */
  readonly deliveryDelayMs: number;
}

/** How the rotation's steps read a key's calls: the deployed wiring reads CloudTrail, the local one its stand-in. */
export type KeyCallReader = (query: {
  readonly accessKeyId: string;
  readonly from: Date;
  readonly to: Date;
  /** Fewer API calls than the reader's budget, for a narrow look (a role session's few hours). */
  readonly maxApiCalls?: number;
}) => Promise<KeyCallsRead>;

/** Whether anything was read: at least one source answered. */
export function anySourceRead(read: KeyCallsRead): boolean {
  return read.evidence.some((evidence) => evidence.unavailable === undefined);
}

/** What the read could not see, once per distinct gap, for a person. */
export function gapsOf(read: KeyCallsRead): string[] {
  const gaps = read.evidence.flatMap((evidence) => [
    ...(evidence.unavailable ? [`${evidence.source}: ${evidence.unavailable.message}`] : []),
    ...(evidence.complete || evidence.unavailable ? [] : [`${evidence.source}: sampled, not every call was read`]),
    // A source that could not be read may list the same reason among its blind spots: said once, with its source.
    ...evidence.blindSpots.filter((spot) => spot !== evidence.unavailable?.message),
  ]);
  return [...new Set(gaps)];
}
