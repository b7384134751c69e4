import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod/mini';
import '../base/zod-locale.ts';
import { DAY_MS } from '../base/clock.ts';
import { errorMessage } from '../base/errors.ts';
import { WORKFLOW_EVENTS } from '../config/notification-events.ts';
import type { NotificationRequestFacts, SendOutcome } from '../notify/notifier.ts';
import { resolveUserSettings } from '../config/user-settings.ts';
import type { RotationDeps } from './deps.ts';
import { readUser } from '../aws/iam.ts';
import { causeMessage, Contained, Deactivated, FailureInput, Gate, Observation } from './workflow-state.ts';
import { incidentLines, PROPAGATION_MARGIN_MS } from './incident.ts';
import { recordWorkflowFinding } from './workflow-findings.ts';

/**
 * How long "this execution already sent this event" is remembered. Longer than any retry or redrive
 * of a step (redrive is possible for 14 days after a failure), shorter than the 90 days after which
 * Step Functions lets a new execution reuse the name, so a reused name is notified afresh.
 */
export const WORKFLOW_NOTICE_KEEP_MS = 60 * DAY_MS;

export const NotifyInput = z.object({
  event: z.enum(WORKFLOW_EVENTS),
  /** `$$.Execution.Name`: with the event, the id that makes a retried notify step send nothing new. */
  executionName: z.string().check(z.minLength(1), z.maxLength(80)),
  state: z.extend(FailureInput, {
    gate: z.optional(Gate),
    deactivated: z.optional(Deactivated),
    observation: z.optional(Observation),
    rollback: z.optional(z.object({ reason: z.string(), currentKeyId: z.nullable(z.string()), actions: z.array(z.string()) })),
    safe: z.optional(z.object({ actions: z.array(z.string()), detail: z.string() })),
    /** The request's reason, before Prepare has run (the compromise path notifies first). */
    reason: z.optional(z.string()),
    contained: z.optional(Contained),
    /** DeleteOldKey's result: a retirement's secret scheduled for deletion, or not; a leaked key kept Inactive instead of deleted. */
    deleted: z.optional(
      z.object({
        secret: z.optional(z.enum(['kept', 'scheduled-for-deletion', 'deletion-failed'])),
        keptInactive: z.optional(z.boolean()),
      }),
    ),
  }),
});
export type NotifyInput = z.output<typeof NotifyInput>;

export interface NotifyResult {
  /** The SNS message id when this call published; null when it was a repeat, suppressed or had no topic. */
  readonly messageId: string | null;
  readonly status: SendOutcome['status'];
}

/** An exempt user rotated anyway: the notice says why it was exempt and who overrode it with what reason. */
function exemptNote(rotation: { readonly exemption?: string | null; readonly exemptionOverride?: string | null }): string {
  if (!rotation.exemption) return '';
  const override = rotation.exemptionOverride ? `; exemption overridden: ${rotation.exemptionOverride}` : '';
  return `; the user is exempt (${rotation.exemption})${override}`;
}

/**
 * The facts of one workflow event, read from the state: keys by id, the secret by name, times of
 * the next step. The state never holds a secret value, so neither can the message.
 */
export function workflowFacts(input: NotifyInput, owner: string | undefined, secretArn: string | undefined): NotificationRequestFacts {
  const { state, event } = input;
  const rotation = state.rotation;
  const base = {
    event,
    userName: rotation?.userName ?? state.userName ?? 'unknown user',
    owner,
    oldAccessKeyId: rotation?.oldAccessKeyId ?? state.accessKeyId,
    newAccessKeyId: state.newKey?.accessKeyId,
    secretName: rotation?.secretName,
    secretArn,
    executionName: input.executionName,
    // The member account that holds the user; absent in the stack's own account (the notifier fills it in).
    accountId: rotation?.accountId ?? state.accountId,
    accountName: rotation?.accountName ?? state.accountName,
    weakened: rotation?.weakened,
    retirement: (rotation?.kind ?? state.kind) === 'retire' ? { secret: state.deleted?.secret ?? 'kept' } : undefined,
    compromise:
      (rotation?.kind ?? state.kind) === 'compromise'
        ? {
            keptInactive: state.deleted?.keptInactive === true,
            // Only this plan leaves the other key Active beside the replacement (planCompromiseRoom).
            otherActiveKeyId: state.contained?.plan === 'delete-compromised' ? state.contained.otherKeyId : null,
          }
        : undefined,
  };
  switch (event) {
    case 'rotation-started': {
      // A retirement checked the key once first: the consumers still on it are what the owner must move.
      const stillUsing = base.retirement ? (state.gate?.stragglers ?? []) : [];
      const why = rotation
        ? `${rotation.kind === 'retire' ? 'retirement' : `${rotation.kind} rotation`} requested by ${rotation.requestedBy}${rotation.reason ? ` (${rotation.reason})` : ''}${exemptNote(rotation)}`
        : undefined;
      return {
        ...base,
        reason: why,
        consumers: stillUsing.length > 0 ? { heading: 'Still using the key (from CloudTrail)', consumers: stillUsing, more: 0 } : undefined,
      };
    }
    case 'new-key-ready': {
      // Promote read them from CloudTrail: the consumers the owner must move to the secret.
      const toMove = state.promoted?.consumersToMove ?? [];
      return {
        ...base,
        nextStepAt: state.promoted?.gateDeadline,
        consumers:
          toMove.length > 0
            ? { heading: 'Seen on the old key before the new one was promoted (from CloudTrail)', consumers: toMove, more: 0 }
            : undefined,
      };
    }
    case 'action-needed': {
      const stragglers = state.gate?.stragglers ?? [];
      const heading = base.retirement ? 'Still using the key (from CloudTrail)' : 'Still on the old key (from CloudTrail)';
      return {
        ...base,
        reason: state.gate?.detail,
        consumers: stragglers.length > 0 ? { heading, consumers: stragglers, more: 0 } : undefined,
      };
    }
    case 'old-key-deactivated':
      return { ...base, nextStepAt: state.deactivated?.observeUntil };
    case 'rolled-back':
      return {
        ...base,
        reason: state.rollback?.reason ?? state.observation?.detail ?? state.gate?.detail,
        currentKeyId: state.rollback?.currentKeyId ?? undefined,
      };
    case 'rotation-completed':
      return base;
    case 'rotation-failed': {
      const made = state.safe ? ` Made safe: ${state.safe.detail}` : '';
      return { ...base, reason: `${state.error?.Error ?? 'error'}: ${causeMessage(state.error)}.${made}` };
    }
    case 'compromise-contained': {
      const why = rotation?.reason || state.reason || 'suspected leak';
      const contained = state.contained;
      if (!contained) return { ...base, reason: why };
      const exempt = contained.exemption
        ? `; the user is exempt from rotation (${contained.exemption}), but a leaked key is contained regardless`
        : '';
      if (contained.session)
        return { ...base, reason: why, session: contained.session, details: containedDetails(contained, base.userName) };
      return {
        ...base,
        reason: `${why} (replacement: ${contained.detail}${exempt})`,
        details: containedDetails(contained, base.userName),
      };
    }
  }
}

