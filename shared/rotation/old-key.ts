import { DeleteSecretCommand } from '@aws-sdk/client-secrets-manager';
import { errorName, SecretStateError, UserNotFoundError } from '../base/errors.ts';
import {
  addMs,
  extraKeys,
  planMakeSafe,
  planRollback,
  versionHoldingKey,
  versionWithStage,
  type SafetyAction,
  type SafetyFacts,
} from './decisions.ts';
import type { RotationDeps } from './deps.ts';
import { deleteKey, keyLastUsed, listUserKeys, setKeyStatus } from '../aws/iam.ts';
import { CURRENT, moveStage, PENDING, PREVIOUS, readSecret } from './secret.ts';
import { newKeyOf, type Deactivated, type FailureInput, type NewKey, type Rotation } from './workflow-state.ts';

/** Before the old key loses access: AWSCURRENT must hold the new key, and the new key must be Active. */
async function assertNewKeyServes(rotation: Rotation, newKey: NewKey, deps: RotationDeps, action: string): Promise<void> {
  const [secret, keys] = await Promise.all([
    readSecret(deps.secretsManager, rotation.secretName, [newKey.accessKeyId, rotation.oldAccessKeyId]),
    listUserKeys(deps.iam, rotation.userName),
  ]);
  const current = versionWithStage(secret.versions, CURRENT);
  const fresh = keys.find((key) => key.accessKeyId === newKey.accessKeyId);
  if (current?.accessKeyId !== newKey.accessKeyId || fresh?.status !== 'Active') {
    throw new SecretStateError(
      `Not going to ${action} the old key ${rotation.oldAccessKeyId}: ${fresh?.status === 'Active' ? `secret ${rotation.secretName} (AWSCURRENT) holds ${current?.accessKeyId ?? 'nothing'}` : `the new key ${newKey.accessKeyId} is ${fresh ? fresh.status : 'gone'}`}, ` +
        `so consumers would be left without a working key. Someone changed the key or the secret during the rotation; the old key is kept.`,
    );
  }
}

/**
 * Deactivate: the old key stops working; it can still be reactivated during the observation period.
 * On the compromise path (state HoldCompromisedKey) the key was cut by Contain and may already be
 * deleted to make room: this only makes sure it is still Inactive and starts the hold before deletion.
 */
export async function deactivate(rotation: Rotation, newKey: NewKey | undefined, deps: RotationDeps): Promise<Deactivated> {
  if (rotation.kind === 'compromise') {
    const keys = await listUserKeys(deps.iam, rotation.userName);
    if (keys.some((key) => key.accessKeyId === rotation.oldAccessKeyId && key.status === 'Active')) {
      await setKeyStatus(deps.iam, rotation.userName, rotation.oldAccessKeyId, 'Inactive');
      deps.logger.warn('the leaked key was Active again; deactivated', {
        userName: rotation.userName,
        accessKeyId: rotation.oldAccessKeyId,
      });
    }
    const heldAt = deps.clock().toISOString();
    return { deactivatedAt: heldAt, observeUntil: addMs(heldAt, rotation.observationMs) };
  }
  // A retirement has no new key to check: its gate found the key quiet.
  if (rotation.kind !== 'retire') await assertNewKeyServes(rotation, newKeyOf(rotation, newKey), deps, 'deactivate');
  await setKeyStatus(deps.iam, rotation.userName, rotation.oldAccessKeyId, 'Inactive');
  const deactivatedAt = deps.clock().toISOString();
  deps.logger.info('old key deactivated', { userName: rotation.userName, accessKeyId: rotation.oldAccessKeyId });
  return { deactivatedAt, observeUntil: addMs(deactivatedAt, rotation.observationMs) };
}

/**
 * DeleteOldKey: the end of a successful rotation. AWSPREVIOUS is removed with the key, so no label points at a deleted key.
 * A leaked key is kept Inactive instead when COMPROMISED_KEY_ACTION=keep-inactive (a forensics hold; a person deletes it).
 */
export async function deleteOldKey(
  rotation: Rotation,
  newKey: NewKey | undefined,
  deps: RotationDeps,
): Promise<{ deletedAt: string | null; keptInactive: boolean; secret: SecretOutcome }> {
  if (rotation.kind === 'retire') return retireKey(rotation, deps);
  await assertNewKeyServes(rotation, newKeyOf(rotation, newKey), deps, 'delete');
  if (rotation.kind === 'compromise' && deps.config.compromisedKeyAction === 'keep-inactive') {
    deps.logger.info('leaked key kept Inactive for forensics', { userName: rotation.userName, accessKeyId: rotation.oldAccessKeyId });
    return { deletedAt: null, keptInactive: true, secret: 'kept' };
  }
  await deleteKey(deps.iam, rotation.userName, rotation.oldAccessKeyId);
  const secret = await readSecret(deps.secretsManager, rotation.secretName, [rotation.oldAccessKeyId]);
  const oldVersion = versionHoldingKey(secret.versions, rotation.oldAccessKeyId);
  if (oldVersion?.stages.includes(PREVIOUS))
    await moveStage(deps.secretsManager, rotation.secretName, PREVIOUS, { from: oldVersion.versionId });
  deps.logger.info('old key deleted', { userName: rotation.userName, accessKeyId: rotation.oldAccessKeyId });
  return { deletedAt: deps.clock().toISOString(), keptInactive: false, secret: 'kept' };
}

