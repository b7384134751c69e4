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
 * `readStoredKey` reads a secret value, for Verify to sign one STS call; every other step sees
 * labels, and key ids derived from version ids (readSecret).
 */

export const CURRENT = 'AWSCURRENT';
export const PENDING = 'AWSPENDING';
export const PREVIOUS = 'AWSPREVIOUS';

export interface SecretView {
  readonly exists: boolean;
  readonly versions: readonly VersionFact[];
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

/**
 * The labelled versions, from DescribeSecret alone: no secret value is read, so only Verify's role
 * needs secretsmanager:GetSecretValue and kms:Decrypt. The rotator writes every version under
 * versionIdFor(its key id), so a version's key is known when its id is versionIdFor one of `keyIds`
 * (the user's keys and the ones the rotation state names); any other version was written by hand, or
 * holds a key that no longer exists, and its `accessKeyId` is undefined. Unlabelled (deprecated)
 * versions are left out.
 */
export async function readSecret(secretsManager: SecretsManagerClient, secretName: string, keyIds: readonly string[]): Promise<SecretView> {
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
    .map(([versionId, stages]): VersionFact => ({ versionId, stages, accessKeyId: keyByVersion.get(versionId) }));
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

/**
 * A new secret whose first version (AWSCURRENT) holds `value` under the rotator's version id, as
 * adopt-secret leaves a secret an operator wrote by hand: the rotation can then tell which key
 * consumers read from it without reading it. For seeding (the demo, tests); a rotation never calls it.
 */
export async function createSecretHolding(
  secretsManager: SecretsManagerClient,
  secretName: string,
  value: StoredKey,
  kmsKeyId = '',
): Promise<void> {
  await secretsManager.send(
    new CreateSecretCommand({
      Name: secretName,
      ClientRequestToken: versionIdFor(value.AccessKeyId),
      SecretString: JSON.stringify(value),
      ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}),
    }),
  );
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
