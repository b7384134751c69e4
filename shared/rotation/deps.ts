import type { Logger } from '@aws-lambda-powertools/logger';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import type { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { systemClock, type Clock } from '../base/clock.ts';
import type { Config } from '../config/settings.ts';
import { ConfigError } from '../base/errors.ts';
import { logger } from '../base/logger.ts';
import { limitToSession, memberAccountClientsOnFirstUse } from '../aws/member-account.ts';
import { memberSessionOf, type MemberFunction } from '../aws/member-session-policies.ts';
import { deployedAccountId } from '../aws/deployed-account.ts';
import type { SecurityHubApi } from '../aws/security-hub.ts';
import type { Notifier } from '../notify/notifier.ts';
import { configLoader } from '../config/load-config.ts';
import type { ConfirmationTokenStore } from './confirmation-tokens.ts';
import type { DecisionStore } from './decision-records.ts';
import type { LastUsedPrecision } from './decisions.ts';
import type { ConfirmChannel } from './workflow-state.ts';
import type { KeyCallReader } from '../aws/key-calls.ts';

/** The waits a local run compresses; they win over user tags and the configuration. */
export interface Durations {
  readonly healthCheckIntervalMs: number;
  readonly healthCheckDeadlineMs: number;
  readonly observationMs: number;
  readonly oldKeyQuietMs: number;
}

/** The clients a step uses in the account it acts in. SNS, DynamoDB and Step Functions stay in the stack's account. */
export interface AccountClients {
  readonly iam: IAMClient;
  readonly secretsManager: SecretsManagerClient;
  /** That account's CloudTrail, read with the member session; absent where the function reads none (or locally). */
  readonly readKeyCalls?: KeyCallReader;
  /** Notify: that account's Security Hub, where its keys' findings go (SECURITY_HUB_FINDINGS), signed by the member session. */
  readonly securityHub?: SecurityHubApi;
}

export interface StsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** Everything a step's core needs from the outside world; the Lambda handlers and the local runner build their own. */
export interface RotationDeps {
  readonly iam: IAMClient;
  readonly secretsManager: SecretsManagerClient;
  /** Sends owner notifications once each (SNS, deduplicated in the ledger table). */
  readonly notifier: Notifier;
  /** An STS client signed with the given key (Verify). Callers destroy it after use. */
  readonly stsWith: (credentials: StsCredentials) => STSClient;
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly durations: Partial<Durations>;
  /** How far GetAccessKeyLastUsed can be trusted: awsLastUsedPrecision deployed, FULL_PRECISION against moto. */
  readonly lastUsedPrecision: LastUsedPrecision;
  readonly fetch: typeof fetch;
  readonly httpTimeoutMs: number;
  /** Who called with a key, from CloudTrail (the consumers-moved check, the observation, new-key-ready); absent: last-used only. */
  readonly readKeyCalls?: KeyCallReader;
  /** How the manual check hears a person: `task-token` deployed (AwaitConfirmation), `tag` (the default) in local runs, which have no callbacks. */
  readonly confirmVia?: ConfirmChannel;
  /** Where AwaitConfirmation stores its task token for the CLI (the ledger table); only that step needs it. */
  readonly confirmationTokens?: ConfirmationTokenStore;
  /** With `task-token`: where confirm and abort record a person's decision (the ledger table); CheckConsumers, AwaitConfirmation and CheckObservation read it instead of tags. */
  readonly decisions?: DecisionStore;
  /** The account the stack runs in (ROTATOR_ACCOUNT_ID deployed, STS locally); asked only when a step names an account. */
  readonly ownAccountId?: () => Promise<string>;
  /** IAM and Secrets Manager signed by another account's member role; rejects with MemberAccountAccessError when the role cannot be assumed. */
  readonly forAccount?: (accountId: string) => Promise<AccountClients>;
  /** Set (by inAccount) when this step acts in a member account: `iam` and `secretsManager` are that account's. */
  readonly memberAccountId?: string;
  /** Notify only, with SECURITY_HUB_FINDINGS: the Security Hub of the account the step acts in (inAccount), where the workflow's events become findings. */
  readonly securityHub?: SecurityHubTarget;
}

export interface SecurityHubTarget {
  readonly api: SecurityHubApi;
  readonly accountId: () => Promise<string>;
  readonly region: string;
}

export type DepsProvider = () => Promise<RotationDeps>;

/**
 * IAM records only the first use of a key in any 15-minute span (IAM user guide, "Getting credential
 * reports for your AWS account", access_key_N_last_used_date: "When an access key is used more than
 * once in a 15-minute span, only the first use is recorded in this field"), so a last-used time may
 * stand for uses up to 15 minutes later.
 */
export const AWS_LAST_USED_GRANULARITY_MS = 15 * 60_000;

/** On AWS: 15-minute spans, and uses that may show up to LAST_USED_LAG (default 4h) late. */
export function awsLastUsedPrecision(config: Pick<Config, 'lastUsedLagMs'>): LastUsedPrecision {
  return { granularityMs: AWS_LAST_USED_GRANULARITY_MS, lagMs: config.lastUsedLagMs };
}

/** moto updates GetAccessKeyLastUsed on every signed request, at once and to the microsecond. */
export const FULL_PRECISION: LastUsedPrecision = { granularityMs: 0, lagMs: 0 };
export const HTTP_CHECK_TIMEOUT_MS = 5_000;

// A client per key cannot live at module scope: Verify signs with a key that exists for minutes.
// One attempt only: the state machine's Retry owns the backoff for IAM's eventual consistency.
export const stsWith = (credentials: StsCredentials): STSClient => new STSClient({ credentials, maxAttempts: 1 });

/**
 * The SDK clients (module scope, one per container, from shared/aws/clients/<service>.ts) and the
 * capabilities a function's step uses. Each functions/<step>.ts passes exactly these, so its bundle
 * holds only their clients: a module-scope `new XClient()` anywhere in a function's import graph
 * is bundled even when unused. The local runner builds its own RotationDeps with everything.
 */
export interface LambdaClients {
  readonly iam: IAMClient;
  /** Every step but CheckConsumers, CheckObservation and AwaitConfirmation. */
  readonly secretsManager?: SecretsManagerClient;
  /** Notify only: the owner notifier for the loaded configuration (see lambdaNotifier). */
  readonly notifier?: (config: Config) => Notifier;
  /** Verify only. */
  readonly stsWith?: (credentials: StsCredentials) => STSClient;
  /** AwaitConfirmation only. */
  readonly confirmationTokens?: (config: Config) => ConfirmationTokenStore;
  /** CheckConsumers, CheckObservation and Notify: who calls with a key, from CloudTrail (shared/consumers/reader.ts). */
  readonly keyCalls?: (config: Config) => KeyCallReader | undefined;
  /** CheckConsumers, AwaitConfirmation and CheckObservation: the decisions confirm and abort record in the ledger table. */
  readonly decisions?: (config: Config) => DecisionStore;
  /** Notify only: Security Hub (SECURITY_HUB_FINDINGS), in the rotator's own account. */
  readonly securityHub?: SecurityHubApi;
  /**
   * Acting in member accounts (organization-wide rotation): the module-scope STS client that assumes
   * their member role, and builders for clients signed by it. Without it a step refuses other accounts.
   */
  readonly member?: {
    /** The function's key in serverless.yml: names its member session and picks its session policy. */
    readonly function: MemberFunction;
    readonly sts: STSClient;
    readonly iam: (credentials: AwsCredentialIdentityProvider) => IAMClient;
    /** Omitted by the steps that have no Secrets Manager client. */
    readonly secretsManager?: (credentials: AwsCredentialIdentityProvider) => SecretsManagerClient;
    /**
     * The steps that read CloudTrail: that account's reader (memberKeyCallReader), over CloudTrail clients
     * signed by the member session; `limit` applies the session policy to them in process, as to IAM.
     */
    readonly keyCalls?: (
      config: Config,
      credentials: AwsCredentialIdentityProvider,
      accountId: string,
      limit: <C extends CloudTrailClient>(client: C) => C,
    ) => KeyCallReader | undefined;
    /** Notify: that account's Security Hub, for its keys' findings. */
    readonly securityHub?: (credentials: AwsCredentialIdentityProvider) => SecurityHubApi;
  };
}

function notBundled(what: string): ConfigError {
  return new ConfigError(`${what} is not available in this Lambda function: its functions/<step>.ts must pass it to lambdaDeps.`);
}

/** A client this function was built without: any use fails with a ConfigError naming it. */
function notBundledClient<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get: () => {
      throw notBundled(what);
    },
  });
}

