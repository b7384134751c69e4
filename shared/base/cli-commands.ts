/**
 * The CLI commands that notices, errors and the scan summary tell a person to run. One place, so the
 * advice always names the flags the CLI really has (cli/rotate.ts).
 */

/** Retires one key (no replacement): a new attempt when an earlier retirement of it ended. */
export function retireCommand(userName: string, accessKeyId?: string, accountId?: string): string {
  return `iam-key-rotator retire ${userName}${accessKeyId === undefined ? '' : ` --key ${accessKeyId}`}${accountId === undefined ? '' : ` --account ${accountId}`}`;
}

/** Rotates one key by hand: a new attempt when an earlier run of it ended. `accountId` only for a member account. */
export function rotateCommand(userName: string, accessKeyId?: string, accountId?: string): string {
  return `iam-key-rotator rotate ${userName}${accessKeyId === undefined ? '' : ` --key ${accessKeyId}`}${accountId === undefined ? '' : ` --account ${accountId}`}`;
}

/** Contains a leaked key (deactivated, its sessions denied), then replaces it. */
export function containCommand(userName: string, accessKeyId: string, accountId?: string): string {
  return `${rotateCommand(userName, accessKeyId, accountId)} --compromised`;
}
