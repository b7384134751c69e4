import { GetSecretValueCommand, ResourceNotFoundException, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

interface StoredCredentials {
  readonly AccessKeyId: string;
  readonly SecretAccessKey: string;
}

export interface ConsumerStats {
  readonly userName: string;
  readonly calls: number;
  readonly failures: number;
  /** Key IDs this consumer has signed requests with, in order of first use. */
  readonly keysUsed: readonly string[];
}

/**
 * A stand-in for a real workload that holds a user's access key: it reads the key from the user's
 * secret (AWSCURRENT) and calls STS with it on an interval. A consumer that does not follow
 * rotations reads the secret once and keeps its first key forever, like a job whose config was
 * copied by hand; that is what the consumer health gate exists to catch.
 */
export class SimulatedConsumer {
  private timer: NodeJS.Timeout | undefined;
  private pinned: StoredCredentials | undefined;
  private readonly stsByKey = new Map<string, STSClient>();
  private running: Promise<void> | undefined;
  private stats = { calls: 0, failures: 0, keysUsed: [] as string[] };

  constructor(
    private readonly options: {
      readonly userName: string;
      readonly secretId: string;
      readonly secretsManager: SecretsManagerClient;
      readonly followsRotation: boolean;
      readonly intervalMs: number;
    },
  ) {}

  start(): void {
    if (this.timer) return;
    const tick = (): void => {
      this.running = this.callOnce().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.options.intervalMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<ConsumerStats> {
    const timer = this.timer;
    this.timer = undefined;
    if (timer) clearTimeout(timer);
    await this.running;
    for (const client of this.stsByKey.values()) client.destroy();
    return this.snapshot();
  }

  snapshot(): ConsumerStats {
    return { userName: this.options.userName, ...this.stats, keysUsed: [...this.stats.keysUsed] };
  }

  /** One unit of work: fetch credentials the way this consumer does, then use them. */
  async callOnce(): Promise<void> {
    const credentials = await this.credentials();
    if (!credentials) return;
    let client = this.stsByKey.get(credentials.AccessKeyId);
    if (!client) {
      client = new STSClient({
        credentials: { accessKeyId: credentials.AccessKeyId, secretAccessKey: credentials.SecretAccessKey },
        maxAttempts: 1,
      });
      this.stsByKey.set(credentials.AccessKeyId, client);
    }
    this.stats.calls += 1;
    if (!this.stats.keysUsed.includes(credentials.AccessKeyId)) this.stats.keysUsed.push(credentials.AccessKeyId);
    try {
      await client.send(new GetCallerIdentityCommand({}));
    } catch {
      this.stats.failures += 1;
    }
  }

  private async credentials(): Promise<StoredCredentials | undefined> {
    if (!this.options.followsRotation && this.pinned) return this.pinned;
    try {
      const secret = await this.options.secretsManager.send(
        new GetSecretValueCommand({ SecretId: this.options.secretId, VersionStage: 'AWSCURRENT' }),
      );
      const parsed = JSON.parse(secret.SecretString ?? '{}') as Partial<StoredCredentials>;
      if (typeof parsed.AccessKeyId !== 'string' || typeof parsed.SecretAccessKey !== 'string') return undefined;
      const credentials = { AccessKeyId: parsed.AccessKeyId, SecretAccessKey: parsed.SecretAccessKey };
      if (!this.options.followsRotation) this.pinned = credentials;
      return credentials;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      this.stats.failures += 1;
      return undefined;
    }
  }
}