const noNotifier: Notifier = { send: () => Promise.reject(notBundled('The notifier (SNS, ledger table)')) };
const noStsWith = (): STSClient => {
  throw notBundled('STS (stsWith)');
};

const noSecretsManager = notBundledClient<SecretsManagerClient>('The Secrets Manager client');

/**
 * A function's clients in member accounts: signed by its own member session (its session policy,
 * RoleSessionName and SourceIdentity), and refusing in process what that session may not do.
 */
export function lambdaMemberClients(
  member: NonNullable<LambdaClients['member']>,
): (config: Config) => (accountId: string) => Promise<AccountClients> {
  const session = memberSessionOf(member.function);
  // The clients of an account are built once, on first use, after the configuration was loaded.
  let loaded: Config | undefined;
  const clients = memberAccountClientsOnFirstUse(member.sts, systemClock, session, (credentials, accountId): AccountClients => {
    const secretsManager = member.secretsManager?.(credentials);
    const readKeyCalls = loaded && member.keyCalls?.(loaded, credentials, accountId, (client) => limitToSession(client, session));
    const securityHub = member.securityHub?.(credentials);
    return {
      iam: limitToSession(member.iam(credentials), session),
      secretsManager: secretsManager ? limitToSession(secretsManager, session) : noSecretsManager,
      ...(readKeyCalls ? { readKeyCalls } : {}),
      ...(securityHub ? { securityHub } : {}),
    };
  });
  return (config) => {
    loaded = config;
    return clients(config);
  };
}

