import { createHash } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SecretStateError } from '../base/errors.ts';
import type { VersionFact } from './decisions.ts';

/**
 * The user's secret. Its JSON is `{ AccessKeyId, SecretAccessKey, UserName, CreatedAt }`. Only
 * `readStoredKey` returns the secret value, for Verify to sign one STS call; everything else sees
 * labels and key ids.
 */

export const CURRENT = 'AWSCURRENT';
export const PENDING = 'AWSPENDING';
export const PREVIOUS = 'AWSPREVIOUS';

export interface SecretVersion extends VersionFact {
  readonly userName: string | undefined;
}

export interface SecretView {
  readonly exists: boolean;
  readonly versions: readonly SecretVersion[];
}

export interface StoredKey {
  readonly AccessKeyId: string;
  readonly SecretAccessKey: string;
  readonly UserName: string;
  readonly CreatedAt: string;
}

const isNotFound = (error: unknown): boolean => error instanceof Error && error.name === 'ResourceNotFoundException';

/** The version id (ClientRequestToken) of the version holding a key: the same on every retry, so a repeated put is recognised. */
export function versionIdFor(accessKeyId: string): string {
  const hex = createHash('sha256').update(`iam-key-rotator:${accessKeyId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function parseStored(text: string | undefined): Partial<StoredKey> {
  try {
    const parsed: unknown = JSON.parse(text ?? '');
    return parsed && typeof parsed === 'object' ? (parsed as Partial<StoredKey>) : {};
  } catch {
    return {};
  }
}

/** Every labelled version with the key id and user it holds. Unlabelled (deprecated) versions are left out. */
export async function readSecret(secretsManager: SecretsManagerClient, secretName: string): Promise<SecretView> {
  let stagesByVersion: Record<string, string[]>;
  try {
    const described = await secretsManager.send(new DescribeSecretCommand({ SecretId: secretName }));
    stagesByVersion = described.VersionIdsToStages ?? {};
  } catch (error) {
    if (isNotFound(error)) return { exists: false, versions: [] };
    throw error;
  }
  const versions: SecretVersion[] = [];
  for (const [versionId, stages] of Object.entries(stagesByVersion)) {
    const stage = stages[0];
    if (stage === undefined) continue;
    // VersionStage is always passed with VersionId: moto may answer a bare request with a stale version.
    const value = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretName, VersionId: versionId, VersionStage: stage }));
    const stored = parseStored(value.SecretString);
    versions.push({
      versionId,
      stages,
      accessKeyId: typeof stored.AccessKeyId === 'string' ? stored.AccessKeyId : undefined,
      userName: typeof stored.UserName === 'string' ? stored.UserName : undefined,
    });
  }
  return { exists: true, versions };
}

/**
 * The labelled versions from DescribeSecret alone, no secret value read: a version's key is known
 * when its id is versionIdFor one of `keyIds` (the rotator writes every version under that id), and
 * unknown otherwise. For the steps that know which keys to look for (Promote), so their roles need
 * neither secretsmanager:GetSecretValue nor kms:Decrypt. The user is not known from labels: callers
 * that must tell whose key a version holds use readSecret.
 */
export async function readSecretLabels(
  secretsManager: SecretsManagerClient,
  secretName: string,
  keyIds: readonly string[],
): Promise<SecretView> {
  let stagesByVersion: Record<string, string[]>;
  try {
    const described = await secretsManager.send(new DescribeSecretCommand({ SecretId: secretName }));
    stagesByVersion = described.VersionIdsToStages ?? {};
  } catch (error) {
    if (isNotFound(error)) return { exists: false, versions: [] };
    throw error;
  }
  const keyByVersion = new Map(keyIds.map((keyId) => [versionIdFor(keyId), keyId]));
  const versions = Object.entries(stagesByVersion)
    .filter(([, stages]) => stages.length > 0)
    .map(([versionId, stages]): SecretVersion => ({ versionId, stages, accessKeyId: keyByVersion.get(versionId), userName: undefined }));
  return { exists: true, versions };
}

/** The credentials a stage holds, for Verify only. Undefined when no version has that stage. */
export async function readStoredKey(
  secretsManager: SecretsManagerClient,
  secretName: string,
  stage: string,
): Promise<StoredKey | undefined> {
  try {
    const value = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretName, VersionStage: stage }));
    const stored = parseStored(value.SecretString);
    if (typeof stored.AccessKeyId !== 'string' || typeof stored.SecretAccessKey !== 'string') {
      throw new SecretStateError(
        `Secret ${secretName} (${stage}) does not hold { AccessKeyId, SecretAccessKey }; it was not written by the rotator. Restore it or point the rotation:secret-name tag at another secret.`,
      );
    }
    return {
      AccessKeyId: stored.AccessKeyId,
      SecretAccessKey: stored.SecretAccessKey,
      UserName: String(stored.UserName ?? ''),
      CreatedAt: String(stored.CreatedAt ?? ''),
    };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Refuses to touch a secret that holds another user's key: a misconfigured secret-name tag must not hand one user's key to another's consumers. */
export function assertOwnedBy(view: SecretView, secretName: string, userName: string): void {
  const foreign = view.versions.find((version) => version.userName !== undefined && version.userName !== userName);
  if (foreign) {
    throw new SecretStateError(
      `Secret ${secretName} holds a key of user ${foreign.userName ?? '?'} (${foreign.stages.join(', ')}), not of ${userName}. ` +
        `Nothing was changed. Fix the rotation:secret-name tag of ${userName}, or of ${foreign.userName ?? 'the other user'}, so each user has its own secret.`,
    );
  }
}

/**
 * The tags ensureSecret writes on a secret it creates for a user. Prepare and CreateAndStore read them
 * back (secret-binding.ts): a secret named by a user's tag is used only if it carries them for that user.
 */
export const MANAGED_BY_TAG = { key: 'managed-by', value: 'iam-key-rotator' } as const;
export const IAM_USER_TAG = 'iam-user';

/** Creates the user's secret if it is missing. `created: false` when it already existed: its binding must then be checked again. */
export async function ensureSecret(
  secretsManager: SecretsManagerClient,
  secretName: string,
  userName: string,
  kmsKeyId: string,
): Promise<{ readonly created: boolean }> {
  try {
    await secretsManager.send(
      new CreateSecretCommand({
        Name: secretName,
        Description: `Access key of IAM user ${userName}, rotated by iam-key-rotator. Read the AWSCURRENT version.`,
        ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}),
        Tags: [
          { Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value },
          { Key: IAM_USER_TAG, Value: userName },
        ],
      }),
    );
    return { created: true };
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ResourceExistsException')) throw error;
    return { created: false };
  }
}

/** Stores a new key as AWSPENDING. Secrets Manager makes the very first version of a secret AWSCURRENT as well. */
export async function putPending(secretsManager: SecretsManagerClient, secretName: string, value: StoredKey): Promise<string> {
  const versionId = versionIdFor(value.AccessKeyId);
  await secretsManager.send(
    new PutSecretValueCommand({
      SecretId: secretName,
      ClientRequestToken: versionId,
      SecretString: JSON.stringify(value),
      VersionStages: [PENDING],
    }),
  );
  return versionId;
}

export async function moveStage(
  secretsManager: SecretsManagerClient,
  secretName: string,
  stage: string,
  change: { readonly to?: string | undefined; readonly from?: string | undefined },
): Promise<void> {
  if (change.to !== undefined && change.to === change.from) return;
  await secretsManager.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secretName,
      VersionStage: stage,
      MoveToVersionId: change.to,
      RemoveFromVersionId: change.from,
    }),
  );
}
