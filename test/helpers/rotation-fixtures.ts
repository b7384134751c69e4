import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  TagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Logger } from '@aws-lambda-powertools/logger';
import { jest } from '@jest/globals';
import { SERVICE_NAME, silentLogger } from '#shared/base/logger.ts';
import { publishedNotifications, type PublishedNotification } from '#local/moto-inspect.ts';
import { createSecretHolding } from '#shared/rotation/secret.ts';

/** Builders and readers for rotation tests against moto. */

export const iam = new IAMClient({});
export const secretsManager = new SecretsManagerClient({});

export interface TestKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export async function createUser(userName: string, tags: Record<string, string> = {}): Promise<TestKey> {
  await iam.send(new CreateUserCommand({ UserName: userName }));
  const entries = Object.entries(tags);
  if (entries.length > 0) await iam.send(new TagUserCommand({ UserName: userName, Tags: entries.map(([Key, Value]) => ({ Key, Value })) }));
  return createKey(userName);
}

export async function createKey(userName: string): Promise<TestKey> {
  const response = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
  return { accessKeyId: response.AccessKey?.AccessKeyId ?? '', secretAccessKey: response.AccessKey?.SecretAccessKey ?? '' };
}

export async function setStatus(userName: string, accessKeyId: string, status: 'Active' | 'Inactive'): Promise<void> {
  await iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: status }));
}

/** The secret as onboarding leaves it before the first rotation (by the rotator, or adopt-secret after a hand-written one): the current key as AWSCURRENT. */
export async function seedSecret(userName: string, key: TestKey): Promise<void> {
  await createSecretHolding(secretsManager, `iam-key-rotator/${userName}`, {
    AccessKeyId: key.accessKeyId,
    SecretAccessKey: key.secretAccessKey,
    UserName: userName,
    CreatedAt: new Date().toISOString(),
  });
}

/** The secret as a person writes it by hand (CreateSecret with a value): its version id is not the rotator's. */
export async function seedHandWrittenSecret(userName: string, key: TestKey): Promise<void> {
  await secretsManager.send(
    new CreateSecretCommand({
      Name: `iam-key-rotator/${userName}`,
      SecretString: JSON.stringify({ AccessKeyId: key.accessKeyId, SecretAccessKey: key.secretAccessKey }),
    }),
  );
}

export async function keysOf(userName: string): Promise<Record<string, string>> {
  const response = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
  return Object.fromEntries((response.AccessKeyMetadata ?? []).map((key) => [key.AccessKeyId ?? '', key.Status ?? '']));
}

export async function storedKey(userName: string, stage = 'AWSCURRENT'): Promise<TestKey & { stages: Record<string, string[]> }> {
  const secretId = `iam-key-rotator/${userName}`;
  const value = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }));
  const parsed = JSON.parse(value.SecretString ?? '{}') as { AccessKeyId: string; SecretAccessKey: string };
  const described = await secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
  return { accessKeyId: parsed.AccessKeyId, secretAccessKey: parsed.SecretAccessKey, stages: described.VersionIdsToStages ?? {} };
}

/** One signed request with a key, as a consumer (or a forgotten job) would make. */
export async function useKey(key: TestKey): Promise<void> {
  const client = new STSClient({ credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 1 });
  try {
    await client.send(new GetCallerIdentityCommand({}));
  } finally {
    client.destroy();
  }
}

export async function notificationsFor(userName: string): Promise<PublishedNotification[]> {
  const all = await publishedNotifications(process.env.AWS_ENDPOINT_URL ?? '');
  return all.filter((notification) => notification.attributes.userName === userName);
}

/** The handlers' logs, silenced so test output stays readable (one test captures them instead). */
export const quietLogger = silentLogger();

/** A DEBUG-level logger whose every line is captured, to prove no secret is ever logged. */
export function capturingLogger(): { logger: Logger; lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  // Powertools writes info to stdout and warnings and errors to stderr; both are captured.
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(capture),
    jest.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  const logger = new Logger({ serviceName: SERVICE_NAME, logLevel: 'DEBUG' });
  return { logger, lines, restore: () => spies.forEach((spy) => spy.mockRestore()) };
}
