import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AwsProxy } from '../../helpers/aws-proxy.ts';
import { repoPath } from '../../helpers/paths.ts';

// consumer/credential-process.mjs run as the AWS CLI runs it (a child process, its JSON on stdout),
// against moto with IAM auth enforced, so a deleted key is refused. Its requests go through a proxy
// that counts them: the cache's promise is that most runs make no request at all.
const run = promisify(execFile);
const SCRIPT = repoPath('consumer/credential-process.mjs');
const endpoint = (): string => process.env.AWS_ENDPOINT_URL ?? '';

interface Key {
  readonly AccessKeyId: string;
  readonly SecretAccessKey: string;
}

async function enforceAuthAfter(requests: number | 'never'): Promise<void> {
  const response = await fetch(`${endpoint()}/moto-api/reset-auth`, {
    method: 'POST',
    body: requests === 'never' ? 'inf' : String(requests),
  });
  if (!response.ok) throw new Error(`moto reset-auth failed: HTTP ${response.status}`);
}

async function createKey(iam: IAMClient, userName: string): Promise<Key> {
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey;
  if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error(`IAM returned no access key for ${userName}`);
  return { AccessKeyId: key.AccessKeyId, SecretAccessKey: key.SecretAccessKey };
}

const allow = (Action: string | string[], Resource = '*') =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action, Resource }] });

