import type { Logger } from '@aws-lambda-powertools/logger';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { dynamodb, iam, secretsManager, sns, ssm, sts } from '../clients.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import { callerAccountId, createNotifier, ledgerFor, type Notifier } from '../notifier.ts';
import { logger } from '../powertools.ts';
import { configLoader } from '../runtime-config.ts';
import { dynamoTokenStore, type ConfirmationTokenStore } from './confirmation.ts';
import type { ConfirmChannel } from './state.ts';

/** The waits a local run compresses; they win over user tags and the configuration. */
export interface Durations {
  readonly healthCheckIntervalMs: number;
  readonly healthCheckDeadlineMs: number;
  readonly observationMs: number;
  readonly oldKeyQuietMs: number;
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
  /** How coarsely IAM reports a key's last use: AWS shows whole minutes, moto full precision. */
  readonly lastUsedGranularityMs: number;
  readonly fetch: typeof fetch;
  readonly httpTimeoutMs: number;
  /** How the manual check hears a person: `task-token` deployed (AwaitConfirmation), `tag` (the default) in local runs, which have no callbacks. */
  readonly confirmVia?: ConfirmChannel;
  /** Where AwaitConfirmation stores its task token for the CLI (the ledger table); only that step needs it. */
  readonly confirmationTokens?: ConfirmationTokenStore;
}

export type DepsProvider = () => Promise<RotationDeps>;

export const AWS_LAST_USED_GRANULARITY_MS = 60_000;
export const HTTP_CHECK_TIMEOUT_MS = 5_000;

// A client per key cannot live at module scope: Verify signs with a key that exists for minutes.
// One attempt only: the state machine's Retry owns the backoff for IAM's eventual consistency.
export const stsWith = (credentials: StsCredentials): STSClient => new STSClient({ credentials, maxAttempts: 1 });

const config = configLoader(process.env, ssm);
const accountId = callerAccountId(sts);

/** The deployed Lambdas' dependencies: module-scope clients, configuration read once per container. */
export const lambdaDeps: DepsProvider = async () => {
  const loaded = await config();
  return {
    iam,
    secretsManager,
    notifier: createNotifier({ sns, ledger: ledgerFor(dynamodb, loaded), config: loaded, accountId, clock: systemClock, logger }),
    stsWith,
    config: loaded,
    clock: systemClock,
    logger,
    durations: {},
    lastUsedGranularityMs: AWS_LAST_USED_GRANULARITY_MS,
    fetch: globalThis.fetch,
    httpTimeoutMs: HTTP_CHECK_TIMEOUT_MS,
    confirmVia: 'task-token',
    confirmationTokens: dynamoTokenStore(dynamodb, () => loaded.notificationLedgerTable),
  };
};
