import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { KeyLimitReachedError, KeyNotYetValidError, KeyVerificationError, SecretStateError } from '../base/errors.ts';
import { addMs, classifyExtraKeys, decideNewKeySource, versionHoldingKey, versionWithStage } from './decisions.ts';
import { secretKmsKeyIdFor } from './step-account.ts';
import type { RotationDeps } from './deps.ts';
import { createKey, deleteKey, keyLastUsed, listUserKeys } from '../aws/iam.ts';
import { assertSecretBound } from './secret-binding.ts';
import { isSelfRefreshPolicy, putSelfRefreshPolicy, selfRefreshFenceOf } from './self-refresh-policy.ts';
import { CURRENT, ensureSecret, moveStage, PENDING, putPending, readSecret, readStoredKey } from './secret.ts';
import type { NewKey, Promoted, Rotation, Straggler } from './workflow-state.ts';
import { oldKeyConsumers } from './consumer-evidence.ts';

/**
 * CreateAndStore, safe to repeat. A key created by an earlier attempt is reused when the secret
 * holds it, and the key AWSCURRENT holds is taken over when an earlier rotation of this key promoted
 * it (see decideNewKeySource); a key that this rotation created but never stored (a crash between
 * CreateAccessKey and PutSecretValue) is deleted before a new one is made, so the user never reaches
 * a third key and no orphan is left behind (classifyExtraKeys).
 */
export async function createAndStore(rotation: Rotation, deps: RotationDeps): Promise<NewKey> {
  const { userName, oldAccessKeyId, secretName } = rotation;
  // Prepare checked the binding, but the secret (or the state's secret name) may have changed since.
  await assertSecretBound(deps, userName, secretName, rotation.userArn);
  const keys = await listUserKeys(deps.iam, userName);
  const secret = await readSecret(deps.secretsManager, secretName, [oldAccessKeyId, ...keys.map((key) => key.accessKeyId)]);

  const source = decideNewKeySource(keys, oldAccessKeyId, secret.versions);
  if (source.source !== 'create') {
    const held = keys.find((key) => key.accessKeyId === source.accessKeyId);
    deps.logger.info(
      source.source === 'pending' ? 'new key already stored by an earlier attempt' : 'taking over the key AWSCURRENT holds',
      {
        userName,
        accessKeyId: source.accessKeyId,
      },
    );
    return {
      accessKeyId: source.accessKeyId,
      versionId: source.versionId,
      createdAt: (held?.createdAt ?? deps.clock()).toISOString(),
      reused: true,
    };
  }

  const referenced = new Set(secret.versions.map((version) => version.accessKeyId ?? ''));
  const extra = await Promise.all(
    keys
      .filter((key) => key.accessKeyId !== oldAccessKeyId && !referenced.has(key.accessKeyId))
      .map(async (key) => ({ ...key, everUsed: (await keyLastUsed(deps.iam, key.accessKeyId, 'unused')) !== undefined })),
  );
  // Nothing has been recorded yet: a key of this execution is one created since the rotation started.
  const { orphans, foreign } = classifyExtraKeys(extra, oldAccessKeyId, referenced, {
    startedAt: rotation.startedAt,
    newAccessKeyId: undefined,
  });
  // A foreign key only matters when it leaves no room (on the compromise path the leaked key may be gone already).
  if (foreign.length > 0 && keys.length - orphans.length >= 2) {
    throw new KeyLimitReachedError(
      `User ${userName} has another key (${foreign.join(', ')}) that secret ${secretName} does not hold and that this rotation did not create ` +
        `(it is in use, or it was created before the rotation started at ${rotation.startedAt}). ` +
        `Nothing was deleted. Find out who created it, delete it if it is not needed, then start the rotation again.`,
    );
  }
  if (foreign.length > 0) deps.logger.info('kept a key this rotation did not create', { userName, accessKeyIds: foreign });
  for (const orphan of orphans) {
    await deleteKey(deps.iam, userName, orphan);
    deps.logger.warn('deleted an orphan key left by an interrupted attempt', { userName, accessKeyId: orphan });
  }

  const ensured = await ensureSecret(deps.secretsManager, secretName, userName, secretKmsKeyIdFor(deps));
  // A secret that someone else created after the check above is checked before the key exists.
  const facts = ensured.created ? undefined : await assertSecretBound(deps, userName, secretName, rotation.userArn);
  // A secret created just now has no resource policy yet.
  await keepSelfRefreshPolicy(rotation, deps, facts?.resourcePolicy);
  const created = await createKey(deps.iam, userName);
  const versionId = await putPending(deps.secretsManager, secretName, {
    AccessKeyId: created.accessKeyId,
    SecretAccessKey: created.secretAccessKey,
    UserName: userName,
    CreatedAt: created.createdAt.toISOString(),
  });
  deps.logger.info('new key created and stored as AWSPENDING', { userName, accessKeyId: created.accessKeyId, versionId });
  return { accessKeyId: created.accessKeyId, versionId, createdAt: created.createdAt.toISOString(), reused: false };
}

/**
 * SELF_REFRESH_USERS: the user's own key may read its secret, so a consumer holding the current key
 * fetches the next one. The policy is put before the new key exists, and again on every rotation, so
 * a changed fence takes effect with the next key. (A user no longer listed is refused by the binding
 * check until a person removes the policy: the stack may no longer hold the grant to remove it.)
 */
