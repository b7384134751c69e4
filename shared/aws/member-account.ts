import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, MetadataBearer, MiddlewareStack } from '@aws-sdk/types';
import { ACCOUNT_ID } from '../base/account-id.ts';
import type { Clock } from '../base/clock.ts';
import { errorMessage, errorName, MemberAccountAccessError, RotatorError } from '../base/errors.ts';
import type { MemberSession } from './member-session-policies.ts';

/** Credentials are renewed this long before they expire, so no call signs with a dying session. */
const RENEW_BEFORE_MS = 5 * 60_000;
const SESSION_SECONDS = 3600;

/** MEMBER_ROLE_NAME and MEMBER_ROLE_EXTERNAL_ID (an empty external id: none). */
export interface MemberRoleSettings {
  readonly memberRoleName: string;
  readonly memberRoleExternalId: string;
}

/** What a person does about an account whose member role cannot be used. */
export const MEMBER_ROLE_FIX =
  'deploy stack/member-role.yml in that account (README: Organization-wide rotation), check MEMBER_ROLE_NAME and MEMBER_ROLE_EXTERNAL_ID, or leave the account out with ORG_EXCLUDE_ACCOUNTS';

export function memberRoleArn(accountId: string, settings: MemberRoleSettings): string {
  return `arn:aws:iam::${accountId}:role/${settings.memberRoleName}`;
}

/**
 * Credentials for acting in a member account through its member role (stack/member-role.yml):
 * one provider per account, each assuming the role on first use and again shortly before the
 * session ends, shared by every client built for that account. A refusal becomes a
 * MemberAccountAccessError that says how to fix that one account; the caller reports it and goes
 * on with the others.
 *
 * A Lambda function passes its `session` (member-session-policies.ts): its own RoleSessionName and
 * SourceIdentity, so the member account's CloudTrail names the function, and a session policy that
 * cuts the role down to that function's actions. Without one (the CLI and the local runner, run by
 * an operator), the session is named `iam-key-rotator` and has the whole member role.
 */
export function memberCredentials(
  sts: STSClient,
  settings: MemberRoleSettings,
  clock: Clock,
  session?: MemberSession,
): (accountId: string) => AwsCredentialIdentityProvider {
  const providers = new Map<string, AwsCredentialIdentityProvider>();
  return (accountId) => {
    if (!ACCOUNT_ID.test(accountId)) throw new MemberAccountAccessError(accountId, `"${accountId}" is not a 12-digit AWS account id.`);
    const existing = providers.get(accountId);
    if (existing) return existing;
    let current: Promise<AwsCredentialIdentity> | undefined;
    const assume = async (): Promise<AwsCredentialIdentity> => {
      const roleArn = memberRoleArn(accountId, settings);
      try {
        const response = await sts.send(
          new AssumeRoleCommand({
            RoleArn: roleArn,
            RoleSessionName: session?.sessionName ?? 'iam-key-rotator',
            DurationSeconds: SESSION_SECONDS,
            ...(session ? { SourceIdentity: session.sourceIdentity, Policy: session.policy } : {}),
            ...(settings.memberRoleExternalId === '' ? {} : { ExternalId: settings.memberRoleExternalId }),
          }),
        );
        const credentials = response.Credentials;
        if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) throw new Error('AssumeRole returned no credentials');
        return {
          accessKeyId: credentials.AccessKeyId,
          secretAccessKey: credentials.SecretAccessKey,
          sessionToken: credentials.SessionToken,
          expiration: credentials.Expiration,
          accountId,
        };
      } catch (error) {
        throw new MemberAccountAccessError(
          accountId,
          `Cannot act in account ${accountId}: assuming ${roleArn} failed (${errorName(error)}: ${errorMessage(error)}). To fix: ${MEMBER_ROLE_FIX}.`,
          { cause: error },
        );
      }
    };
    const fresh = (held: AwsCredentialIdentity): boolean =>
      held.expiration === undefined || held.expiration.getTime() - clock().getTime() > RENEW_BEFORE_MS;
    const provider: AwsCredentialIdentityProvider = async () => {
      for (let attempt = 0; attempt < 2; attempt += 1) {
        current ??= assume();
        const pending = current;
        try {
          const held = await pending;
          if (fresh(held)) return held;
        } catch (error) {
          // Forget a refusal, so the next use asks again (the role may have been deployed since).
          if (current === pending) current = undefined;
          throw error;
        }
        if (current === pending) current = undefined;
      }
      throw new MemberAccountAccessError(
        accountId,
        `The session in account ${accountId} was already expiring when it was issued; check the clock of this machine.`,
      );
    };
    providers.set(accountId, provider);
    return provider;
  };
}

/**
 * Clients per member account (a step's, a scan's), cached for the life of the container. Each use first resolves the
 * account's credentials (the provider keeps its session until shortly before it ends), so a role
 * that cannot be assumed fails the step before any call.
 */
export function memberAccountClients<C>(
  credentialsFor: (accountId: string) => AwsCredentialIdentityProvider,
  build: (credentials: AwsCredentialIdentityProvider, accountId: string) => C,
): (accountId: string) => Promise<C> {
  const cache = new Map<string, C>();
  return async (accountId) => {
    const credentials = credentialsFor(accountId);
    await credentials();
    let clients = cache.get(accountId);
    if (!clients) {
      clients = build(credentials, accountId);
      cache.set(accountId, clients);
    }
    return clients;
  };
}

/**
 * memberAccountClients for a Lambda container: built on first use with the member-role settings of
 * the configuration loaded then (read once per container), and kept for the container's life.
 */
export function memberAccountClientsOnFirstUse<C>(
  sts: STSClient,
  clock: Clock,
  session: MemberSession,
  build: (credentials: AwsCredentialIdentityProvider, accountId: string) => C,
): (settings: MemberRoleSettings) => (accountId: string) => Promise<C> {
  let clients: ((accountId: string) => Promise<C>) | undefined;
  return (settings) => (clients ??= memberAccountClients(memberCredentials(sts, settings, clock, session), build));
}

/** A call the function's session policy does not allow, refused before it leaves the function. */
export class SessionPolicyDeniedError extends RotatorError {
  // The name AWS gives the same refusal, so every caller treats both alike.
  override readonly name = 'AccessDenied';
}

const SERVICE_PREFIX: Readonly<Record<string, string>> = {
  IAMClient: 'iam',
  SecretsManagerClient: 'secretsmanager',
  CloudTrailClient: 'cloudtrail',
};

/**
 * The session policy again, in process: a client built on a function's member session refuses, with
 * AccessDenied, every command whose action the session does not allow. AWS refuses them anyway;
 * this also holds where the local stand-in does not (moto ignores session policies), and names the
 * function's own table as the reason.
 */
export function limitToSession<I extends object, O extends MetadataBearer, C extends { middlewareStack: MiddlewareStack<I, O> }>(
  client: C,
  session: MemberSession,
): C {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const prefix = SERVICE_PREFIX[context.clientName ?? ''] ?? context.clientName ?? 'unknown';
      const action = `${prefix}:${(context.commandName ?? '').replace(/Command$/, '')}`;
      if (!session.actions.has(action)) {
        throw new SessionPolicyDeniedError(
          `${session.sessionName} is not allowed to perform ${action} in a member account: its session policy (shared/aws/member-session-policies.ts) does not grant it.`,
        );
      }
      return next(args);
    },
    { step: 'initialize', name: 'limitToMemberSession' },
  );
  return client;
}
