import * as z from 'zod/mini';
import '../base/zod-locale.ts';
import { AccountId } from '../base/account-id.ts';
import { InvalidInputError, UnverifiedEventSourceError } from '../base/errors.ts';
import { isSessionKeyId } from '../base/access-key-id.ts';
import { SETTINGS } from '../config/settings.ts';

/**
 * What can start a rotation on demand: a direct request (API call, CLI), an AWS Health
 * `AWS_RISK_CREDENTIALS_EXPOSED` event, or a GuardDuty finding about an IAM user's access key.
 * Each parses into requests without timestamps, so a repeated event makes the same request and
 * StartExecution (same name, same input) starts nothing new.
 */

export const HEALTH_SOURCE = 'aws.health';
export const HEALTH_DETAIL_TYPE = 'AWS Health Event';
export const CREDENTIALS_EXPOSED = 'AWS_RISK_CREDENTIALS_EXPOSED';
export const GUARDDUTY_SOURCE = 'aws.guardduty';
export const GUARDDUTY_DETAIL_TYPE = 'GuardDuty Finding';

/**
 * On demand, a rotation is manual (a person asked), a compromise (contain first), or a retirement
 * (take the key out of service with no replacement); scheduled ones belong to the scanner.
 */
export const ON_DEMAND_KINDS = ['manual', 'compromise', 'retire'] as const;
export type OnDemandKind = (typeof ON_DEMAND_KINDS)[number];

/**
 * How the stack's EventBridge rules deliver an event (serverless.yml, an InputTransformer on each
 * rule's target): `{ deliveredBy: "eventbridge-rule", rule: <aws.events.rule-arn>, event:
 * <aws.events.event.json> }`. Lambda tells a function nothing verified about who invoked it, and an
 * event delivered as is is plain JSON that any `lambda:Invoke` can copy: a bare payload with
 * `source: "aws.health"` is therefore refused, not believed. The wrapper is not a proof either
 * (whoever may invoke the function can write one): it makes the claim explicit and deliberate, so
 * that an event can be claimed only by a caller allowed to invoke start-rotation, never by a copy.
 */
export const RULE_DELIVERY = 'eventbridge-rule';
/** The prefix of `requestedBy` for a direct invoke: what follows is the caller's claim, not a verified identity. */
export const DIRECT_INVOKE = 'direct-invoke:';
// The workflow input keeps requestedBy to 256 characters (workflow-state.ts); the prefix takes its share.
const MAX_CLAIM_LENGTH = 256 - DIRECT_INVOKE.length;

const RuleDelivery = z.strictObject({
  deliveredBy: z.literal(RULE_DELIVERY),
  rule: z.string().check(z.regex(/^arn:aws[\w-]*:events:[\w-]+:\d{12}:rule\/[\w.\-/]{1,256}$/, 'must be the ARN of an EventBridge rule')),
  // Loose: the event keeps every field for its own schema below.
  event: z.looseObject({ source: z.string() }),
});

