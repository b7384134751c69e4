import { afterAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { MetadataBearer } from '@aws-sdk/types';
import { CredentialsRefusedError } from '#local/key-authentication.ts';
import { runRotation } from '#local/runner.ts';
import { fromRotatingSecret } from '../../consumer/rotating-credentials.ts';
import { AwsProxy, type ProxyAnswer } from '../helpers/aws-proxy.ts';
import { cli } from '../helpers/cli.ts';
import { repoPath } from '../helpers/paths.ts';
import { createUser, keysOf, quietLogger, secretsManager, seedSecret } from '../helpers/rotation-fixtures.ts';
import { TrailedConsumers } from '../helpers/trailed-consumers.ts';

// One key, three consumers of different kinds, through a full local rotation whose consumers-moved gate
// reads the local CloudTrail stand-in: a Node service (fromRotatingSecret, an SDK client the recorder
// is attached to), a Python process (rotating_session, looping sts.get_caller_identity) and the AWS CLI
// through credential_process (a shell loop of `aws sts get-caller-identity`). The two other processes
// reach moto through a proxy per process that records each STS call as CloudTrail would, from that
// process's own address, and refuses a key that is not Active as AWS does; their secret reads go to
// moto directly (they are made with the account's own key, which is not a user's).
const FAST = { healthCheckIntervalMs: 400, healthCheckDeadlineMs: 25_000, observationMs: 1_000, oldKeyQuietMs: 400 };
const USER = 'three-kinds';
const SECRET_ID = `iam-key-rotator/${USER}`;

interface Call {
  readonly at: number;
  readonly accessKeyId: string;
  readonly ok: boolean;
}

const consumers = new TrailedConsumers();
const home = mkdtempSync(join(tmpdir(), 'consumers-beyond-node-'));
const children: ChildProcess[] = [];
const proxies: AwsProxy[] = [];

afterAll(async () => {
  for (const name of ['stop', 'stop-pinned']) writeFileSync(join(home, name), '');
  await consumers.stopAll();
  for (const child of children) if (child.exitCode === null) child.kill();
  await Promise.all(proxies.map((proxy) => proxy.stop()));
  rmSync(home, { recursive: true, force: true });
});

const refusedAnswer = (error: CredentialsRefusedError): ProxyAnswer => ({
  status: 403,
  headers: { 'content-type': 'text/xml' },
  body: `<ErrorResponse><Error><Type>Sender</Type><Code>${error.name}</Code><Message>${error.message}</Message></Error><RequestId>local</RequestId></ErrorResponse>`,
});

/** A proxy to moto for one process, recording its STS calls in the trail from `sourceIp`; `calls` gets each call's key and outcome. */
async function trailedProxy(trail: ReturnType<TrailedConsumers['recorder']>['trail'], sourceIp: string, calls: Call[]): Promise<AwsProxy> {
  const proxy = await AwsProxy.start(process.env.AWS_ENDPOINT_URL ?? '', async (seen, forward) => {
    if (seen.operation !== 'GetCallerIdentity' || !seen.accessKeyId) return forward();
    const accessKeyId = seen.accessKeyId;
    let answer: ProxyAnswer | undefined;
    try {
      await trail.recordRequest({ sourceIp }, { headers: seen.headers }, 'GetCallerIdentity', async (): Promise<MetadataBearer> => {
        answer = await forward();
        if (answer.status >= 300) {
          const code = /<Code>([^<]+)<\/Code>/.exec(answer.body)?.[1] ?? 'UnknownError';
          throw Object.assign(new Error(`STS refused the call (${code})`), { name: code, $metadata: { httpStatusCode: answer.status } });
        }
        return { $metadata: { httpStatusCode: answer.status, requestId: /<RequestId>([^<]+)<\/RequestId>/.exec(answer.body)?.[1] } };
      });
    } catch (error) {
      if (error instanceof CredentialsRefusedError) answer = refusedAnswer(error);
      else if (!answer) throw error;
    }
    calls.push({ at: Date.now(), accessKeyId, ok: (answer?.status ?? 500) < 300 });
    return answer ?? forward();
  });
  proxies.push(proxy);
  return proxy;
}

function started(command: string, args: string[], env: Record<string, string>, lines: string[]): ChildProcess {
  const child = spawn(command, args, { env: { PATH: process.env.PATH ?? '', HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    lines.push(...complete.filter(Boolean));
  });
  child.stderr?.on('data', (chunk: Buffer) => lines.push(`stderr: ${chunk.toString('utf8').trim()}`));
  children.push(child);
  return child;
}

const PYTHON_LOOP = `
import os, sys, time
import boto3
from iam_key_rotator_credentials import CachePolicy, rotating_session
session = rotating_session(os.environ["SECRET_ID"], reader_session=boto3.Session(region_name="us-east-1"), policy=CachePolicy(ttl=0.5))
sts = session.client("sts", endpoint_url=os.environ["STS_ENDPOINT"])
while not os.path.exists(os.environ["STOP_FILE"]):
    try:
        sts.get_caller_identity()
        print("ok", session.get_credentials().get_frozen_credentials().access_key, flush=True)
    except Exception as error:  # every failed call is reported, by its kind only
        print("fail", type(error).__name__, flush=True)
    time.sleep(0.1)
`;

/** A process that copied the key once, as a job configured by hand does: it never follows a rotation. */
const PYTHON_PINNED_LOOP = `
import json, os, time
import boto3
value = boto3.client("secretsmanager", region_name="us-east-1").get_secret_value(SecretId=os.environ["SECRET_ID"], VersionStage="AWSCURRENT")
key = json.loads(value["SecretString"])
sts = boto3.client("sts", region_name="us-east-1", endpoint_url=os.environ["STS_ENDPOINT"],
                   aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
while not os.path.exists(os.environ["STOP_FILE"]):
    try:
        sts.get_caller_identity()
        print("ok", key["AccessKeyId"], flush=True)
    except Exception as error:
        print("fail", type(error).__name__, flush=True)
    time.sleep(0.1)
`;

const childEnv = (stopFile: string): Record<string, string> => ({
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? '',
  AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? '',
  AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL ?? '',
  STOP_FILE: join(home, stopFile),
});

describe('consumers beyond Node: a Node service, a Python process and the AWS CLI share one key', () => {
  test('all three follow a local rotation: no failed call, each seen by the gate on the new key before the old one is deactivated', async () => {
    // Prepare: the key, its secret, the trail, and the three consumers calling on the old key.
    const old = await createUser(USER, { 'rotation:owner': 'team@example.com' });
    await seedSecret(USER, old);
    const { trail, rotatorIam } = consumers.recorder();
    const env = childEnv('stop');

    const nodeCalls: Call[] = [];
    const credentials = fromRotatingSecret({ secretId: SECRET_ID, ttlMs: 300, client: secretsManager });
    const nodeSts = credentials.attach(new STSClient({ credentials, maxAttempts: 1 }));
    trail.attach(nodeSts, { sourceIp: '198.51.100.21' });
    let running = true;
    const nodeService = (async () => {
      while (running) {
        const accessKeyId = (await credentials()).accessKeyId;
        const ok = await nodeSts.send(new GetCallerIdentityCommand({})).then(
          () => true,
          () => false,
        );
        nodeCalls.push({ at: Date.now(), accessKeyId, ok });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    const pythonCalls: Call[] = [];
    const pythonLines: string[] = [];
    const pythonProxy = await trailedProxy(trail, '198.51.100.22', pythonCalls);
    started(
      'python3',
      ['-u', '-c', PYTHON_LOOP],
      { ...env, PYTHONPATH: repoPath('consumer/python'), SECRET_ID, STS_ENDPOINT: pythonProxy.endpoint },
      pythonLines,
    );

    const cliCalls: Call[] = [];
    const cliLines: string[] = [];
    const cliProxy = await trailedProxy(trail, '198.51.100.23', cliCalls);
    const credentialProcess = [process.execPath, repoPath('consumer/credential-process.mjs'), '--secret-id', SECRET_ID];
    credentialProcess.push('--cache-file', join(home, 'cli-cache.json'), '--ttl', '0.5', '--check');
    writeFileSync(join(home, 'config'), `[profile app]\nregion = us-east-1\ncredential_process = ${credentialProcess.join(' ')}\n`);
    const cliLoop = `while [ ! -e "$STOP_FILE" ]; do if aws sts get-caller-identity --profile app --endpoint-url "${cliProxy.endpoint}" --output text --query Account >/dev/null; then echo ok; else echo fail; fi; done`;
    // The credential_process reads the secret from moto with the account's key (the environment's);
    // its --check call and the CLI's own calls go through the proxy.
    started(
      'bash',
      ['-c', cliLoop],
      {
        ...env,
        AWS_CONFIG_FILE: join(home, 'config'),
        AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
        AWS_ENDPOINT_URL_STS: cliProxy.endpoint,
      },
      cliLines,
    );

    const until = Date.now() + 20_000;
    const onOld = (calls: Call[]) => calls.filter((call) => call.ok && call.accessKeyId === old.accessKeyId).length;
    while ([nodeCalls, pythonCalls, cliCalls].some((calls) => onOld(calls) < 3) && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (Math.min(onOld(nodeCalls), onOld(pythonCalls), onOld(cliCalls)) < 3) {
      const tail = (lines: string[]) => lines.slice(-5).join(' | ');
      throw new Error(`The consumers did not warm up: python said ${tail(pythonLines)}; the CLI loop said ${tail(cliLines)}`);
    }

    // Act
    const report = await runRotation(
      { userName: USER, reason: 'consumers beyond node' },
      { logger: quietLogger, durations: FAST, clients: { iam: rotatorIam } },
    );
    writeFileSync(join(home, 'stop'), '');
    running = false;
    await nodeService;
    await Promise.all(
      children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)),
    );

    // Assess
    expect({ status: report.status, error: report.error }).toEqual({ status: 'Succeeded', error: undefined });
    const newKey = report.newAccessKeyId ?? '';
    expect(await keysOf(USER)).toEqual({ [newKey]: 'Active' });
    const deactivatedAt = Date.parse(report.states.find((state) => state.name === 'Deactivate')?.enteredAt ?? '');
    expect(Number.isNaN(deactivatedAt)).toBe(false);
    for (const [name, calls] of Object.entries({ node: nodeCalls, python: pythonCalls, cli: cliCalls })) {
      const firstOnNew = calls.find((call) => call.accessKeyId === newKey)?.at ?? Number.POSITIVE_INFINITY;
      const lastOnOld = Math.max(...calls.filter((call) => call.accessKeyId === old.accessKeyId).map((call) => call.at));
      expect({ name, failed: calls.filter((call) => !call.ok).length }).toEqual({ name, failed: 0 });
      expect({ name, onNewBeforeDeactivation: firstOnNew < deactivatedAt }).toEqual({ name, onNewBeforeDeactivation: true });
      expect({ name, oldKeyUsedAfterDeactivation: lastOnOld > deactivatedAt }).toEqual({ name, oldKeyUsedAfterDeactivation: false });
    }
    // What the processes themselves said: every Python call and every CLI command succeeded.
    expect(pythonLines.filter((line) => !line.startsWith('ok '))).toEqual([]);
    expect(new Set(pythonLines.map((line) => line.split(' ')[1]))).toEqual(new Set([old.accessKeyId, newKey]));
    expect(cliLines.filter((line) => line !== 'ok')).toEqual([]);
    // The gate's evidence: the trail the rotation read shows the three addresses on each key.
    await trail.flush();
    expect(trail.stats()).toMatchObject({ refused: 0, lost: 0 });
    const listed = await cli('consumers', USER, '--json');
    expect(listed.code).toBe(0);
    const inventory = JSON.parse(listed.out) as { keys: { accessKeyId: string; consumers: { source: string; agent: string }[] }[] };
    const onNewKey = inventory.keys.find((key) => key.accessKeyId === newKey)?.consumers.map((seen) => `${seen.source} ${seen.agent}`);
    // The CLI's machine shows two tools: the CLI itself and credential_process's --check call.
    expect(onNewKey?.sort()).toEqual([
      '198.51.100.21 aws-sdk-js/3',
      '198.51.100.22 Boto3/1',
      '198.51.100.23 aws-cli/1',
      '198.51.100.23 iam-key-rotator-credential-process/1',
    ]);
  }, 60_000);
  test('a Python process that copied the key once holds the gate: NeedsAttention, both keys Active, its machine named', async () => {
    // Prepare: a following Node consumer, and a Python job that read the secret once at its start.
    const userName = 'python-pinned';
    const old = await createUser(userName, { 'rotation:owner': 'team@example.com' });
    await seedSecret(userName, old);
    const { trail, rotatorIam } = consumers.recorder();
    const follower = consumers.start(userName, trail, 'dashboard', '198.51.100.31', true);
    const pinnedCalls: Call[] = [];
    const pinnedLines: string[] = [];
    const proxy = await trailedProxy(trail, '198.51.100.32', pinnedCalls);
    const env = {
      ...childEnv('stop-pinned'),
      PYTHONPATH: repoPath('consumer/python'),
      SECRET_ID: `iam-key-rotator/${userName}`,
      STS_ENDPOINT: proxy.endpoint,
    };
    const pinned = started('python3', ['-u', '-c', PYTHON_PINNED_LOOP], env, pinnedLines);
    const until = Date.now() + 20_000;
    while ((pinnedCalls.length < 3 || follower.snapshot().calls < 3) && Date.now() < until)
      await new Promise((resolve) => setTimeout(resolve, 100));

    // Act
    const report = await runRotation(
      { userName, reason: 'pinned python consumer' },
      { logger: quietLogger, durations: { ...FAST, healthCheckDeadlineMs: 3_000 }, clients: { iam: rotatorIam } },
    );
    writeFileSync(join(home, 'stop-pinned'), '');
    if (pinned.exitCode === null) await new Promise((resolve) => pinned.once('exit', resolve));

    // Assess
    expect(report.status).toBe('NeedsAttention');
    expect(await keysOf(userName)).toEqual({ [old.accessKeyId]: 'Active', [report.newAccessKeyId ?? '']: 'Active' });
    expect(report.stillOnOldKey?.map((straggler) => straggler.source)).toEqual(['198.51.100.32']);
    expect(pinnedCalls.filter((call) => !call.ok)).toEqual([]);
    expect(new Set(pinnedCalls.map((call) => call.accessKeyId))).toEqual(new Set([old.accessKeyId]));
    expect((await follower.stop()).keysUsed).toEqual([old.accessKeyId, report.newAccessKeyId]);
  }, 40_000);
});