/** The deployed Lambdas' dependencies: the function's module-scope clients, configuration read once per container. */
export function lambdaDeps(clients: LambdaClients): DepsProvider {
  const config = configLoader(process.env);
  const ownAccountId = deployedAccountId(process.env);
  const memberClients = clients.member ? lambdaMemberClients(clients.member) : undefined;
  return async () => {
    const loaded = await config();
    const forMember = memberClients?.(loaded);
    const readKeyCalls = clients.keyCalls?.(loaded);
    return {
      ...(readKeyCalls ? { readKeyCalls } : {}),
      ...(forMember ? { ownAccountId, forAccount: forMember } : {}),
      iam: clients.iam,
      secretsManager: clients.secretsManager ?? noSecretsManager,
      notifier: clients.notifier?.(loaded) ?? noNotifier,
      stsWith: clients.stsWith ?? noStsWith,
      config: loaded,
      clock: systemClock,
      logger,
      durations: {},
      lastUsedPrecision: awsLastUsedPrecision(loaded),
      fetch: globalThis.fetch,
      httpTimeoutMs: HTTP_CHECK_TIMEOUT_MS,
      confirmVia: 'task-token',
      confirmationTokens: clients.confirmationTokens?.(loaded),
      decisions: clients.decisions?.(loaded),
      ...(clients.securityHub
        ? { securityHub: { api: clients.securityHub, accountId: ownAccountId, region: process.env.AWS_REGION ?? 'us-east-1' } }
        : {}),
    };
  };
}
