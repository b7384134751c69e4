import { ConfigError } from '../base/errors.ts';

/**
 * SELF_REFRESH_USERS: the users whose own key may read their own secret, so that a consumer holding
 * only the current key can fetch the next one while the old one still works. It trades away part of
 * what rotation is for (whoever holds a leaked, undetected key can fetch its successors too), so it is
 * a stack setting, never a user tag: whoever can tag a user must not gain read of its future keys.
 *
 * Entries are separated by whitespace or `;` (IAM user names may hold `,`, `=` and `+`, never these):
 * `[<account id>/]<user name>[:<fence>|<fence>…]`, where a fence is a CIDR (the caller's address,
 * `aws:SourceIp`) or a VPC endpoint id (`aws:SourceVpce`). A bare user name applies in every account.
 */
export interface SelfRefreshEntry {
  /** Undefined: the user of that name in any account the rotator acts in. */
  readonly accountId: string | undefined;
  readonly userName: string;
  readonly sourceCidrs: readonly string[];
  readonly sourceVpces: readonly string[];
}

export type SelfRefreshFence = Pick<SelfRefreshEntry, 'sourceCidrs' | 'sourceVpces'>;

const USER_NAME = /^[\w+=,.@-]{1,64}$/;
const ACCOUNT_ID = /^\d{12}$/;
const VPCE = /^vpce-[0-9a-f]{8,17}$/;
const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const IPV6_CIDR = /^[0-9a-f:]*:[0-9a-f:]*\/(12[0-8]|1[01]\d|[1-9]?\d)$/i;

function parseEntry(text: string, setting: string): SelfRefreshEntry {
  // The first ":" ends the user: user names never hold one, IPv6 fences do.
  const colon = text.indexOf(':');
  const who = colon === -1 ? text : text.slice(0, colon);
  const fences = colon === -1 ? '' : text.slice(colon + 1);
  const slash = who.indexOf('/');
  const accountId = slash === -1 ? undefined : who.slice(0, slash);
  const userName = slash === -1 ? who : who.slice(slash + 1);
  const problem = (what: string): ConfigError =>
    new ConfigError(
      `${setting}: "${text}" ${what}. Write entries as [<account id>/]<user name>[:<CIDR or vpce-id>|…], separated by spaces or ";" ` +
        `(for example "billing-export:203.0.113.0/24|vpce-0a1b2c3d4e5f67890; 111122223333/reports-sync").`,
    );
  if (accountId !== undefined && !ACCOUNT_ID.test(accountId))
    throw problem(`names account "${accountId}", which is not a 12-digit account id`);
  if (!USER_NAME.test(userName)) throw problem(`names "${userName}", which is not an IAM user name`);
  const sourceCidrs: string[] = [];
  const sourceVpces: string[] = [];
  for (const fence of fences.split('|').filter((part) => part !== '')) {
    if (VPCE.test(fence)) sourceVpces.push(fence);
    else if (IPV4_CIDR.test(fence) || IPV6_CIDR.test(fence)) sourceCidrs.push(fence);
    else throw problem(`has the fence "${fence}", which is neither a CIDR (203.0.113.0/24) nor a VPC endpoint id (vpce-…)`);
  }
  return { accountId, userName, sourceCidrs, sourceVpces };
}

export function parseSelfRefreshUsers(text: string, setting: string): SelfRefreshEntry[] {
  const entries = text
    .split(/[\s;]+/)
    .filter((part) => part !== '')
    .map((part) => parseEntry(part, setting));
  const seen = new Set<string>();
  for (const entry of entries) {
    const key = `${entry.accountId ?? '*'}/${entry.userName}`;
    if (seen.has(key))
      throw new ConfigError(
        `${setting}: ${key.replace(/^\*\//, '')} is listed twice; give each user one entry with all its fences: [<account id>/]<user name>[:<CIDR or vpce-id>|…].`,
      );
    seen.add(key);
  }
  return entries;
}

/** The fence of a user whose key may read its own secret; undefined when it may not. An account's own entry wins over a bare name. */
export function selfRefreshFenceFor(
  entries: readonly SelfRefreshEntry[],
  accountId: string,
  userName: string,
): SelfRefreshFence | undefined {
  const own = entries.find((entry) => entry.userName === userName && entry.accountId === accountId);
  return own ?? entries.find((entry) => entry.userName === userName && entry.accountId === undefined);
}
