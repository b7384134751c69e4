import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { CallOrigin, CloudTrailRecorder } from './cloudtrail-recorder.ts';
import { enforceSecretResourcePolicy } from './secret-policy-check.ts';

interface StoredCredentials {
  readonly AccessKeyId: string;
  readonly SecretAccessKey: string;
}

export interface ConsumerStats {
  readonly userName: string;
  /** Which consumer of the user's key this is (default: the user's name). */
  readonly name: string;
  readonly sourceIp: string;
  readonly calls: number;
  readonly failures: number;
  /** Reads of the secret AWS (or the local stand-in of its resource policy) refused. */
  readonly secretReadsRefused: number;
  /** Key IDs this consumer has signed requests with, in order of first use. */
  readonly keysUsed: readonly string[];
}

/**
 * A stand-in for a real workload that holds a user's access key: it reads the key from the user's
 * secret (AWSCURRENT) and calls STS with it on an interval. A consumer that does not follow
 * rotations reads the secret once and keeps its first key forever, like a job whose config was
 * copied by hand; that is what the consumer health gate exists to catch.
 *
 * Each consumer stands for a machine of its own: with a recorder, every call it makes is written as
 * a CloudTrail record from its `sourceIp` and `userAgent`, which is how the rotator tells consumers
 * of one key apart.
 */
export class SimulatedConsumer {
  private timer: NodeJS.Timeout | undefined;
  private pinned: StoredCredentials | undefined;
  private readonly stsByKey = new Map<string, STSClient>();
  private readonly readerByKey = new Map<string, SecretsManagerClient>();
  private current: StoredCredentials | undefined;
  private running: Promise<void> | undefined;
  private stats = { calls: 0, failures: 0, secretReadsRefused: 0, keysUsed: [] as string[] };
  private readonly name: string;
  private readonly sourceIp: string;
  /** Where its calls come from, as CloudTrail records them. */
  private readonly origin: CallOrigin;

  constructor(
    private readonly options: {
      readonly userName: string;
      readonly secretId: string;
      readonly secretsManager: SecretsManagerClient;
      readonly followsRotation: boolean;
      readonly intervalMs: number;
      /** Tells this consumer from others of the same key (stats, the SDK's app id); default: the user's name. */
      readonly name?: string;
      /** The address its calls come from; default: a documentation address (RFC 5737, RFC 3849) of its own. */
      readonly sourceIp?: string;
      /** The agent CloudTrail records, e.g. `aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64`; default: the SDK's own, with `name` as its app id. */
      readonly userAgent?: string;
      /** Writes a CloudTrail record of every call it makes, and refuses a call on a key that is not Active, as AWS does. */
      readonly recorder?: CloudTrailRecorder;
      /**
       * Self-refresh (SELF_REFRESH_USERS): it was handed `initialKey` once and reads the secret signed with
       * its current key, so only the secret's resource policy lets it (enforced as AWS would, local/secret-policy-check.ts).
       */
      readonly selfRefresh?: { readonly userArn: string; readonly initialKey: StoredCredentials; readonly sourceVpce?: string };
    },
  ) {
    this.name = options.name ?? options.userName;
    this.sourceIp = options.sourceIp ?? nextSourceIp();
    this.origin = { sourceIp: this.sourceIp, ...(options.userAgent === undefined ? {} : { userAgent: options.userAgent }) };
  }

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
    for (const client of [...this.stsByKey.values(), ...this.readerByKey.values()]) client.destroy();
    return this.snapshot();
  }

  snapshot(): ConsumerStats {
    return { userName: this.options.userName, name: this.name, sourceIp: this.sourceIp, ...this.stats, keysUsed: [...this.stats.keysUsed] };
  }

  /** One unit of work: fetch credentials the way this consumer does, then use them. */
  async callOnce(): Promise<void> {
    const credentials = await this.credentials();
    if (!credentials) return;
    let client = this.stsByKey.get(credentials.AccessKeyId);
    if (!client) {
      client = new STSClient(this.clientConfig(credentials));
      this.options.recorder?.attach(client, this.origin);
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

  /** A client signed with `key`, as this consumer's own: one attempt, its name as the SDK's app id. */
  private clientConfig(key: StoredCredentials) {
    return {
      credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey },
      maxAttempts: 1,
      userAgentAppId: appId(this.name),
    };
  }

  /** The client that reads the secret: the account's, or, with self-refresh, one signed with the key this consumer holds. */
  private secretReader(): SecretsManagerClient {
    const selfRefresh = this.options.selfRefresh;
    if (selfRefresh === undefined) return this.options.secretsManager;
    const key = this.current ?? selfRefresh.initialKey;
    let client = this.readerByKey.get(key.AccessKeyId);
    if (!client) {
      client = new SecretsManagerClient(this.clientConfig(key));
      enforceSecretResourcePolicy(client, this.options.secretsManager, {
        userArn: selfRefresh.userArn,
        sourceIp: this.sourceIp,
        ...(selfRefresh.sourceVpce === undefined ? {} : { sourceVpce: selfRefresh.sourceVpce }),
      });
      this.options.recorder?.attach(client, this.origin);
      this.readerByKey.set(key.AccessKeyId, client);
    }
    return client;
  }

  private async credentials(): Promise<StoredCredentials | undefined> {
    if (!this.options.followsRotation && this.pinned) return this.pinned;
    try {
      const secret = await this.secretReader().send(
        new GetSecretValueCommand({ SecretId: this.options.secretId, VersionStage: 'AWSCURRENT' }),
      );
      const parsed = JSON.parse(secret.SecretString ?? '{}') as Partial<StoredCredentials>;
      if (typeof parsed.AccessKeyId !== 'string' || typeof parsed.SecretAccessKey !== 'string') return undefined;
      const credentials = { AccessKeyId: parsed.AccessKeyId, SecretAccessKey: parsed.SecretAccessKey };
      if (!this.options.followsRotation) this.pinned = credentials;
      this.current = credentials;
      return credentials;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      const selfRefresh = this.options.selfRefresh;
      if (selfRefresh !== undefined && error instanceof Error && error.name === 'AccessDeniedException') {
        // Refused a refresh, it goes on with the key it holds, as long as that key works.
        this.stats.secretReadsRefused += 1;
        return this.current ?? selfRefresh.initialKey;
      }
      this.stats.failures += 1;
      return undefined;
    }
  }
}

let consumersCreated = 0;

/** A distinct address per consumer of this process: TEST-NET-1 (the demos and tests configure theirs in the other two), then the IPv6 documentation prefix. */
function nextSourceIp(): string {
  consumersCreated += 1;
  return consumersCreated <= 254 ? `192.0.2.${consumersCreated}` : `2001:db8::${consumersCreated.toString(16)}`;
}

/** The SDK puts `app/<id>` in its User-Agent; it allows at most 50 characters. */
function appId(name: string): string {
  return name.replace(/[^\w.-]/g, '-').slice(0, 50);
}
