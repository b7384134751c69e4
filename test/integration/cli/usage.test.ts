import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { trailLogGroupSource } from '#shared/aws/trail-log-group.ts';
import { keyCallReader } from '#shared/consumers/reader.ts';
import { usageReport } from '../../../cli/usage.ts';
import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  IAMClient,
  PutGroupPolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
// client-s3 comes with osls (a devDependency) and is not a dependency of its own: the test needs an S3
// consumer, and the project adds no package for it. See the report of issue 22.
import {
  CreateBucketCommand,
  GetBucketLocationCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CloudTrailRecorder, LOCAL_CLOUDTRAIL_LOG_GROUP } from '#local/cloudtrail-recorder.ts';
import { createUser, type TestKey } from '../../helpers/rotation-fixtures.ts';
import { cli } from '../../helpers/cli.ts';
import { parse } from 'csv-parse/sync';

/**
 * `usage` against moto: real S3 and STS calls signed with the user's key, recorded by the local
 * CloudTrail stand-in into its log group (the trail the CLI reads against moto), and the user's real
 * IAM policies. What the CLI reports and writes comes from those alone.
 */

const iam = new IAMClient({});
const BUCKET = 'usage-reports';
const CLI_AGENT = 'aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64 prompt/off';
const LAMBDA_AGENT = 'aws-sdk-js/3.600.0 ua/2.1 os/linux#5.10 lang/js md/nodejs#22.11.0 exec-env/AWS_Lambda_nodejs22.x';
const GITHUB_AGENT = 'aws-cli/2.17.0 Python/3.11.9 Linux/6.5.0-1025-azure exe/x86_64.ubuntu.22 app/github-actions';

const recorder = new CloudTrailRecorder({ iam, logs: new CloudWatchLogsClient({}), logGroupName: LOCAL_CLOUDTRAIL_LOG_GROUP });
const dirs: string[] = [];

/** The permissions README and `usage --help` name for the command (the row of the CLI permissions table). */
const USAGE_ACTIONS = [
  'iam:GetUser',
  'iam:ListUserTags',
  'iam:ListAccessKeys',
  'iam:ListAttachedUserPolicies',
  'iam:ListUserPolicies',
  'iam:GetUserPolicy',
  'iam:ListGroupsForUser',
  'iam:ListAttachedGroupPolicies',
  'iam:ListGroupPolicies',
  'iam:GetGroupPolicy',
  'iam:GetPolicy',
  'iam:GetPolicyVersion',
];

async function enforceAuth(on: boolean): Promise<void> {
  const response = await fetch(`${process.env.AWS_ENDPOINT_URL ?? ''}/moto-api/reset-auth`, { method: 'POST', body: on ? '0' : 'inf' });
  if (!response.ok) throw new Error(`moto reset-auth failed: HTTP ${response.status}`);
}

/** An operator allowed `actions` and FilterLogEvents, and nothing else. */
async function operator(name: string, actions: readonly string[]): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  await iam.send(new CreateUserCommand({ UserName: name }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: name,
      PolicyName: 'usage',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: actions, Resource: '*' },
          // On AWS this is the trail's group (arn:…:log-group:<name>:*); moto checks CloudWatch Logs calls against
          // the resource "*" only, so a statement naming the group would refuse every call here.
          { Effect: 'Allow', Action: 'logs:FilterLogEvents', Resource: '*' },
        ],
      }),
    }),
  );
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey;
  return { accessKeyId: key?.AccessKeyId ?? '', secretAccessKey: key?.SecretAccessKey ?? '' };
}

/** usage's report read with the operator's credentials only: its IAM client and the trail's log group. */
async function reportAs(
  credentials: { accessKeyId: string; secretAccessKey: string },
  userName: string,
): Promise<Awaited<ReturnType<typeof usageReport>>> {
  const reader = keyCallReader({
    regions: ['us-east-1'],
    trailLogGroup: trailLogGroupSource({
      logs: new CloudWatchLogsClient({ credentials }),
      logGroupName: LOCAL_CLOUDTRAIL_LOG_GROUP,
      resources: true,
    }),
    deliveryDelayMs: 0,
  });
  if (!reader) throw new Error('a reader with a trail log group is always made');
  return usageReport(userName, 14, undefined, {
    iam: new IAMClient({ credentials }),
    readKeyCalls: reader,
    clock: () => new Date(),
    read: { eventHistoryRegions: [], trailLogGroup: LOCAL_CLOUDTRAIL_LOG_GROUP },
  });
}

function consumerClients(key: TestKey, sourceIp: string, userAgent: string): { s3: S3Client; sts: STSClient } {
  const credentials = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  const s3 = new S3Client({ credentials, forcePathStyle: true });
  const sts = new STSClient({ credentials });
  recorder.attach(s3, { sourceIp, userAgent });
  recorder.attach(sts, { sourceIp, userAgent });
  return { s3, sts };
}

async function outDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'usage-test-'));
  dirs.push(dir);
  return dir;
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8')) as unknown;
}

