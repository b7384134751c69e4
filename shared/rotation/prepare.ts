import { AccessKeyNotFoundError, KeyLimitReachedError, KeyNotActiveError } from '../base/errors.ts';
import { resolveUserSettings } from '../config/user-settings.ts';
import { decideRoom, planCompromiseRoom, waitSeconds, type RoomDecision } from './decisions.ts';
import type { RotationDeps } from './deps.ts';
import { deleteKey, keyLastUsed, listUserKeys, readUser, type AccessKey } from '../aws/iam.ts';
import { assertOwnedBy, CURRENT, PREVIOUS, readSecret } from './secret.ts';
import type { SecretView } from './secret.ts';
import type { Rotation, RotationInput } from './workflow-state.ts';

/** On the compromise path the health gate only records when consumers recover: it gives up after an hour at most. */
export const COMPROMISE_GATE_DEADLINE_MS = 3_600_000;

/**
 * Room on the compromise path (the leaked key is already Inactive): see planCompromiseRoom. A plan
 * to skip the replacement was routed past this step by the state machine, so meeting one here means
 * the keys changed since Contain: refuse, deleting nothing.
 */
async function compromiseRoom(keys: readonly AccessKey[], input: RotationInput, secret: SecretView, deps: RotationDeps): Promise<RoomDecision> {
  const other = keys.find((key) => key.accessKeyId !== input.accessKeyId);
  const otherUsed = other ? (await keyLastUsed(deps.iam, other.accessKeyId, 'unused')) !== undefined : false;
  const plan = planCompromiseRoom(
    keys.map((key) => ({ ...key, everUsed: key.accessKeyId === input.accessKeyId || otherUsed })),
    input.accessKeyId,
    secret.versions,
    deps.config.compromisedKeyAction,
  );
  switch (plan.plan) {
    case 'delete-other':
    case 'delete-compromised':
      return { action: 'delete', accessKeyId: plan.accessKeyId ?? '' };
    case 'skip':
      throw new KeyLimitReachedError(
        `The leaked key ${input.accessKeyId} of ${input.userName} is contained, but no replacement can be issued: ${plan.why}. ` +
          `Nothing else was changed. Decide about ${plan.accessKeyId ?? 'the other key'}, then start a manual rotation if consumers need a new key.`,
      );
    default:
      return { action: 'none' };
  }
}

/**
 * Prepare: a live read of the user (the scan's credential report may be hours old), its settings
 * from tags, and room under the two-key limit. Fails with a typed error, changing nothing, when the
 * key is not the user's Active key or when room cannot be made safely.
 */
export async function prepare(input: RotationInput, deps: RotationDeps): Promise<Rotation> {
  const { userName, accessKeyId } = input;
  const user = await readUser(deps.iam, userName);
  const { settings, problems } = resolveUserSettings(userName, user.tags, deps.config);
  for (const problem of problems) deps.logger.warn('invalid tag ignored', { userName, tag: problem.tagKey, detail: problem.message });

  const keys = await listUserKeys(deps.iam, userName);
  const oldKey = keys.find((key) => key.accessKeyId === accessKeyId);
  if (!oldKey) {
    throw new AccessKeyNotFoundError(
      `Access key ${accessKeyId} is not a key of IAM user ${userName} (it may have been deleted, or belong to another user). ` +
        `List the user's keys with \`aws iam list-access-keys --user-name ${userName}\` and rotate one of them.`,
    );
  }
  // On the compromise path Contain has already deactivated the key: that is the point.
  if (oldKey.status !== 'Active' && input.kind !== 'compromise') {
    throw new KeyNotActiveError(
      `Access key ${accessKeyId} of ${userName} is Inactive: there is nothing to rotate. Delete it if it is no longer needed, or reactivate it first.`,
    );
  }

  const secret = await readSecret(deps.secretsManager, settings.secretName);
  assertOwnedBy(secret, settings.secretName, userName);
  const secretCurrentKeyId = secret.versions.find((version) => version.stages.includes(CURRENT))?.accessKeyId;
  const secretPreviousKeyId = secret.versions.find((version) => version.stages.includes(PREVIOUS))?.accessKeyId;
  const room =
    input.kind === 'compromise' ? await compromiseRoom(keys, input, secret, deps) : decideRoom(keys, accessKeyId, secretCurrentKeyId, secretPreviousKeyId);
  if (room.action === 'refuse') {
    const why =
      room.why === 'active'
        ? `both keys are Active (${accessKeyId}, being rotated, and ${room.otherKeyId})`
        : `the other key ${room.otherKeyId} is Inactive but secret ${settings.secretName} (AWSCURRENT) still holds it`;
    throw new KeyLimitReachedError(
      `User ${userName} already has two access keys and ${why}. IAM allows two keys per user and the rotator never deletes a key that may be in use, so nothing was changed. ` +
        `Deactivate and delete the key that is no longer needed (\`aws iam update-access-key --user-name ${userName} --access-key-id ${room.otherKeyId} --status Inactive\`, ` +
        `then \`aws iam delete-access-key ...\`), then start the rotation again.`,
    );
  }
  if (room.action === 'delete') {
    await deleteKey(deps.iam, userName, room.accessKeyId);
    deps.logger.info('deleted an Inactive key to make room', { userName, accessKeyId: room.accessKeyId });
  }

  const durations = {
    healthCheckIntervalMs: deps.durations.healthCheckIntervalMs ?? settings.healthCheckIntervalMs,
    healthCheckDeadlineMs: Math.min(
      deps.durations.healthCheckDeadlineMs ?? settings.healthCheckDeadlineMs,
      input.kind === 'compromise' ? COMPROMISE_GATE_DEADLINE_MS : Number.POSITIVE_INFINITY,
    ),
    observationMs: deps.durations.observationMs ?? settings.observationMs,
    oldKeyQuietMs: deps.durations.oldKeyQuietMs ?? deps.config.oldKeyQuietMs,
  };
  return {
    userName,
    userArn: user.arn,
    oldAccessKeyId: accessKeyId,
    kind: input.kind,
    requestedBy: input.requestedBy,
    reason: input.reason,
    // null when no tag names an owner: the notifier then tells OPERATIONS_OWNER, flagged "owner unknown".
    owner: settings.owner ?? null,
    secretName: settings.secretName,
    startedAt: deps.clock().toISOString(),
    healthChecks: [...settings.healthChecks],
    healthCheckUrls: [...settings.healthCheckUrls],
    waitSeconds: waitSeconds(durations.healthCheckIntervalMs),
    healthCheckDeadlineMs: durations.healthCheckDeadlineMs,
    observationMs: durations.observationMs,
    oldKeyQuietMs: durations.oldKeyQuietMs,
    removedKeyId: room.action === 'delete' ? room.accessKeyId : null,
    confirmVia: deps.confirmVia ?? 'tag',
    // null, not absent: the ASL's ResultSelector reads both, and a missing path would fail the execution.
    accountId: input.accountId ?? null,
    accountName: input.accountName ?? null,
  };
}
