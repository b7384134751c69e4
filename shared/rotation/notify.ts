import { PublishCommand } from '@aws-sdk/client-sns';
import { z } from 'zod';
import { errorMessage } from '../errors.ts';
import { resolveUserSettings } from '../tags.ts';
import type { RotationDeps } from './deps.ts';
import { readUser } from './keys.ts';
import { causeMessage, Deactivated, FailureInput, Gate, Observation } from './state.ts';

export const NOTIFY_EVENTS = ['started', 'ready', 'action-needed', 'deactivated', 'rolled-back', 'completed', 'failed'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
export type Severity = 'info' | 'warning' | 'error';

export const NotifyInput = z.object({
  event: z.enum(NOTIFY_EVENTS),
  state: FailureInput.extend({
    gate: Gate.optional(),
    deactivated: Deactivated.optional(),
    observation: Observation.optional(),
    rollback: z.object({ reason: z.string(), currentKeyId: z.string().nullable(), actions: z.array(z.string()) }).optional(),
    safe: z.object({ actions: z.array(z.string()), detail: z.string() }).optional(),
  }),
});
export type NotifyInput = z.output<typeof NotifyInput>;

export interface Notification {
  readonly subject: string;
  readonly message: string;
  readonly severity: Severity;
  readonly userName: string;
  readonly owner: string;
}

// SNS subjects must be ASCII and shorter than 100 characters.
const SUBJECT_MAX = 99;

/**
 * The message for one workflow event: what happened, what the owner should do. It names keys by
 * id and the secret by name; the state it is built from never holds a secret value.
 * (Issue 6 refines content and routing; the attributes below are what subscribers filter on.)
 */
export function buildNotification(input: NotifyInput, owner: string): Notification {
  const { state } = input;
  const rotation = state.rotation;
  const userName = rotation?.userName ?? state.userName ?? 'unknown user';
  const oldKey = rotation?.oldAccessKeyId ?? state.accessKeyId ?? 'unknown key';
  const newKey = state.newKey?.accessKeyId;
  const secret = rotation?.secretName ?? 'its secret';
  const lines: string[] = [];
  let summary: string;
  let severity: Severity = 'info';
  switch (input.event) {
    case 'started':
      summary = `rotation of ${oldKey} started`;
      lines.push(`A ${rotation?.kind ?? ''} rotation of access key ${oldKey} started (requested by ${rotation?.requestedBy ?? 'unknown'}${rotation?.reason ? `: ${rotation.reason}` : ''}).`);
      lines.push(`A new key will be stored in Secrets Manager secret ${secret}. Nothing to do yet.`);
      break;
    case 'ready':
      summary = `new key ${newKey ?? ''} is ready`;
      lines.push(`New access key ${newKey ?? ''} is verified and is now the AWSCURRENT version of secret ${secret}.`);
      lines.push(`Consumers must read AWSCURRENT of ${secret} and switch to it. The old key ${oldKey} keeps working until they do.`);
      break;
    case 'action-needed':
      severity = 'warning';
      summary = `action needed: consumers still on ${oldKey}`;
      lines.push(`Consumers did not pass the health checks before the deadline (${state.gate?.detail ?? 'no detail'}).`);
      lines.push(`Both keys stay Active: ${oldKey} (old) and ${newKey ?? ''} (new, AWSCURRENT of ${secret}). Move the remaining consumers to the secret, then rotate again to finish.`);
      break;
    case 'deactivated':
      summary = `old key ${oldKey} deactivated`;
      lines.push(`Old key ${oldKey} is now Inactive. It will be deleted after the observation period (until ${state.deactivated?.observeUntil ?? 'later'}).`);
      lines.push(`If something breaks, the rotation rolls back by itself; to roll back now, tag the user rotation:abort=${newKey ?? ''}.`);
      break;
    case 'rolled-back':
      severity = 'warning';
      summary = `rotation rolled back, ${oldKey} is current again`;
      lines.push(`The rotation was rolled back: ${state.rollback?.reason ?? state.observation?.detail ?? 'trouble during observation'}.`);
      lines.push(`Old key ${oldKey} is Active and AWSCURRENT of ${secret} holds ${state.rollback?.currentKeyId ?? 'it'}. Actions: ${state.rollback?.actions.join('; ') || 'none'}.`);
      lines.push(`Find the consumer that still uses the old key, move it to the secret, then rotate again.`);
      break;
    case 'completed':
      summary = `rotation completed, ${oldKey} deleted`;
      lines.push(`Old key ${oldKey} was deleted. ${newKey ?? 'The new key'} is the user's key, stored as AWSCURRENT of ${secret}. Nothing to do.`);
      break;
    case 'failed':
      severity = 'error';
      summary = `rotation failed: ${state.error?.Error ?? 'error'}`;
      lines.push(`The rotation of ${oldKey} failed with ${state.error?.Error ?? 'an error'}: ${causeMessage(state.error)}`);
      lines.push(`Made safe: ${state.safe?.detail ?? 'not attempted'}. The user keeps at least the working keys it had before.`);
      break;
  }
  const subject = `[iam-key-rotator] ${userName}: ${summary}`;
  return {
    subject: subject.length > SUBJECT_MAX ? `${subject.slice(0, SUBJECT_MAX - 3)}...` : subject,
    message: [`User: ${userName}`, ...lines].join('\n'),
    severity,
    userName,
    owner,
  };
}

/** The owner from the state; after a failure in Prepare, from the user's tags; else the operations address. */
async function ownerOf(input: NotifyInput, deps: RotationDeps): Promise<string> {
  const rotation = input.state.rotation;
  if (rotation) return rotation.owner ?? 'unknown';
  const userName = input.state.userName;
  if (userName) {
    try {
      const { tags } = await readUser(deps.iam, userName);
      const owner = resolveUserSettings(userName, tags, deps.config).settings.owner;
      if (owner) return owner;
    } catch (error) {
      deps.logger.warn('owner could not be read from tags', { userName, detail: errorMessage(error) });
    }
  }
  return deps.config.operationsEmail || 'unknown';
}

/** Notify: one SNS message per event. With no topic configured, it logs that it skipped. */
export async function notify(input: NotifyInput, deps: RotationDeps): Promise<{ messageId: string | null }> {
  const notification = buildNotification(input, await ownerOf(input, deps));
  const topicArn = deps.config.topicArn;
  if (!topicArn) {
    deps.logger.info('no notification topic configured; notification skipped', { event: input.event, userName: notification.userName });
    return { messageId: null };
  }
  const attribute = (value: string) => ({ DataType: 'String', StringValue: value });
  const response = await deps.sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: notification.subject,
      Message: notification.message,
      MessageAttributes: {
        event: attribute(input.event),
        severity: attribute(notification.severity),
        userName: attribute(notification.userName),
        owner: attribute(notification.owner),
      },
    }),
  );
  deps.logger.info('notification sent', { event: input.event, userName: notification.userName, owner: notification.owner });
  return { messageId: response.MessageId ?? null };
}