const accessKeyId = z.string().check(z.regex(/^[A-Z0-9]{16,128}$/, 'must be an access key id like AKIAIOSFODNN7EXAMPLE'));
/** Long-term IAM user keys start with AKIA; ASIA keys are temporary session credentials, which expire instead of being rotated. */
const longTermKeyId = accessKeyId.check(z.regex(/^AKIA/, 'must be a long-term IAM user access key id (AKIA...)'));
const userName = z.string().check(z.regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM user name'));

export const DirectRequest = z
  .strictObject({
    userName,
    accessKeyId: z.optional(accessKeyId),
    kind: z._default(z.enum(ON_DEMAND_KINDS), 'manual'),
    /** The caller's own claim, unverified: recorded as `direct-invoke:<claim>` (DIRECT_INVOKE), so it never passes for a verified identity. */
    requestedBy: z._default(z.string().check(z.minLength(1), z.maxLength(MAX_CLAIM_LENGTH)), 'api'),
    reason: z._default(z.string().check(z.maxLength(1024)), ''),
    /** The account that holds the user (organization-wide rotation); absent: the stack's own. */
    accountId: z.optional(AccountId),
    accountName: z.optional(z.string().check(z.maxLength(128))),
    /** Rotate an exempt user anyway: a person's reason, required to say so explicitly (Prepare refuses without it). */
    exemptionOverride: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
    /** A retirement: schedule the user's secret for deletion once the key is deleted. */
    deleteSecret: z.optional(z.boolean()),
  })
  .check(
    z.refine(
      (request: { kind: OnDemandKind; accessKeyId?: string | undefined }) =>
        request.kind !== 'compromise' || request.accessKeyId !== undefined,
      {
        message: 'a compromise rotation needs the accessKeyId of the leaked key',
        path: ['accessKeyId'],
      },
    ),
    z.refine(
      (request: { kind: OnDemandKind; deleteSecret?: boolean | undefined }) => request.deleteSecret !== true || request.kind === 'retire',
      {
        message: 'deleteSecret applies to a retirement (kind retire) only',
        path: ['deleteSecret'],
      },
    ),
  );

/** The documented shape (AWS Health user guide; aws/aws-health-tools): the exposed key is an affected entity's value. */
export const HealthEvent = z.object({
  source: z.literal(HEALTH_SOURCE),
  'detail-type': z.literal(HEALTH_DETAIL_TYPE),
  id: z.string(),
  account: z.string(),
  detail: z.object({
    eventArn: z.string().check(z.minLength(1)),
    service: z.optional(z.string()),
    eventTypeCode: z.literal(CREDENTIALS_EXPOSED, { message: `only ${CREDENTIALS_EXPOSED} events start a rotation` }),
    affectedEntities: z.array(z.object({ entityValue: longTermKeyId })).check(z.minLength(1, 'must name the exposed access key')),
  }),
});

/**
 * A GuardDuty finding. Any resource type may name an IAM user's key in `resource.accessKeyDetails`:
 * AccessKey findings, and S3 protection findings (`resourceType: S3Bucket`) about the caller.
 */
export const GuardDutyFinding = z.object({
  source: z.literal(GUARDDUTY_SOURCE),
  'detail-type': z.literal(GUARDDUTY_DETAIL_TYPE),
  id: z.string(),
  account: z.string(),
  detail: z.object({
    id: z.string().check(z.minLength(1)),
    type: z.string().check(z.minLength(1)),
    severity: z.number(),
    resource: z.object({
      resourceType: z.string(),
      accessKeyDetails: z.optional(
        z.object({
          accessKeyId: z.string(),
          userName: z.string(),
          userType: z.string(),
        }),
      ),
    }),
    service: z.optional(z.object({ additionalInfo: z.optional(z.object({ sample: z.optional(z.unknown()) })) })),
  }),
});

/** Which GuardDuty findings contain a key (GUARDDUTY_MIN_SEVERITY, GUARDDUTY_FINDING_TYPES). */
export interface GuardDutyPolicy {
  readonly guardDutyMinSeverity: number;
  /** Empty: every type. */
  readonly guardDutyFindingTypes: readonly string[];
}

/** The settings' defaults, for callers without a loaded config (the CLI's parse script, tests). */
export const DEFAULT_GUARDDUTY_POLICY: GuardDutyPolicy = {
  guardDutyMinSeverity: Number(SETTINGS.guardDutyMinSeverity.default),
  guardDutyFindingTypes: [],
};

/** One rotation to start. Without userName (a Health event names only the key) the key's owner is looked up. */
export interface TriggerRequest {
  readonly userName: string | undefined;
  readonly accessKeyId: string | undefined;
  readonly kind: OnDemandKind;
  readonly requestedBy: string;
  readonly reason: string;
  /** The account that holds the user, when a direct request names one (start-rotation reads an event's `account` itself). */
  readonly accountId?: string | undefined;
  readonly accountName?: string | undefined;
  /** A direct request's explicit reason for rotating an exempt user; events never carry one. */
  readonly exemptionOverride?: string | undefined;
  /** A direct request's retirement: also schedule the user's secret for deletion. */
  readonly deleteSecret?: boolean | undefined;
}

export type ParsedTrigger =
  | { readonly type: 'requests'; readonly source: 'direct' | 'health' | 'guardduty'; readonly requests: readonly TriggerRequest[] }
  | { readonly type: 'ignored'; readonly source: 'guardduty'; readonly reason: string };

function invalid(what: string, error: z.core.$ZodError): InvalidInputError {
  const problems = error.issues.map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`);
  return new InvalidInputError(`${what} was rejected and nothing was changed (${problems.join('; ')}).`);
}

const hasKey = (value: unknown, key: string): boolean => value !== null && typeof value === 'object' && key in value;

/** The text of a claimed source, short: it is not echoed at length. */
const sourceText = (source: unknown): string => (typeof source === 'string' ? source.slice(0, 64) : 'an unknown source');

/**
 * Parses any trigger, or throws a typed error naming every problem (InvalidInputError), or the
 * claimed source of an event that did not come through a rule (UnverifiedEventSourceError). Never
 * echoes the event itself.
 */
export function parseTrigger(payload: unknown, guardDuty: GuardDutyPolicy = DEFAULT_GUARDDUTY_POLICY): ParsedTrigger {
  if (hasKey(payload, 'deliveredBy')) {
    const delivery = RuleDelivery.safeParse(payload);
    if (!delivery.success) throw invalid('The EventBridge delivery', delivery.error);
    return parseEvent(delivery.data.event, guardDuty);
  }
  if (hasKey(payload, 'source')) {
    const source = (payload as { source: unknown }).source;
    throw new UnverifiedEventSourceError(
      `A payload claiming to be an event from ${sourceText(source)} was invoked directly, not delivered by the stack's EventBridge rule; nothing was changed. ` +
        'Events reach start-rotation only through its rules; to ask for a rotation yourself, send { userName, accessKeyId, kind, reason }.',
    );
  }
  const parsed = DirectRequest.safeParse(payload);
  if (!parsed.success) throw invalid('The rotation request', parsed.error);
  return {
    type: 'requests',
    source: 'direct',
    requests: [{ ...parsed.data, accessKeyId: parsed.data.accessKeyId, requestedBy: `${DIRECT_INVOKE}${parsed.data.requestedBy}` }],
  };
}

