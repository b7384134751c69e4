import { AccessKeyNotFoundError, KeyLimitReachedError, KeyNotActiveError } from '../errors.ts';
import { resolveUserSettings } from '../tags.ts';
import { decideRoom, waitSeconds } from './decisions.ts';
import type { RotationDeps } from './deps.ts';
import { deleteKey, listUserKeys, readUser } from './keys.ts';
import { assertOwnedBy, CURRENT, readSecret } from './secret.ts';
import type { Rotation, RotationInput } from './state.ts';

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
  if (oldKey.status !== 'Active') {
    throw new KeyNotActiveError(
      `Access key ${accessKeyId} of ${userName} is Inactive: there is nothing to rotate. Delete it if it is no longer needed, or reactivate it first.`,
    );
  }

  const secret = await readSecret(deps.secretsManager, settings.secretName);
  assertOwnedBy(secret, settings.secretName, userName);
  const secretCurrentKeyId = secret.versions.find((version) => version.stages.includes(CURRENT))?.accessKeyId;
  const room = decideRoom(keys, accessKeyId, secretCurrentKeyId);
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
    deps.logger.info('deleted an Inactive, unreferenced key to make room', { userName, accessKeyId: room.accessKeyId });
  }

  const durations = {
    healthCheckIntervalMs: deps.durations.healthCheckIntervalMs ?? settings.healthCheckIntervalMs,
    healthCheckDeadlineMs: deps.durations.healthCheckDeadlineMs ?? settings.healthCheckDeadlineMs,
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
  };
}