interface UsageJson {
  usage: {
    actions: { action: string; allowed: number; refused: number; resources: string[]; events: string[] }[];
    consumers: { key: string }[];
  };
  keys: { accessKeyId: string; notSeen: string[] }[];
  read: { trailLogGroup?: string };
  grants: {
    unused: { action: string; policies: string[] }[];
    used: { action: string }[];
    wildcards: { pattern: string; covers: string[]; policies: string[] }[];
    notGranted: string[];
  };
  proposal?: { files: string[]; trusts: { consumer: string; file: string; trust: { kind: string } }[]; policy: { notes: string[] } };
}

beforeAll(async () => {
  // Prepare: the bucket, written by the account (not the user), so the user's only call on objects is its listing.
  const admin = new S3Client({ forcePathStyle: true });
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'daily/2026-12-01.csv', Body: 'a,b\n' }));
});

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('iam-key-rotator usage', () => {
  test('a key that one consumer uses for S3 reads and STS yields a policy with exactly those actions and resources; a grant not used is reported unused', async () => {
    // Prepare: the user's grants: a managed policy (reads, and a PutObject never used), an inline wildcard, a group's policy.
    const key = await createUser('usage-reader');
    const managed = await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'usage-reader-s3',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['s3:ListAllMyBuckets', 's3:GetBucketLocation', 's3:ListBucket'], Resource: '*' },
            { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${BUCKET}/*` },
          ],
        }),
      }),
    );
    await iam.send(new AttachUserPolicyCommand({ UserName: 'usage-reader', PolicyArn: managed.Policy?.Arn }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'usage-reader',
        PolicyName: 'tables',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }] }),
      }),
    );
    await iam.send(new CreateGroupCommand({ GroupName: 'usage-queue-writers' }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'usage-queue-writers', UserName: 'usage-reader' }));
    await iam.send(
      new PutGroupPolicyCommand({
        GroupName: 'usage-queue-writers',
        PolicyName: 'queues',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }],
        }),
      }),
    );
    const { s3, sts } = consumerClients(key, '198.51.100.7', CLI_AGENT);
    await s3.send(new ListBucketsCommand({}));
    await s3.send(new GetBucketLocationCommand({ Bucket: BUCKET }));
    await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'daily/' }));
    await sts.send(new GetCallerIdentityCommand({}));
    await recorder.flush();
    const dir = await outDir();

    // Act
    const result = await cli('usage', 'usage-reader', '--json', '--propose-role', '--out', dir);
    const csv = await cli('usage', 'usage-reader', '--output', 'csv');

    // Assess: what was used, from the real calls' records
    expect(result.code).toBe(0);
    const report = JSON.parse(result.out) as UsageJson;
    expect(report.read.trailLogGroup).toBe(LOCAL_CLOUDTRAIL_LOG_GROUP);
    expect(report.usage.consumers.map((consumer) => consumer.key)).toEqual(['198.51.100.7 aws-cli/2']);
    expect(report.usage.actions.map(({ action, allowed, resources }) => ({ action, allowed, resources }))).toEqual([
      { action: 's3:GetBucketLocation', allowed: 1, resources: [`arn:aws:s3:::${BUCKET}`] },
      { action: 's3:ListAllMyBuckets', allowed: 1, resources: [] },
      { action: 's3:ListBucket', allowed: 2, resources: [`arn:aws:s3:::${BUCKET}`] },
      { action: 'sts:GetCallerIdentity', allowed: 1, resources: [] },
    ]);
    // --output csv: the same actions, one row per consumer and action
    const rows = parse(csv.out, { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0] ?? {})[0]).toBe('accessKeyId');
    expect(rows.map((row) => [row.source, row.action, row.allowed])).toEqual([
      ['198.51.100.7', 's3:GetBucketLocation', '1'],
      ['198.51.100.7', 's3:ListAllMyBuckets', '1'],
      ['198.51.100.7', 's3:ListBucket', '2'],
      ['198.51.100.7', 'sts:GetCallerIdentity', '1'],
    ]);
    // The grants never used, the wildcard as written, from the user's real policies
    expect(report.grants.unused).toEqual([
      { action: 's3:GetObject', policies: ['managed usage-reader-s3'] },
      { action: 's3:PutObject', policies: ['managed usage-reader-s3'] },
      { action: 'sqs:SendMessage', policies: ['group usage-queue-writers: inline queues'] },
    ]);
    expect(report.grants.used.map((entry) => entry.action)).toEqual(['s3:GetBucketLocation', 's3:ListAllMyBuckets', 's3:ListBucket']);
    expect(report.grants.wildcards).toEqual([{ pattern: 'dynamodb:*', policies: ['inline tables'], covers: [] }]);
    // GetCallerIdentity needs no grant, so no used action lacks one; the trail was read, so no unused grant may hide in data events.
    expect(report.grants.notGranted).toEqual([]);
    expect(report.grants.unused.filter((entry) => 'mayBeUnseen' in entry)).toEqual([]);
    // The policy written holds exactly those actions, on the bucket seen, "*" only where forced
    expect(await readJson(join(dir, 'policy.json'))).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'S3Used1', Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListBucket'], Resource: [`arn:aws:s3:::${BUCKET}`] },
        { Sid: 'S3Used2', Effect: 'Allow', Action: ['s3:ListAllMyBuckets'], Resource: ['*'] },
        { Sid: 'StsUsed1', Effect: 'Allow', Action: ['sts:GetCallerIdentity'], Resource: ['*'] },
      ],
    });
    expect(report.proposal?.policy.notes).toEqual([
      expect.stringMatching(/^s3:ListAllMyBuckets takes no resource ARN/),
      expect.stringMatching(/^sts:GetCallerIdentity takes no resource and needs no permission/),
    ]);
    // An address with no sign of AWS or CI gets a Roles Anywhere trust
    expect(report.proposal?.trusts).toEqual([
      {
        consumer: '198.51.100.7 aws-cli/2',
        file: 'trust-198.51.100.7_aws-cli-2.json',
        runsOn: expect.any(String),
        trust: expect.objectContaining({ kind: 'IAM Roles Anywhere' }),
      },
    ]);
    expect((await readdir(dir)).sort()).toEqual(['policy.json', 'trust-198.51.100.7_aws-cli-2.json']);
    expect(await readJson(join(dir, 'trust-198.51.100.7_aws-cli-2.json'))).toMatchObject({
      Statement: [
        { Principal: { Service: 'rolesanywhere.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'] },
      ],
    });
    expect(result.out).not.toContain(key.secretAccessKey);
  });

  test('each consumer gets the trust of where it runs: a Lambda function its execution role, a GitHub Actions job OIDC federation', async () => {
    // Prepare
    const key = await createUser('usage-multi');
    const lambda = consumerClients(key, '203.0.113.40', LAMBDA_AGENT);
    const github = consumerClients(key, '192.0.2.15', GITHUB_AGENT);
    await lambda.sts.send(new GetCallerIdentityCommand({}));
    await github.s3.send(new ListBucketsCommand({}));
    await recorder.flush();
    const dir = await outDir();

    // Act
    const result = await cli('usage', 'usage-multi', '--propose-role', '--out', dir);

    // Assess
    expect(result.code).toBe(0);
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(['policy.json', 'trust-192.0.2.15_aws-cli-2.json', 'trust-203.0.113.40_aws-sdk-js-3.json']);
    expect(await readJson(join(dir, 'trust-203.0.113.40_aws-sdk-js-3.json'))).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    expect(await readJson(join(dir, 'trust-192.0.2.15_aws-cli-2.json'))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com' },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
            StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:<OWNER>/<REPOSITORY>:ref:refs/heads/<BRANCH>' },
          },
        },
      ],
    });
    expect(result.out).toMatch(/Lambda execution role/);
    expect(result.out).toMatch(/GitHub Actions OIDC federation/);
    expect(result.out).toMatch(/Migration checklist:/);
    expect(result.out).toMatch(/iam-key-rotator retire usage-multi --key AKIA\w+/);
  });

  test('the permissions it names are enough with IAM enforcing them (moto’s auth on), and one fewer is refused', async () => {
    // Prepare: a user with a managed policy through a group, and its calls recorded before auth is enforced.
    const key = await createUser('usage-audited');
    const managed = await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'usage-audited-reads',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['s3:ListAllMyBuckets', 's3:DeleteBucket'], Resource: '*' }],
        }),
      }),
    );
    await iam.send(new CreateGroupCommand({ GroupName: 'usage-audited-group' }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'usage-audited-group', UserName: 'usage-audited' }));
    await iam.send(new AttachGroupPolicyCommand({ GroupName: 'usage-audited-group', PolicyArn: managed.Policy?.Arn }));
    await consumerClients(key, '198.51.100.9', CLI_AGENT).s3.send(new ListBucketsCommand({}));
    await recorder.flush();
    const allowed = await operator('usage-operator', USAGE_ACTIONS);
    const short = await operator(
      'usage-operator-short',
      USAGE_ACTIONS.filter((action) => action !== 'iam:GetPolicyVersion'),
    );
    await enforceAuth(true);
    try {
      // Act & Assess
      const report = await reportAs(allowed, 'usage-audited');
      expect(report.usage.actions.map((use) => use.action)).toEqual(['s3:ListAllMyBuckets']);
      expect(report.grants.unused).toEqual([
        { action: 's3:DeleteBucket', policies: ['group usage-audited-group: managed usage-audited-reads'] },
      ]);
      await expect(reportAs(short, 'usage-audited')).rejects.toThrow(/iam:GetPolicyVersion/);
    } finally {
      await enforceAuth(false);
    }
  });

  test('--key names one key of the user; a key of no one is refused as bad usage, naming the user’s keys', async () => {
    // Prepare
    const key = await createUser('usage-one-key');

    // Act
    const result = await cli('usage', 'usage-one-key', '--key', 'AKIAIOSFODNN7EXAMPLE');

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toMatch(new RegExp(`AKIAIOSFODNN7EXAMPLE is not an access key of usage-one-key \\(its keys: ${key.accessKeyId}\\)`));
  });

  test('a user that does not exist is bad usage (exit 2), with its name and the fix', async () => {
    // Act
    const result = await cli('usage', 'usage-nobody');

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/UserNotFoundError.*usage-nobody does not exist/);
  });
});
