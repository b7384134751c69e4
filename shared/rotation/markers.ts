import { TagUserCommand, UntagUserCommand } from '@aws-sdk/client-iam';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Config } from '../config/settings.ts';
import { InvalidInputError, NoRotationInProgressError } from '../base/errors.ts';
import { resolveUserSettings } from '../config/user-settings.ts';
import { ABORT_TAG, CONFIRM_TAG, versionHoldingKey, versionWithStage } from './decisions.ts';
import { listUserKeys, readUser } from '../aws/iam.ts';
import { CURRENT, PENDING, readSecret } from './secret.ts';

/**
 * `confirm` and `abort` leave a marker on the IAM user: the tag rotation:confirm or rotation:abort
 * whose value is the new key's id (so a marker left from an earlier rotation never acts on this
 * one; a rotation that takes over an earlier one's key removes the markers left for it). They act
 * only on a rotation that is running: the caller finds it in the executions (or local run records)
 * first. CheckConsumers and CheckObservation read the marker at their next check, deployed and local
 * alike, and AwaitConfirmation once after storing its task token. The tag holds the key id only, never
 * the task token: whoever may read the user may read its tags, and the token is a capability to move
 * the rotation on. The token is kept in the ledger table (confirmation-tokens.ts), where confirm and
 * abort find it.
 */

export type MarkerAction = 'confirm' | 'abort';
/** pending: the new key is stored, not promoted yet; gate: both keys Active, consumers moving; observation: the old key Inactive. */
export type RotationPhase = 'pending' | 'gate' | 'observation';

export interface MarkerResult {
  readonly userName: string;
  readonly oldAccessKeyId: string;
  readonly newAccessKeyId: string;
  readonly phase: RotationPhase;
  /** Whether a version of the secret holds the old key: when none does (its first rotation created the secret), a rollback leaves AWSCURRENT on the new key. */
  readonly oldKeyInSecret: boolean;
  /** A retirement (kind retire): there is no new key, and a decision names the retired key itself. */
  readonly retirement: boolean;
  /** False when there was nothing to do (a confirm after the gate passed). */
  readonly tagged: boolean;
  readonly tag: string;
}

/** A running rotation of the user, as its execution (or local run) records it. */
export interface RunningRotation {
  readonly executionName: string;
  /** The key the rotation replaces (its input's accessKeyId). */
  readonly oldAccessKeyId: string;
  readonly kind: string;
}

/**
 * Where the running rotation stands: the key it replaces comes from its execution; the new key is
 * the one its user's secret holds as AWSPENDING or AWSCURRENT (Active, not the old key).
 */
export async function rotationPhase(
  userName: string,
  running: RunningRotation,
  clients: { readonly iam: IAMClient; readonly secretsManager: SecretsManagerClient },
  config: Config,
): Promise<{ oldAccessKeyId: string; newAccessKeyId: string; phase: RotationPhase; oldKeyInSecret: boolean; retirement: boolean }> {
  if (running.kind === 'retire') return retirementPhase(userName, running, clients.iam);
  const { tags } = await readUser(clients.iam, userName);
  const secretName = resolveUserSettings(userName, tags, config).settings.secretName;
  const keys = await listUserKeys(clients.iam, userName);
  const secret = await readSecret(clients.secretsManager, secretName, [running.oldAccessKeyId, ...keys.map((key) => key.accessKeyId)]);
  const pending = versionWithStage(secret.versions, PENDING)?.accessKeyId;
  const current = versionWithStage(secret.versions, CURRENT)?.accessKeyId;
  const oldKey = keys.find((key) => key.accessKeyId === running.oldAccessKeyId);
  const newKey = keys.find(
    (key) => key.accessKeyId !== running.oldAccessKeyId && key.accessKeyId === (pending ?? current) && key.status === 'Active',
  );
  if (!newKey) {
    throw new NoRotationInProgressError(
      `The rotation of ${userName} (${running.executionName}) has not stored its new key yet, so there is no gate to act on. Nothing was changed. ` +
        `Try again in a moment (it is at an early step), or follow it with \`iam-key-rotator status ${userName}\`.`,
    );
  }
  if (!oldKey) {
    throw new NoRotationInProgressError(
      `The rotation of ${userName} (${running.executionName}) has already deleted old key ${running.oldAccessKeyId}: it is finishing, and there is nothing left to confirm or abort. Nothing was changed.`,
    );
  }
  const phase: RotationPhase =
    pending !== undefined && pending === newKey.accessKeyId ? 'pending' : oldKey.status === 'Active' ? 'gate' : 'observation';
  const oldKeyInSecret = versionHoldingKey(secret.versions, oldKey.accessKeyId) !== undefined;
  return { oldAccessKeyId: oldKey.accessKeyId, newAccessKeyId: newKey.accessKeyId, phase, oldKeyInSecret, retirement: false };
}