/** What is cut and what is not, and what the leaked key did: the critical notice's body. */
function containedDetails(contained: Contained, userName: string): string[] {
  const denied =
    `The user's sessions issued before ${contained.deniedBefore} are denied by the inline policy ${contained.denyPolicyName} (containment time ` +
    `plus ${PROPAGATION_MARGIN_MS / 60_000} minutes, so a session minted while the deactivation was still reaching IAM's endpoints is denied too; ` +
    `a legitimate session requested in those minutes must be requested again).${contained.session ? '' : ' The key itself no longer authenticates.'}`;
  const quarantine = contained.awsQuarantinePolicies.map(
    (policy) =>
      `AWS attached ${policy} to ${userName}. It restricts every credential of the user, the replacement key too: it denies iam:CreateAccessKey, ` +
      `ec2:RunInstances, lambda:CreateFunction and more, so consumers on the new key may be refused those calls. The rotator never detaches it; ` +
      `after the investigation: aws iam detach-user-policy --user-name ${userName} --policy-arn arn:aws:iam::aws:policy/${policy}`,
  );
  const incident = contained.incident ? incidentLines(contained.incident, contained.deniedBefore) : [];
  return [denied, ...quarantine, ...incident];
}

/** The owner from the state; after a failure in Prepare, from the user's tags; undefined when no tag names one. */
async function ownerOf(input: NotifyInput, deps: RotationDeps): Promise<string | undefined> {
  const rotation = input.state.rotation;
  if (rotation) return rotation.owner ?? undefined;
  const userName = input.state.userName;
  if (!userName) return undefined;
  try {
    const { tags } = await readUser(deps.iam, userName);
    return resolveUserSettings(userName, tags, deps.config).settings.owner;
  } catch (error) {
    // The user may be gone (that can be why the rotation failed): operations still hears about it.
    deps.logger.warn('owner could not be read from tags', { userName, detail: errorMessage(error) });
    return undefined;
  }
}

/** The secret's ARN for the events that tell consumers where to read the key; DescribeSecret never returns a value. */
async function secretArnOf(input: NotifyInput, deps: RotationDeps): Promise<string | undefined> {
  const secretName = input.state.rotation?.secretName;
  if (secretName === undefined || (input.event !== 'new-key-ready' && input.event !== 'compromise-contained')) return undefined;
  try {
    return (await deps.secretsManager.send(new DescribeSecretCommand({ SecretId: secretName }))).ARN;
  } catch (error) {
    // The message still names the secret; an ARN is a convenience, not worth failing the rotation for.
    deps.logger.warn('secret ARN could not be read; the message names the secret only', { secretName, detail: errorMessage(error) });
    return undefined;
  }
}

/** Notify: one SNS message per event and execution, however often Step Functions retries the step. */
export async function notify(input: NotifyInput, deps: RotationDeps): Promise<NotifyResult> {
  const facts = workflowFacts(input, await ownerOf(input, deps), await secretArnOf(input, deps));
  const outcome = await deps.notifier.send({
    facts,
    dedupeId: `execution#${input.executionName}#${input.event}`,
    keepForMs: WORKFLOW_NOTICE_KEEP_MS,
  });
  // After the notice, so Security Hub never delays or stops it (recordWorkflowFinding never throws).
  await recordWorkflowFinding(
    {
      name: input.event,
      executionName: input.executionName,
      startedAt: input.state.rotation?.startedAt ?? input.state.contained?.containedAt,
      kind: input.state.rotation?.kind ?? input.state.kind,
    },
    facts,
    deps,
  );
  return { messageId: outcome.status === 'sent' ? outcome.messageId : null, status: outcome.status };
}
