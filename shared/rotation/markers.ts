import { TagUserCommand, UntagUserCommand } from '@aws-sdk/client-iam';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Config } from '../config/settings.ts';
import { NoRotationInProgressError } from '../base/errors.ts';
import { resolveUserSettings } from '../config/user-settings.ts';
import { ABORT_TAG, CONFIRM_TAG, versionWithStage } from './decisions.ts';
import { listUserKeys, readUser } from '../aws/iam.ts';
import { CURRENT, PENDING, readSecret } from './secret.ts';

/**
 * `confirm` and `abort` leave a marker on the IAM user: the tag rotation:confirm or rotation:abort
 * whose value is the new key's id (so a marker left from an earlier rotation never acts on this
 * one). CheckConsumers and CheckObservation read it at their next check, deployed and local alike;
 * no task token is stored anywhere, so none can leak.
 */

export type MarkerAction = 'confirm' | 'abort';
/** pending: the new key is stored, not promoted yet; gate: both keys Active, consumers moving; observation: the old key Inactive. */
export type RotationPhase = 'pending' | 'gate' | 'observation';

export interface MarkerResult {
  readonly userName: string;
  readonly oldAccessKeyId: string;
  readonly newAccessKeyId: string;
  readonly phase: RotationPhase;
  /** False when there was nothing to do (a confirm after the gate passed). */
  readonly tagged: boolean;
  readonly tag: string;
}

/** Where the user's rotation stands, from its keys and its secret's labels. */
export async function rotationInProgress(
  userName: string,
  clients: { readonly iam: IAMClient; readonly secretsManager: SecretsManagerClient },
  config: Config,
): Promise<{ oldAccessKeyId: string; newAccessKeyId: string; phase: RotationPhase }> {
  const { tags } = await readUser(clients.iam, userName);
  const secretName = resolveUserSettings(userName, tags, config).settings.secretName;
  const [keys, secret] = await Promise.all([listUserKeys(clients.iam, userName), readSecret(clients.secretsManager, secretName)]);
  const pending = versionWithStage(secret.versions, PENDING)?.accessKeyId;
  const current = versionWithStage(secret.versions, CURRENT)?.accessKeyId;
  const newKey = keys.find((key) => key.accessKeyId === (pending ?? current) && key.status === 'Active');
  const oldKey = keys.find((key) => key.accessKeyId !== newKey?.accessKeyId);
  if (keys.length < 2 || !newKey || !oldKey) {
    throw new NoRotationInProgressError(
      `No rotation of ${userName} is waiting for a person: it has ${keys.length} access key(s) and secret ${secretName} holds ${pending ?? current ?? 'no key'}. ` +
        `Nothing was changed. Follow rotations with \`iam-key-rotator status ${userName}\`.`,
    );
  }
  const phase: RotationPhase = pending !== undefined ? 'pending' : oldKey.status === 'Active' ? 'gate' : 'observation';
  return { oldAccessKeyId: oldKey.accessKeyId, newAccessKeyId: newKey.accessKeyId, phase };
}

/**
 * Sets the marker. A confirm during observation changes nothing: the gate has passed and the old key
 * is deleted when the observation period ends (to stop that, abort).
 */
export async function setMarker(
  action: MarkerAction,
  userName: string,
  clients: { readonly iam: IAMClient; readonly secretsManager: SecretsManagerClient },
  config: Config,
): Promise<MarkerResult> {
  const rotation = await rotationInProgress(userName, clients, config);
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