/** What became of the user's secret: a rotation keeps it; a retirement asked to delete it schedules that, or says it could not. */
export type SecretOutcome = 'kept' | 'scheduled-for-deletion' | 'deletion-failed';

/**
 * The end of a retirement: the key is deleted, the secret's labels left alone (no version holds a
 * new key). With --delete-secret the secret is scheduled for deletion with Secrets Manager's
 * recovery window, so it can be restored for 30 days (Secrets Manager API reference, DeleteSecret);
 * a failure there is reported, not thrown: the key is gone already, and MakeSafe has nothing to undo.
 */
async function retireKey(
  rotation: Rotation,
  deps: RotationDeps,
): Promise<{ deletedAt: string; keptInactive: false; secret: SecretOutcome }> {
  await deleteKey(deps.iam, rotation.userName, rotation.oldAccessKeyId);
  const deletedAt = deps.clock().toISOString();
  deps.logger.info('retired key deleted', { userName: rotation.userName, accessKeyId: rotation.oldAccessKeyId });
  if (rotation.deleteSecret !== true) return { deletedAt, keptInactive: false, secret: 'kept' };
  try {
    await deps.secretsManager.send(new DeleteSecretCommand({ SecretId: rotation.secretName, RecoveryWindowInDays: SECRET_RECOVERY_DAYS }));
    deps.logger.info('secret scheduled for deletion', { userName: rotation.userName, secretName: rotation.secretName });
    return { deletedAt, keptInactive: false, secret: 'scheduled-for-deletion' };
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return { deletedAt, keptInactive: false, secret: 'kept' };
    deps.logger.warn('secret could not be scheduled for deletion', {
      userName: rotation.userName,
      secretName: rotation.secretName,
      errorName: errorName(error),
    });
    return { deletedAt, keptInactive: false, secret: 'deletion-failed' };
  }
}

/** Secrets Manager's longest recovery window: a deleted secret can be restored for this many days. */
export const SECRET_RECOVERY_DAYS = 30;

/** The key ids a rotation's secret versions may hold: the user's keys and the two the rotation names. */
function candidateKeyIds(rotation: Rotation, newAccessKeyId: string | undefined, keys: readonly { accessKeyId: string }[]): string[] {
  return [rotation.oldAccessKeyId, ...(newAccessKeyId === undefined ? [] : [newAccessKeyId]), ...keys.map((key) => key.accessKeyId)];
}

async function gatherFacts(rotation: Rotation, newAccessKeyId: string | undefined, deps: RotationDeps): Promise<SafetyFacts> {
  const keys = await listUserKeys(deps.iam, rotation.userName);
  const secret = await readSecret(deps.secretsManager, rotation.secretName, candidateKeyIds(rotation, newAccessKeyId, keys));
  const withUse = await Promise.all(
    keys.map(async (key) => ({
      accessKeyId: key.accessKeyId,
      status: key.status,
      createdAt: key.createdAt,
      everUsed: key.accessKeyId === rotation.oldAccessKeyId || (await keyLastUsed(deps.iam, key.accessKeyId, 'unused')) !== undefined,
    })),
  );
  return {
    kind: rotation.kind,
    oldAccessKeyId: rotation.oldAccessKeyId,
    startedAt: rotation.startedAt,
    keys: withUse,
    newAccessKeyId,
    versions: secret.versions,
  };
}

function describe(action: SafetyAction): string {
  switch (action.action) {
    case 'reactivate-key':
      return `reactivated ${action.accessKeyId}`;
    case 'deactivate-key':
      return `deactivated ${action.accessKeyId}`;
    case 'delete-key':
      return `deleted ${action.accessKeyId}`;
    case 'move-current':
      return `moved AWSCURRENT back to version ${action.toVersionId}`;
    case 'remove-pending':
      return `removed AWSPENDING from version ${action.versionId}`;
  }
}

