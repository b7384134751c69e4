import {
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  paginateGetAccountAuthorizationDetails,
  paginateListAccessKeys,
  paginateListGroupsForUser,
  paginateListUserTags,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { UserNotFoundError } from './errors.ts';
import type { KeyStatus } from './policy.ts';
import type { Tag } from './tags.ts';

/** What the policy needs about a user besides its keys. */
export interface UserFacts {
  readonly userName: string;
  readonly path: string;
  readonly groups: readonly string[];
  readonly tags: readonly Tag[];
}

export interface LiveKey {
  readonly accessKeyId: string;
  readonly status: KeyStatus;
  readonly createdAt: Date;
}

const PAGE_SIZE = 1000;

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
      users.set(detail.UserName, { userName: detail.UserName, path: detail.Path ?? '/', groups: detail.GroupList ?? [], tags: detail.Tags ?? [] });
    }
  }
  return users;
}

/** One user's facts by name; `withGroups` is false when no exempt groups are configured, to save the call. */
export async function readUser(iam: IAMClient, userName: string, withGroups: boolean): Promise<UserFacts> {
  return notFoundAsTyped(userName, async () => {
    const user = await iam.send(new GetUserCommand({ UserName: userName }));
    const tags: Tag[] = [];
    for await (const page of paginateListUserTags({ client: iam, pageSize: PAGE_SIZE }, { UserName: userName })) tags.push(...(page.Tags ?? []));
    const groups: string[] = [];
    if (withGroups) {
      for await (const page of paginateListGroupsForUser({ client: iam, pageSize: PAGE_SIZE }, { UserName: userName })) {
        for (const group of page.Groups ?? []) if (group.GroupName !== undefined) groups.push(group.GroupName);
      }
    }
    return { userName, path: user.User?.Path ?? '/', groups, tags };
  });
}

export async function listKeys(iam: IAMClient, userName: string): Promise<LiveKey[]> {
  return notFoundAsTyped(userName, async () => {
    const keys: LiveKey[] = [];
    for await (const page of paginateListAccessKeys({ client: iam, pageSize: PAGE_SIZE }, { UserName: userName })) {
      for (const key of page.AccessKeyMetadata ?? []) {
        if (key.AccessKeyId === undefined || key.CreateDate === undefined) continue;
        keys.push({ accessKeyId: key.AccessKeyId, status: key.Status === 'Active' ? 'Active' : 'Inactive', createdAt: key.CreateDate });
      }
    }
    return keys;
  });
}

/** When the key was last used; undefined when never (IAM lags real use by up to a few hours). */
export async function keyLastUsed(iam: IAMClient, accessKeyId: string): Promise<Date | undefined> {
  const response = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }));
  return response.AccessKeyLastUsed?.LastUsedDate;
}

async function notFoundAsTyped<T>(userName: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof Error && error.name === 'NoSuchEntityException') {
      throw new UserNotFoundError(`IAM user ${userName} does not exist (it may have been deleted since the credential report was made).`);
    }
    throw error;
  }
}