/**
 * A retirement has no new key: its decisions name the retired key (retirement.ts reads them so), and
 * only an abort means anything (it proceeds on its own once the key is quiet).
 */
async function retirementPhase(
  userName: string,
  running: RunningRotation,
  iam: IAMClient,
): Promise<{ oldAccessKeyId: string; newAccessKeyId: string; phase: RotationPhase; oldKeyInSecret: boolean; retirement: boolean }> {
  const key = (await listUserKeys(iam, userName)).find((candidate) => candidate.accessKeyId === running.oldAccessKeyId);
  if (!key) {
    throw new NoRotationInProgressError(
      `The retirement of ${userName} (${running.executionName}) has already deleted key ${running.oldAccessKeyId}: there is nothing left to abort. Nothing was changed.`,
    );
  }
  const phase: RotationPhase = key.status === 'Active' ? 'gate' : 'observation';
  return { oldAccessKeyId: key.accessKeyId, newAccessKeyId: key.accessKeyId, phase, oldKeyInSecret: false, retirement: true };
}

/**
 * Sets the marker for a running rotation. A confirm during observation changes nothing: the gate has
 * passed and the old key is deleted when the observation period ends (to stop that, abort).
 */
export async function setMarker(
  action: MarkerAction,
  userName: string,
  running: RunningRotation,
  clients: { readonly iam: IAMClient; readonly secretsManager: SecretsManagerClient },
  config: Config,
): Promise<MarkerResult> {
  const rotation = await rotationPhase(userName, running, clients, config);
  refuseConfirmingRetirement(action, userName, rotation);
  const tag = action === 'confirm' ? CONFIRM_TAG : ABORT_TAG;
  if (action === 'confirm' && rotation.phase === 'observation') return { userName, ...rotation, tagged: false, tag };
  await clients.iam.send(new TagUserCommand({ UserName: userName, Tags: [{ Key: tag, Value: rotation.newAccessKeyId }] }));
  return { userName, ...rotation, tagged: true, tag };
}

/** Removes markers (tag keys from markersFor) that speak about an earlier run of the key a rotation takes over. */
export async function clearMarkers(iam: IAMClient, userName: string, tagKeys: readonly string[]): Promise<void> {
  if (tagKeys.length === 0) return;
  await iam.send(new UntagUserCommand({ UserName: userName, TagKeys: [...tagKeys] }));
}

/** A retirement proceeds on its own once the key is quiet: there is nothing to confirm, only to abort. */
export function refuseConfirmingRetirement(action: MarkerAction, userName: string, rotation: { readonly retirement: boolean }): void {
  if (action !== 'confirm' || !rotation.retirement) return;
  throw new InvalidInputError(
    `The running workflow of ${userName} is a retirement: it has no confirmation, it deactivates the key once no consumer has used it for the quiet period. ` +
      `Nothing was changed. To stop it: iam-key-rotator abort ${userName}.`,
  );
}
