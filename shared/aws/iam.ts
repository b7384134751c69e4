import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  UpdateAccessKeyCommand,
  paginateGetAccountAuthorizationDetails,
  paginateListAccessKeys,
  paginateListGroupsForUser,
  paginateListUserTags,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { AccessKeyNotFoundError, UserNotFoundError } from '../base/errors.ts';

/**
 * Every IAM read and write of the scanner, start-rotation and the workflow. Every write is
 * idempotent: it checks or tolerates "already so". Where a user or key may be missing, the caller
 * says what that means to it: reads of a user throw UserNotFoundError, and `keyLastUsed` takes the
 * caller's choice for a key that is gone.
 */

export type KeyStatus = 'Active' | 'Inactive';

export interface AccessKey {
  readonly accessKeyId: string;
  readonly status: KeyStatus;
  readonly createdAt: Date;
}

export interface CreatedKey extends AccessKey {
  /** The new key's secret: handed straight to Secrets Manager, never returned by a step or logged. */
  readonly secretAccessKey: string;
}

export interface Tag {
  readonly Key?: string | undefined;
  readonly Value?: string | undefined;
}

/** What the scanner needs about a user besides its keys. */
export interface UserFacts {
  readonly userName: string;
  readonly path: string;
  readonly groups: readonly string[];
  readonly tags: readonly Tag[];
  /** GetUser's Arn (it names the account), when IAM returned one. */
  readonly arn?: string;
}

const PAGE_SIZE = 1000;

/** IAM's not-found, as the SDK names it (NoSuchEntityException) and as older models and mocks do (NoSuchEntity). */
export function isNoSuchEntity(error: unknown): boolean {
  return error instanceof Error && (error.name === 'NoSuchEntityException' || error.name === 'NoSuchEntity');
}