async function keepSelfRefreshPolicy(rotation: Rotation, deps: RotationDeps, current: string | undefined): Promise<void> {
  const fence = selfRefreshFenceOf(deps, rotation.userArn, rotation.userName);
  if (fence === undefined) return;
  if (current !== undefined && isSelfRefreshPolicy(current, rotation.userArn, fence)) return;
  await putSelfRefreshPolicy(deps.secretsManager, rotation.secretName, rotation.userArn, fence);
  deps.logger.info('self-refresh: the user may read its own secret', {
    userName: rotation.userName,
    secretName: rotation.secretName,
    sourceCidrs: fence.sourceCidrs.length,
    sourceVpces: fence.sourceVpces.length,
  });
}

/** STS errors that mean "this key does not work (yet)": IAM needs a few seconds to spread a new key. */
const NOT_YET_VALID = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'AuthFailure',
  'InvalidAccessKeyId',
]);

/**
 * Verify: one STS GetCallerIdentity signed with the stored new key. A key IAM does not accept yet
 * raises KeyNotYetValidError, which the state machine retries with backoff for about a minute.
 */
export async function verify(rotation: Rotation, newKey: NewKey, deps: RotationDeps): Promise<{ arn: string; verifiedAt: string }> {
  const { secretName, userName } = rotation;
  // After Promote (a repeat of this step on redrive), the key is AWSCURRENT instead of AWSPENDING.
  const stored =
    (await readStoredKey(deps.secretsManager, secretName, PENDING)) ?? (await readStoredKey(deps.secretsManager, secretName, CURRENT));
  if (stored?.AccessKeyId !== newKey.accessKeyId) {
    throw new SecretStateError(
      `Secret ${secretName} no longer holds the new key ${newKey.accessKeyId} as AWSPENDING or AWSCURRENT; someone changed it during the rotation. Check its versions; the rotation is undone.`,
    );
  }
  const client = deps.stsWith({ accessKeyId: stored.AccessKeyId, secretAccessKey: stored.SecretAccessKey });
  let arn: string;
  try {
    const identity = await client.send(new GetCallerIdentityCommand({}));
    arn = identity.Arn ?? '';
  } catch (error) {
    if (error instanceof Error && NOT_YET_VALID.has(error.name)) {
      throw new KeyNotYetValidError(
        `STS does not accept the new key ${newKey.accessKeyId} of ${userName} yet (${error.name}); IAM may still be spreading it.`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    client.destroy();
  }
  if (arn !== rotation.userArn) {
    throw new KeyVerificationError(
      `The new key ${newKey.accessKeyId} signs as ${arn || 'nobody'}, not as ${rotation.userArn}. The secret must not be promoted; the rotation is undone. Report this: it should not happen.`,
    );
  }
  deps.logger.info('new key verified with STS', { userName, accessKeyId: newKey.accessKeyId });
  return { arn, verifiedAt: deps.clock().toISOString() };
}

/**
 * Promote: AWSCURRENT moves to the new key's version (Secrets Manager labels the old one
 * AWSPREVIOUS), then AWSPENDING is removed. Consumers that read AWSCURRENT get the new key from here on.
 */
export async function promote(rotation: Rotation, newKey: NewKey, deps: RotationDeps): Promise<Promoted> {
  const { secretName } = rotation;
  const secret = await readSecret(deps.secretsManager, secretName, [newKey.accessKeyId, rotation.oldAccessKeyId]);
  const target = versionHoldingKey(secret.versions, newKey.accessKeyId);
  if (!target) {
    throw new SecretStateError(
      `Secret ${secretName} has no labelled version holding the new key ${newKey.accessKeyId}; someone changed it during the rotation. The rotation is undone.`,
    );
  }
  const current = versionWithStage(secret.versions, CURRENT);
  await moveStage(deps.secretsManager, secretName, CURRENT, { to: target.versionId, from: current?.versionId });
  if (target.stages.includes(PENDING)) await moveStage(deps.secretsManager, secretName, PENDING, { from: target.versionId });
  const promotedAt = deps.clock().toISOString();
  deps.logger.info('new key promoted to AWSCURRENT', {
    userName: rotation.userName,
    accessKeyId: newKey.accessKeyId,
    versionId: target.versionId,
  });
  const promoted = {
    promotedAt,
    previousVersionId: current && current.versionId !== target.versionId ? current.versionId : null,
    gateDeadline: addMs(promotedAt, rotation.healthCheckDeadlineMs),
  };
  return { ...promoted, consumersToMove: await consumersToMove(rotation, promoted, deps) };
}

/**
 * Who used the old key before promotion, from CloudTrail: what the owner must move, for the
 * new-key-ready notice that follows. Best effort: the labels have moved, and a CloudTrail that cannot
 * be read must not undo that.
 */
async function consumersToMove(rotation: Rotation, promoted: Omit<Promoted, 'consumersToMove'>, deps: RotationDeps): Promise<Straggler[]> {
  try {
    return (await oldKeyConsumers(rotation, promoted, deps))?.consumers ?? [];
  } catch (error) {
    deps.logger.warn('the old key’s consumers could not be read; new-key-ready goes without them', {
      userName: rotation.userName,
      errorName: error instanceof Error ? error.name : 'Error',
    });
    return [];
  }
}
