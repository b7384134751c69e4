import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
  paginateListUserTags,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { AccessKeyNotFoundError, UserNotFoundError } from '../errors.ts';
import type { Tag } from '../tags.ts';
import type { KeyStatus } from './decisions.ts';

/** IAM reads and writes of the rotation. Every write is idempotent: it checks or tolerates "already so". */

export interface UserKey {
  readonly accessKeyId: string;
  readonly status: KeyStatus;
  readonly createdAt: Date;
}

export interface CreatedKey extends UserKey {
  /** The new key's secret: handed straight to Secrets Manager, never returned by a step or logged. */
  readonly secretAccessKey: string;
}

const isNoSuchEntity = (error: unknown): boolean => error instanceof Error && (error.name === 'NoSuchEntity' || error.name === 'NoSuchEntityException');

async function forUser<T>(userName: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isNoSuchEntity(error)) {
      throw new UserNotFoundError(`IAM user ${userName} does not exist (or was deleted meanwhile). Check the name with \`aws iam get-user --user-name ${userName}\`.`);
    }
    throw error;
  }
}

export async function readUser(iam: IAMClient, userName: string): Promise<{ arn: string; tags: Tag[] }> {
  return forUser(userName, async () => {
    const user = await iam.send(new GetUserCommand({ UserName: userName }));
    const tags: Tag[] = [];
    for await (const page of paginateListUserTags({ client: iam }, { UserName: userName })) tags.push(...(page.Tags ?? []));
    return { arn: user.User?.Arn ?? '', tags };
  });
}

export async function readTags(iam: IAMClient, userName: string): Promise<Map<string, string>> {
  const { tags } = await readUser(iam, userName);
  return new Map(tags.filter((tag) => tag.Key !== undefined).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

/** A user has at most two keys, so one page always holds them all. */
export async function listUserKeys(iam: IAMClient, userName: string): Promise<UserKey[]> {
  return forUser(userName, async () => {
    const response = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
    return (response.AccessKeyMetadata ?? []).flatMap((key) =>
      key.AccessKeyId === undefined
        ? []
        : [{ accessKeyId: key.AccessKeyId, status: key.Status === 'Active' ? ('Active' as const) : ('Inactive' as const), createdAt: key.CreateDate ?? new Date(0) }],
    );
  });
}

/** When IAM last saw the key used; undefined when never (or when the key is gone). */
export async function keyLastUsed(iam: IAMClient, accessKeyId: string): Promise<Date | undefined> {
  try {
    const response = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }));
    return response.AccessKeyLastUsed?.LastUsedDate ?? undefined;
  } catch (error) {
    if (isNoSuchEntity(error)) return undefined;
    throw error;
  }
}

export async function createKey(iam: IAMClient, userName: string): Promise<CreatedKey> {
  return forUser(userName, async () => {
    const response = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    const key = response.AccessKey;
    if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error(`IAM returned no access key for ${userName}`);
    return { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey, status: 'Active', createdAt: key.CreateDate ?? new Date() };
  });
}

/** Sets a key's status; setting the status it already has is a no-op in IAM. */
export async function setKeyStatus(iam: IAMClient, userName: string, accessKeyId: string, status: KeyStatus): Promise<void> {
  try {
    await iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: status }));
  } catch (error) {
    if (isNoSuchEntity(error)) {
      throw new AccessKeyNotFoundError(`Access key ${accessKeyId} of user ${userName} no longer exists, so it cannot be set ${status}. Check the user's keys in IAM.`);
    }
    throw error;
  }
}

/** Deletes a key; a key that is already gone counts as deleted. */
export async function deleteKey(iam: IAMClient, userName: string, accessKeyId: string): Promise<void> {
  try {
    await iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId }));
  } catch (error) {
    if (!isNoSuchEntity(error)) throw error;
  }
}