async function ofUser<T>(userName: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isNoSuchEntity(error)) {
      throw new UserNotFoundError(
        `IAM user ${userName} does not exist (or was deleted meanwhile). Check the name with \`aws iam get-user --user-name ${userName}\`.`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}

/**
 * Every user's path, groups and tags, from GetAccountAuthorizationDetails: up to 1,000 users per
 * call, where ListUsers + ListUserTags + ListGroupsForUser would cost two calls per user. This is
 * what lets the scanner apply each user's own tags before deciding whom to read live.
 */
export async function readAccountUsers(iam: IAMClient): Promise<Map<string, UserFacts>> {
  const users = new Map<string, UserFacts>();
  for await (const page of paginateGetAccountAuthorizationDetails({ client: iam, pageSize: PAGE_SIZE }, { Filter: ['User'] })) {
    for (const detail of page.UserDetailList ?? []) {
      if (detail.UserName === undefined) continue;
      users.set(detail.UserName, {
        userName: detail.UserName,
        path: detail.Path ?? '/',
        groups: detail.GroupList ?? [],
        tags: detail.Tags ?? [],
      });
    }
  }
  return users;
}

async function userTags(iam: IAMClient, userName: string): Promise<Tag[]> {
  const tags: Tag[] = [];
  for await (const page of paginateListUserTags({ client: iam, pageSize: PAGE_SIZE }, { UserName: userName }))
    tags.push(...(page.Tags ?? []));
  return tags;
}

/** One user's facts by name; `withGroups` is false when no exempt groups are configured, to save the call. */
export async function readUserFacts(iam: IAMClient, userName: string, withGroups: boolean): Promise<UserFacts> {
  return ofUser(userName, async () => {
    const user = await iam.send(new GetUserCommand({ UserName: userName }));
    const tags = await userTags(iam, userName);
    const groups: string[] = [];
    if (withGroups) {
      for await (const page of paginateListGroupsForUser({ client: iam, pageSize: PAGE_SIZE }, { UserName: userName })) {
        for (const group of page.Groups ?? []) if (group.GroupName !== undefined) groups.push(group.GroupName);
      }
    }
    return { userName, path: user.User?.Path ?? '/', groups, tags, ...(user.User?.Arn ? { arn: user.User.Arn } : {}) };
  });
}

/** The groups a user belongs to (EXEMPT_GROUPS). */
export async function readUserGroups(iam: IAMClient, userName: string): Promise<string[]> {
  return ofUser(userName, async () => {
    const groups: string[] = [];
    for await (const page of paginateListGroupsForUser({ client: iam, pageSize: PAGE_SIZE }, { UserName: userName })) {
      for (const group of page.Groups ?? []) if (group.GroupName !== undefined) groups.push(group.GroupName);
    }
    return groups;
  });
}

/** That the user exists (one GetUser): UserNotFoundError, naming it, when it does not. */
export async function requireUser(iam: IAMClient, userName: string): Promise<void> {
  await ofUser(userName, () => iam.send(new GetUserCommand({ UserName: userName })));
}

export async function readUser(iam: IAMClient, userName: string): Promise<{ arn: string; path: string; tags: Tag[] }> {
  return ofUser(userName, async () => {
    const user = await iam.send(new GetUserCommand({ UserName: userName }));
    return { arn: user.User?.Arn ?? '', path: user.User?.Path ?? '/', tags: await userTags(iam, userName) };
  });
}

export async function readTags(iam: IAMClient, userName: string): Promise<Map<string, string>> {
  const { tags } = await readUser(iam, userName);
  return new Map(tags.filter((tag) => tag.Key !== undefined).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
}

/** The user's keys (at most two, so one page holds them). A key IAM returns without a creation date is left out: no age can be judged from it. */
export async function listUserKeys(iam: IAMClient, userName: string): Promise<AccessKey[]> {
  return ofUser(userName, async () => {
    const keys: AccessKey[] = [];
    for await (const page of paginateListAccessKeys({ client: iam, pageSize: PAGE_SIZE }, { UserName: userName })) {
      for (const key of page.AccessKeyMetadata ?? []) {
        if (key.AccessKeyId === undefined || key.CreateDate === undefined) continue;
        keys.push({ accessKeyId: key.AccessKeyId, status: key.Status === 'Active' ? 'Active' : 'Inactive', createdAt: key.CreateDate });
      }
    }
    return keys;
  });
}

/**
 * When IAM last saw the key used; undefined when never. IAM lags real use by up to hours and records
 * only the first use in any 15 minutes. `whenGone` is the caller's: the workflow treats a key that
 * is gone as never used again ('unused'); the scanner wants to hear of it ('throw', an AccessKeyNotFoundError).
 */
export async function keyLastUsed(iam: IAMClient, accessKeyId: string, whenGone: 'unused' | 'throw'): Promise<Date | undefined> {
  try {
    const response = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }));
    return response.AccessKeyLastUsed?.LastUsedDate ?? undefined;
  } catch (error) {
    if (!isNoSuchEntity(error)) throw error;
    if (whenGone === 'unused') return undefined;
    throw new AccessKeyNotFoundError(`Access key ${accessKeyId} no longer exists (it was deleted since it was listed).`, { cause: error });
  }
}

/**
 * The IAM user that owns a key, from GetAccessKeyLastUsed (which answers for any key of the account);
 * undefined when no user of this account has it, or when this account may not ask (a key of another account).
 */
export async function ownerOfKey(iam: IAMClient, accessKeyId: string): Promise<string | undefined> {
  try {
    const response = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }));
    return response.UserName ?? undefined;
  } catch (error) {
    if (
      isNoSuchEntity(error) ||
      (error instanceof Error && ['AccessDenied', 'AccessDeniedException', 'InvalidClientTokenId'].includes(error.name))
    )
      return undefined;
    throw error;
  }
}

export async function createKey(iam: IAMClient, userName: string): Promise<CreatedKey> {
  return ofUser(userName, async () => {
    const response = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    const key = response.AccessKey;
    if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error(`IAM returned no access key for ${userName}`);
    return {
      accessKeyId: key.AccessKeyId,
      secretAccessKey: key.SecretAccessKey,
      status: 'Active',
      createdAt: key.CreateDate ?? new Date(),
    };
  });
}

/** Sets a key's status; setting the status it already has is a no-op in IAM. */
export async function setKeyStatus(iam: IAMClient, userName: string, accessKeyId: string, status: KeyStatus): Promise<void> {
  try {
    await iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: status }));
  } catch (error) {
    if (isNoSuchEntity(error)) {
      throw new AccessKeyNotFoundError(
        `Access key ${accessKeyId} of user ${userName} no longer exists, so it cannot be set ${status}. Check the user's keys in IAM.`,
        {
          cause: error,
        },
      );
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