/** Runs the planned actions in order: keys are reactivated before AWSCURRENT moves, so a crash between them never locks anyone out. */
async function apply(actions: readonly SafetyAction[], rotation: Rotation, deps: RotationDeps): Promise<string[]> {
  for (const action of actions) {
    switch (action.action) {
      case 'reactivate-key':
        await setKeyStatus(deps.iam, rotation.userName, action.accessKeyId, 'Active');
        break;
      case 'deactivate-key':
        await setKeyStatus(deps.iam, rotation.userName, action.accessKeyId, 'Inactive');
        break;
      case 'delete-key':
        await deleteKey(deps.iam, rotation.userName, action.accessKeyId);
        break;
      case 'move-current':
        await moveStage(deps.secretsManager, rotation.secretName, CURRENT, { to: action.toVersionId, from: action.fromVersionId });
        break;
      case 'remove-pending':
        await moveStage(deps.secretsManager, rotation.secretName, PENDING, { from: action.versionId });
        break;
    }
  }
  return actions.map(describe);
}

export interface RollbackResult {
  readonly rolledBackAt: string;
  readonly reason: string;
  readonly actions: string[];
  /** The key AWSCURRENT holds after the rollback. */
  readonly currentKeyId: string | null;
}

/** Rollback: the old key Active and AWSCURRENT again; the new key deactivated and kept for inspection (see planRollback). */
export async function rollback(
  rotation: Rotation,
  newKey: NewKey | undefined,
  reason: string,
  deps: RotationDeps,
): Promise<RollbackResult> {
  if (rotation.kind === 'retire') return reinstate(rotation, reason, deps);
  newKey = newKeyOf(rotation, newKey);
  const facts = await gatherFacts(rotation, newKey.accessKeyId, deps);
  const actions = await apply(planRollback(facts), rotation, deps);
  const secret = await readSecret(deps.secretsManager, rotation.secretName, candidateKeyIds(rotation, newKey.accessKeyId, facts.keys));
  deps.logger.warn('rotation rolled back', {
    userName: rotation.userName,
    oldAccessKeyId: rotation.oldAccessKeyId,
    newAccessKeyId: newKey.accessKeyId,
    reason,
    actions,
  });
  return {
    rolledBackAt: deps.clock().toISOString(),
    reason,
    actions,
    currentKeyId: versionWithStage(secret.versions, CURRENT)?.accessKeyId ?? null,
  };
}

/**
 * A retirement's rollback and MakeSafe: the key Active again, and nothing else touched. It wrote no
 * secret version and created no key, so there is nothing of its own to undo, and a key someone else
 * added meanwhile is theirs.
 */
async function reinstate(rotation: Rotation, reason: string, deps: RotationDeps): Promise<RollbackResult> {
  const keys = await listUserKeys(deps.iam, rotation.userName);
  const key = keys.find((candidate) => candidate.accessKeyId === rotation.oldAccessKeyId);
  const actions: string[] = [];
  if (key?.status === 'Inactive') {
    await setKeyStatus(deps.iam, rotation.userName, rotation.oldAccessKeyId, 'Active');
    actions.push(`reactivated ${rotation.oldAccessKeyId}`);
  }
  deps.logger.warn('retirement undone', { userName: rotation.userName, accessKeyId: rotation.oldAccessKeyId, reason, actions });
  return { rolledBackAt: deps.clock().toISOString(), reason, actions, currentKeyId: null };
}

/** MakeSafe: after any failure, restore what planMakeSafe asks for. Never throws for a user that is gone: there is nothing left to protect. */
export async function makeSafe(state: FailureInput, deps: RotationDeps): Promise<{ actions: string[]; detail: string }> {
  const rotation = state.rotation;
  if (!rotation) return { actions: [], detail: 'the rotation failed before it changed anything' };
  try {
    if (rotation.kind === 'retire') {
      const { actions } = await reinstate(rotation, state.error?.Error ?? 'failure', deps);
      return { actions, detail: actions.length === 0 ? 'nothing needed undoing' : actions.join('; ') };
    }
    const facts = await gatherFacts(rotation, state.newKey?.accessKeyId, deps);
    const actions = await apply(planMakeSafe(facts), rotation, deps);
    // A key no version holds is deleted only as this rotation's never-used orphan; the owner hears of every other one still there.
    const { foreign } = extraKeys(facts);
    deps.logger.warn('made safe after a failure', { userName: rotation.userName, errorName: state.error?.Error, actions, kept: foreign });
    const kept = foreign.map((keyId) => `kept ${keyId} (no secret version holds it; it is in use, or older than this rotation)`);
    const done = [...actions, ...kept];
    return { actions, detail: done.length === 0 ? 'nothing needed undoing' : done.join('; ') };
  } catch (error) {
    if (error instanceof UserNotFoundError) return { actions: [], detail: `user ${rotation.userName} no longer exists` };
    throw error;
  }
}