describe('credential_process (consumer/credential-process.mjs)', () => {
  const home = mkdtempSync(join(tmpdir(), 'credential-process-'));
  let proxy: AwsProxy;
  let admin: Key;
  let reader: Key;
  let iam: IAMClient;
  let secrets: SecretsManagerClient;
  let users = 0;

  /** A user whose key is in its secret `iam-key-rotator/<name>`, allowed to call STS and read its own secret. */
  async function appUser(): Promise<{ userName: string; secretId: string; first: Key }> {
    users += 1;
    const userName = `app-${users}`;
    await iam.send(new CreateUserCommand({ UserName: userName }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: userName,
        PolicyName: 'app',
        PolicyDocument: allow(['sts:GetCallerIdentity', 'secretsmanager:GetSecretValue']),
      }),
    );
    const first = await createKey(iam, userName);
    const secretId = `iam-key-rotator/${userName}`;
    await secrets.send(new CreateSecretCommand({ Name: secretId, SecretString: JSON.stringify(first) }));
    return { userName, secretId, first };
  }

  /** The rotator's part: a new key to AWSCURRENT. */
  async function rotate(userName: string, secretId: string): Promise<Key> {
    const next = await createKey(iam, userName);
    await secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify(next) }));
    return next;
  }

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    PATH: process.env.PATH ?? '',
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: proxy.endpoint,
    ...extra,
  });

  /** One run of the script; never throws, so a test can look at a failed run's exit status and output. */
  async function credentialProcess(
    args: string[],
    extraEnv: Record<string, string> = {},
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [SCRIPT, ...args], { env: env(extraEnv), timeout: 20_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  }

  const cacheFile = (name: string) => join(home, `${name}.json`);

  beforeAll(async () => {
    proxy = await AwsProxy.start(endpoint());
    const setupIam = new IAMClient({});
    await setupIam.send(new CreateUserCommand({ UserName: 'rotator' }));
    await setupIam.send(new PutUserPolicyCommand({ UserName: 'rotator', PolicyName: 'admin', PolicyDocument: allow('*') }));
    await setupIam.send(new CreateUserCommand({ UserName: 'reader' }));
    await setupIam.send(
      new PutUserPolicyCommand({ UserName: 'reader', PolicyName: 'read', PolicyDocument: allow('secretsmanager:GetSecretValue') }),
    );
    admin = await createKey(setupIam, 'rotator');
    reader = await createKey(setupIam, 'reader');
    setupIam.destroy();
    const credentials = { accessKeyId: admin.AccessKeyId, secretAccessKey: admin.SecretAccessKey };
    iam = new IAMClient({ credentials });
    secrets = new SecretsManagerClient({ credentials });
    writeFileSync(
      join(home, 'credentials'),
      `[reader]\naws_access_key_id = ${reader.AccessKeyId}\naws_secret_access_key = ${reader.SecretAccessKey}\n`,
      { mode: 0o600 },
    );
    await enforceAuthAfter(0);
  });

  afterAll(async () => {
    await enforceAuthAfter('never');
    await proxy.stop();
    rmSync(home, { recursive: true, force: true });
  });

  test('the AWS CLI signs with the key the secret holds; the cache file is mode 600, and the next runs read nothing', async () => {
    // Prepare
    const { userName, secretId, first } = await appUser();
    const cache = cacheFile(userName);
    const command = `${process.execPath} ${SCRIPT} --secret-id ${secretId} --profile reader --cache-file ${cache}`;
    writeFileSync(join(home, 'config'), `[profile app]\nregion = us-east-1\ncredential_process = ${command}\n`);
    const before = proxy.count('GetSecretValue');

    // Act
    const cli = async () =>
      (
        await run('aws', ['sts', 'get-caller-identity', '--profile', 'app', '--endpoint-url', proxy.endpoint, '--output', 'json'], {
          env: env(),
        })
      ).stdout;
    const outputs = [await cli(), await cli(), await cli()];
    const direct = await credentialProcess(['--secret-id', secretId, '--profile', 'reader', '--cache-file', cache]);

    // Assess
    for (const output of outputs)
      expect(JSON.parse(output)).toMatchObject({ Arn: expect.stringMatching(new RegExp(`:user/${userName}$`)) });
    const signedBy = proxy.requests.filter((seen) => seen.operation === 'GetCallerIdentity').map((seen) => seen.accessKeyId);
    expect(signedBy.slice(-3)).toEqual([first.AccessKeyId, first.AccessKeyId, first.AccessKeyId]);
    expect(proxy.count('GetSecretValue') - before).toBe(1);
    expect(proxy.requests.find((seen) => seen.operation === 'GetSecretValue')?.accessKeyId).toBe(reader.AccessKeyId);
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    const printed = JSON.parse(direct.stdout) as Record<string, string>;
    expect(Object.keys(printed).sort()).toEqual(['AccessKeyId', 'Expiration', 'SecretAccessKey', 'Version']);
    expect(printed).toMatchObject({ Version: 1, AccessKeyId: first.AccessKeyId, SecretAccessKey: first.SecretAccessKey });
    const inSeconds = (Date.parse(printed.Expiration ?? '') - Date.now()) / 1000;
    expect(inSeconds).toBeGreaterThan(300 * 0.9 - 30);
    expect(inSeconds).toBeLessThanOrEqual(300 * 1.1);
    expect(direct.stderr).toBe('');
  });

  test('a cache file that others may read is refused with exit 1, and neither output holds the secret', async () => {
    // Prepare
    const { userName, secretId, first } = await appUser();
    const cache = cacheFile(userName);
    await credentialProcess(['--secret-id', secretId, '--profile', 'reader', '--cache-file', cache]);
    chmodSync(cache, 0o644);
    const before = proxy.count('GetSecretValue');

    // Act
    const result = await credentialProcess(['--secret-id', secretId, '--profile', 'reader', '--cache-file', cache]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`The cache file ${cache} can be read by group or others (mode 644)`);
    expect(result.stderr).toContain('Delete it');
    expect(result.stderr).not.toContain(first.SecretAccessKey);
    expect(proxy.count('GetSecretValue')).toBe(before);
  });

  test('after the TTL the new key; within it the cached one, even after a rotation', async () => {
    // Prepare
    const { userName, secretId, first } = await appUser();
    const args = ['--secret-id', secretId, '--profile', 'reader', '--cache-file', cacheFile(userName), '--ttl', '1', '--jitter', '0'];
    await credentialProcess(args);
    const next = await rotate(userName, secretId);

    // Act
    const within = JSON.parse((await credentialProcess(args)).stdout) as Key;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const after = JSON.parse((await credentialProcess(args)).stdout) as Key;

    // Assess
    expect(within.AccessKeyId).toBe(first.AccessKeyId);
    expect(after).toMatchObject({ AccessKeyId: next.AccessKeyId, SecretAccessKey: next.SecretAccessKey });
  });

  test('--check finds the cached key refused (deleted) and reads the new one at once; without it the stale key is served until the TTL', async () => {
    // Prepare
    const { userName, secretId, first } = await appUser();
    const args = ['--secret-id', secretId, '--profile', 'reader', '--cache-file', cacheFile(userName), '--min-interval', '0'];
    await credentialProcess(args);
    const next = await rotate(userName, secretId);
    await iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: first.AccessKeyId }));

    // Act
    const unchecked = JSON.parse((await credentialProcess(args)).stdout) as Key;
    const checked = JSON.parse((await credentialProcess([...args, '--check'])).stdout) as Key;
    const checkedAgain = JSON.parse((await credentialProcess([...args, '--check'])).stdout) as Key;

    // Assess
    expect(unchecked.AccessKeyId).toBe(first.AccessKeyId);
    expect(checked.AccessKeyId).toBe(next.AccessKeyId);
    expect(checkedAgain.AccessKeyId).toBe(next.AccessKeyId);
  });

  test('--check that cannot reach STS serves the cached key and says so on standard error', async () => {
    // Prepare
    const { userName, secretId, first } = await appUser();
    const args = ['--secret-id', secretId, '--profile', 'reader', '--cache-file', cacheFile(userName), '--check'];
    await credentialProcess(args);

    // Act: nothing listens on port 9.
    const result = await credentialProcess(args, { AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:9' });

    // Assess
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as Key).AccessKeyId).toBe(first.AccessKeyId);
    expect(result.stderr).toContain('--check could not ask STS');
    expect(result.stderr).not.toContain(first.SecretAccessKey);
  });

  test('a failed read is kept in the cache: exit 1 with the reason, no read during the backoff, then a read', async () => {
    // Prepare: the secret does not exist yet.
    users += 1;
    const secretId = `iam-key-rotator/not-yet-${users}`;
    const args = [
      '--secret-id',
      secretId,
      '--profile',
      'reader',
      '--cache-file',
      cacheFile(`not-yet-${users}`),
      '--backoff',
      '1.5',
      '--jitter',
      '0',
    ];
    const before = proxy.count('GetSecretValue');

    // Act & Assess
    const failed = await credentialProcess(args);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toMatch(
      /Could not read the access key from secret .*not-yet.* \(1 failed read in a row; next read at .*\): ResourceNotFoundException/,
    );
    expect(failed.stderr).toContain('secretsmanager:GetSecretValue');
    await secrets.send(new CreateSecretCommand({ Name: secretId, SecretString: JSON.stringify(reader) }));
    const backingOff = await credentialProcess(args);
    expect(backingOff.code).toBe(1);
    expect(backingOff.stderr).toContain('1 failed read in a row');
    expect(proxy.count('GetSecretValue') - before).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    const recovered = await credentialProcess(args);
    expect(recovered.code).toBe(0);
    expect((JSON.parse(recovered.stdout) as Key).AccessKeyId).toBe(reader.AccessKeyId);
    expect(proxy.count('GetSecretValue') - before).toBe(2);
  });

  test('--self-refresh reads the new key with the cached key itself, before the old one is cut', async () => {
    // Prepare: the first run has no cache, so it reads with the reader profile.
    const { userName, secretId, first } = await appUser();
    const args = ['--secret-id', secretId, '--profile', 'reader', '--cache-file', cacheFile(userName), '--self-refresh', '--ttl', '0.5'];
    await credentialProcess(args);
    const next = await rotate(userName, secretId);
    await new Promise((resolve) => setTimeout(resolve, 600));

    // Act
    const after = JSON.parse((await credentialProcess(args)).stdout) as Key;

    // Assess
    expect(after.AccessKeyId).toBe(next.AccessKeyId);
    const reads = proxy.requests.filter((seen) => seen.operation === 'GetSecretValue').slice(-2);
    expect(reads.map((seen) => seen.accessKeyId)).toEqual([reader.AccessKeyId, first.AccessKeyId]);
  });

  test('ten runs started together read the secret once between them', async () => {
    // Prepare
    const { userName, secretId, first } = await appUser();
    const before = proxy.count('GetSecretValue');

    // Act
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        credentialProcess(['--secret-id', secretId, '--profile', 'reader', '--cache-file', cacheFile(userName)]),
      ),
    );

    // Assess
    expect(results.map((result) => result.code)).toEqual(Array.from({ length: 10 }, () => 0));
    for (const result of results) expect((JSON.parse(result.stdout) as Key).AccessKeyId).toBe(first.AccessKeyId);
    expect(proxy.count('GetSecretValue') - before).toBe(1);
    expect(JSON.parse(readFileSync(cacheFile(userName), 'utf8'))).toMatchObject({ version: 1, secretId });
  });

  test('a reader profile without static keys (here a credential_process of its own) is read through the SDK installed beside the script', async () => {
    // Prepare
    const { userName, secretId, first } = await appUser();
    const printReader = `${process.execPath} -e "console.log(JSON.stringify({Version:1,AccessKeyId:'${reader.AccessKeyId}',SecretAccessKey:'${reader.SecretAccessKey}'}))"`;
    writeFileSync(join(home, 'config'), `[profile chained-reader]\nregion = us-east-1\ncredential_process = ${printReader}\n`);
    const before = proxy.requests.length;

    // Act
    const result = await credentialProcess(['--secret-id', secretId, '--profile', 'chained-reader', '--cache-file', cacheFile(userName)]);

    // Assess
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect((JSON.parse(result.stdout) as Key).AccessKeyId).toBe(first.AccessKeyId);
    expect(proxy.requests.slice(before).map((seen) => [seen.operation, seen.accessKeyId])).toEqual([
      ['GetSecretValue', reader.AccessKeyId],
    ]);
  });

  test('with no --cache-file the cache goes to ~/.aws/iam-key-rotator/, a directory made for its owner only', async () => {
    // Prepare
    const { secretId, first } = await appUser();

    // Act
    const result = await credentialProcess(['--secret-id', secretId, '--profile', 'reader']);

    // Assess
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as Key).AccessKeyId).toBe(first.AccessKeyId);
    expect(statSync(join(home, '.aws', 'iam-key-rotator')).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, '.aws', 'iam-key-rotator', `${secretId.replace('/', '_')}.json`)).mode & 0o777).toBe(0o600);
  });

  test('without credentials to read with, it says which to give and exits 1', async () => {
    // Prepare
    const { userName, secretId } = await appUser();

    // Act
    const result = await credentialProcess(['--secret-id', secretId, '--cache-file', cacheFile(userName)]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('No credentials to read the secret with: give --profile NAME');
  });
});
