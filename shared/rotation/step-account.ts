import { ConfigError, InvalidInputError, MemberAccountAccessError } from '../base/errors.ts';
import type { RotationDeps } from './deps.ts';
import { AccountId } from './workflow-state.ts';

/**
 * Organization-wide rotation: a step acts in the account its input names. The stack's own account
 * (no account named, or its own id) keeps the function's own clients, so single-account mode is
 * unchanged; any other account gets IAM and Secrets Manager clients signed by that account's member
 * role (shared/aws/member-account.ts), built once per account and container.
 */

/**
 * Where a step's input may name the account: the execution input (top level, which every
 * `Payload.$: "$"` carries), Prepare's `rotation`, Contain's `request`, Notify's `state`.
 */
const ACCOUNT_PATHS: readonly (readonly string[])[] = [
  ['accountId'],
  ['rotation', 'accountId'],
  ['request', 'accountId'],
  ['state', 'accountId'],
  ['state', 'rotation', 'accountId'],
];

function valueAt(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const part of path) {
    if (current === null || typeof current !== 'object' || !(part in current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/**
 * The account a step's input names, or undefined for the stack's own. Two different accounts in one
 * input (a state edited by hand) are refused: acting in the wrong account is worse than not acting.
 */
export function stepAccountId(event: unknown): string | undefined {
  const named = new Set<string>();
  for (const path of ACCOUNT_PATHS) {
    const value = valueAt(event, path);
    if (value === undefined || value === null) continue;
    const parsed = AccountId.safeParse(value);
    if (!parsed.success) {
      throw new InvalidInputError(
        `${path.join('.')} must be a 12-digit AWS account id; start the rotation with the id of the account that holds the user.`,
      );
    }
    named.add(parsed.data);
  }
  if (named.size > 1) {
    throw new InvalidInputError(
      `The step's input names more than one account (${[...named].join(', ')}); nothing was changed. Start a new rotation naming the account that holds the user.`,
    );
  }
  return [...named][0];
}

/**
 * A step's dependencies in the account its input names. Another account than the stack's own gets
 * member-role clients, and a refused role fails here, as MemberAccountAccessError, before the step
 * touches anything (the ASL's Catch then runs MakeSafe and NotifyFailed).
 */
export async function inAccount(deps: RotationDeps, accountId: string | undefined): Promise<RotationDeps> {
  if (accountId === undefined) return deps;
  if (!deps.ownAccountId || !deps.forAccount) {
    throw new ConfigError(
      `This rotation names account ${accountId}, but this function cannot act in other accounts: its dependencies have no member-account clients (ownAccountId, forAccount).`,
    );
  }
  if (accountId === (await deps.ownAccountId())) return deps;
  // The stack's own CloudTrail holds none of a member key's calls: reading it would show no consumers and
  // pass consumers-moved on no evidence. Only that account's own reader counts (its event history, with the
  // member session); without one, the check says it could not read.
  const { securityHub, ...member } = await deps.forAccount(accountId);
  // A member account's findings are imported in that account, with its session: BatchImportFindings takes
  // a finding only from the account it names. Without a member Security Hub client, no finding is written there.
  const memberFindings =
    securityHub && deps.securityHub ? { api: securityHub, accountId: async () => accountId, region: deps.securityHub.region } : undefined;
  return { ...deps, readKeyCalls: member.readKeyCalls, ...member, memberAccountId: accountId, securityHub: memberFindings };
}

/** A client whose every call fails with the error that made its account unreachable. */
function unreachableClient<T extends object>(error: Error): T {
  return new Proxy({} as T, { get: (_target, property) => (property === 'send' ? () => Promise.reject(error) : undefined) });
}

/**
 * Like inAccount, but an unreachable member account still gets the step run, with clients that
 * fail with the access error. For Notify: after MemberAccountAccessError fails a rotation, MakeSafe
 * cannot reach the account either, and the failure notice must still go out (its owner and secret
 * ARN are conveniences the notify step already does without).
 */
export async function inAccountOrUnreachable(deps: RotationDeps, accountId: string | undefined): Promise<RotationDeps> {
  try {
    return await inAccount(deps, accountId);
  } catch (error) {
    if (!(error instanceof MemberAccountAccessError)) throw error;
    deps.logger.warn('member account unreachable; the step runs without its IAM and Secrets Manager', {
      accountId: error.accountId,
      detail: error.message,
    });
    return {
      ...deps,
      iam: unreachableClient(error),
      secretsManager: unreachableClient(error),
      securityHub: undefined,
      memberAccountId: error.accountId,
    };
  }
}

/**
 * The KMS key for a new secret. SECRET_KMS_KEY_ID names a key of the stack's account; a member
 * account's secrets use that account's default `aws/secretsmanager` key instead, which its consumers
 * can decrypt without a cross-account key policy.
 */
export function secretKmsKeyIdFor(deps: Pick<RotationDeps, 'config' | 'memberAccountId'>): string {
  return deps.memberAccountId === undefined ? deps.config.secretKmsKeyId : '';
}