/** An event a rule delivered: an AWS Health event or a GuardDuty finding, parsed as AWS documents them. */
function parseEvent(event: { source: string }, guardDuty: GuardDutyPolicy): ParsedTrigger {
  const { source } = event;
  if (source === HEALTH_SOURCE) {
    const parsed = HealthEvent.safeParse(event);
    if (!parsed.success) throw invalid('The AWS Health event', parsed.error);
    const { detail } = parsed.data;
    const keys = [...new Set(detail.affectedEntities.map((entity) => entity.entityValue))];
    return {
      type: 'requests',
      source: 'health',
      requests: keys.map((key) => ({
        userName: undefined,
        accessKeyId: key,
        kind: 'compromise',
        requestedBy: `aws.health:${detail.eventArn}`,
        reason: `AWS Health ${CREDENTIALS_EXPOSED}: access key ${key} was found in public`,
      })),
    };
  }
  if (source === GUARDDUTY_SOURCE) {
    const parsed = GuardDutyFinding.safeParse(event);
    if (!parsed.success) throw invalid('The GuardDuty finding', parsed.error);
    const { detail } = parsed.data;
    const target = guardDutyTarget(detail, guardDuty);
    if ('ignored' in target) {
      return { type: 'ignored', source: 'guardduty', reason: `finding ${detail.id} (${detail.type.slice(0, 128)}) ${target.ignored}` };
    }
    const { key } = target;
    const request = DirectRequest.safeParse({ userName: key.userName, accessKeyId: key.accessKeyId, kind: 'compromise' });
    if (!request.success) throw invalid('The GuardDuty finding', request.error);
    return {
      type: 'requests',
      source: 'guardduty',
      requests: [
        {
          userName: request.data.userName,
          accessKeyId: request.data.accessKeyId,
          kind: 'compromise',
          requestedBy: `aws.guardduty:${detail.id}`,
          reason: `GuardDuty finding ${detail.type} (severity ${detail.severity}, resource ${detail.resource.resourceType.slice(0, 64)}${
            // An ASIA key: the user's own sessions, which Contain denies; there is no key to rotate.
            isSessionKeyId(key.accessKeyId) ? ', about temporary credentials of the user' : ''
          })`,
        },
      ],
    };
  }
  throw new InvalidInputError(
    `Events from ${sourceText(source)} do not start rotations; nothing was changed. Only AWS Health ${CREDENTIALS_EXPOSED} events and GuardDuty findings do.`,
  );
}

type GuardDutyDetail = z.output<typeof GuardDutyFinding>['detail'];
type AccessKeyDetails = NonNullable<GuardDutyDetail['resource']['accessKeyDetails']>;

/** The IAM user's credentials a finding is about when it passes the policy, or why it starts nothing. */
function guardDutyTarget(
  detail: GuardDutyDetail,
  policy: GuardDutyPolicy,
): { readonly key: AccessKeyDetails } | { readonly ignored: string } {
  const ignored = (reason: string) => ({ ignored: reason });
  // CreateSampleFindings writes placeholders (GeneratedFindingUserName): a drill, not a leak.
  if (detail.service?.additionalInfo?.sample === true) return ignored('is a GuardDuty sample finding');
  const key = detail.resource.accessKeyDetails;
  // Role sessions, root and federated users hold no IAM user key to rotate.
  if (key?.userType !== 'IAMUser') return ignored("is not about an IAM user's credentials");
  if (detail.severity < policy.guardDutyMinSeverity) {
    return ignored(`has severity ${detail.severity}, below GUARDDUTY_MIN_SEVERITY (${policy.guardDutyMinSeverity})`);
  }
  if (policy.guardDutyFindingTypes.length > 0 && !policy.guardDutyFindingTypes.includes(detail.type)) {
    return ignored('is not of a type in GUARDDUTY_FINDING_TYPES');
  }
  return { key };
}
