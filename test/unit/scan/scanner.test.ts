import { beforeEach, describe, expect, test } from '@jest/globals';
import {
  GenerateCredentialReportCommand,
  GetAccessKeyLastUsedCommand,
  GetAccountAuthorizationDetailsCommand,
  GetCredentialReportCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListGroupsForUserCommand,
  ListUserTagsCommand,
  UpdateAccessKeyCommand,
  type UserDetail,
} from '@aws-sdk/client-iam';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DAY_MS, fixedClock } from '#shared/base/clock.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { ConfigError } from '#shared/base/errors.ts';
import { executionName } from '#shared/base/execution-name.ts';
import { scanAccount, type ScanOptions } from '#shared/scan/scanner.ts';
import { credentialReportCsv, type CsvKey } from '../../helpers/credential-report-csv.ts';

const NOW = new Date('2026-06-30T12:00:00Z');
const daysAgo = (days: number): Date => new Date(NOW.getTime() - days * DAY_MS);
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:rotate-key';

// Class-level mocks: the SDK paginators insist on real client instances, whose sends these intercept.
const iam = mockClient(IAMClient);
const sfn = mockClient(SFNClient);
const iamClient = new IAMClient({});
const sfnClient = new SFNClient({});

interface SeedUser {
  readonly userName: string;
  readonly keys: ReadonlyArray<CsvKey & { id: string }>;
  readonly tags?: Record<string, string>;
  readonly groups?: string[];
  readonly path?: string;
}

/** Mocks an account: the report, GetAccountAuthorizationDetails and ListAccessKeys agree with `users`. */
function seed(users: readonly SeedUser[]): void {
  iam.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
  iam.on(GetCredentialReportCommand).resolves({ Content: new TextEncoder().encode(credentialReportCsv(users)), GeneratedTime: NOW });
  const details: UserDetail[] = users.map((user) => ({
    UserName: user.userName,
    Path: user.path ?? '/',
    GroupList: user.groups ?? [],
    Tags: Object.entries(user.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
  }));
  iam.on(GetAccountAuthorizationDetailsCommand).resolves({ UserDetailList: details, IsTruncated: false });
  for (const user of users) {
    iam.on(ListAccessKeysCommand, { UserName: user.userName }).resolves({
      AccessKeyMetadata: user.keys.map((key) => ({
        UserName: user.userName,
        AccessKeyId: key.id,
        Status: key.active ? 'Active' : 'Inactive',
        CreateDate: key.createdAt,
      })),
    });
  }
  sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  // No scheduled execution of any key yet: each due key's name is free.
  sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution does not exist', $metadata: {} }));
  sfn
    .on(StartExecutionCommand)
    .callsFake((input: { name: string }) => ({ executionArn: `${STATE_MACHINE}:${input.name}`, startDate: NOW }));
}

function options(overrides: Partial<ScanOptions> = {}, env: Record<string, string> = {}): ScanOptions {
  return {
    iam: iamClient,
    sfn: sfnClient,
    config: loadConfig({ ROTATION_STATE_MACHINE_ARN: STATE_MACHINE, ...env }),
    clock: fixedClock(NOW),
    dryRun: false,
    ...overrides,
  };
}

const used = (id: string, age: number, lastUsed: number): CsvKey & { id: string } => ({
  id,
  active: true,
  createdAt: daysAgo(age),
  lastUsedAt: daysAgo(lastUsed),
});

beforeEach(() => {
  iam.reset();
  sfn.reset();
});

describe('scanAccount from the credential report', () => {
  test('reads live only the users whose keys are not ok, and counts the rest from the report', async () => {
    // Prepare
    seed([
      { userName: 'fresh', keys: [used('AKIAFRESH', 10, 0)] },
      { userName: 'old', keys: [used('AKIAOLD', 95, 1), used('AKIANEW', 2, 0)] },
      { userName: 'retired', keys: [{ id: 'AKIAOFF', active: false, createdAt: daysAgo(300) }] },
    ]);

    // Act
    const result = await scanAccount(options());

    // Assess
    expect(iam).toHaveReceivedCommandTimes(ListAccessKeysCommand, 1);
    expect(iam).toHaveReceivedCommandWith(ListAccessKeysCommand, { UserName: 'old' });
    expect(iam).toHaveReceivedCommandTimes(GetAccessKeyLastUsedCommand, 0);
    expect(result.counts).toEqual({ ok: 2, warn: 0, due: 1, unused: 0, exempt: 0, inactive: 1 });
    expect(result.keys.map((key) => [key.accessKeyId, key.class])).toEqual([
      ['AKIAOLD', 'due'],
      ['AKIANEW', 'ok'],
    ]);
    expect(result).toMatchObject({ mode: 'report', usersSeen: 3, usersReadLive: 1, reportGeneratedAt: NOW.toISOString() });
  });

  test("users whose only action is a due key are read oldest first, only until the run's cap is filled", async () => {
    // Prepare: 40 due users (ages 100..139 days), cap 3, and the oldest already rotating
    const users = Array.from({ length: 40 }, (_, index) => ({
      userName: `due-${String(index).padStart(2, '0')}`,
      keys: [used(`AKIADUE${String(index).padStart(13, '0')}`, 100 + index, 1)],
    }));
    seed(users);
    const oldest = users[39];
    if (!oldest) throw new Error('no users');
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        {
          name: executionName(oldest.userName, oldest.keys[0]?.id ?? '', 'scheduled'),
          status: 'RUNNING',
          executionArn: 'x',
          stateMachineArn: STATE_MACHINE,
          startDate: NOW,
        },
      ],
    });

    // Act
    const result = await scanAccount(options({ concurrency: 2 }, { MAX_ROTATIONS_PER_RUN: '3' }));

    // Assess: the running one does not use up the cap; four users read (two batches of two), 36 left for later runs
    expect(result.rotationsStarted.map((started) => started.userName)).toEqual(['due-38', 'due-37', 'due-36']);
    expect(result.usersReadLive).toBe(4);
    expect(iam).toHaveReceivedCommandTimes(ListAccessKeysCommand, 4);
    expect(result.dueNotReadLive).toBe(36);
    expect(result.counts.due).toBe(40);
    expect(result.rotationsSkipped.map((skipped) => skipped.userName)).toEqual(['due-39']);
  });

  test('with a cap of 0 no due-only user is read live, yet every due key is counted', async () => {
    // Prepare
    seed([
      { userName: 'a', keys: [used('AKIAA', 120, 1)] },
      { userName: 'b', keys: [used('AKIAB', 100, 1)] },
    ]);

    // Act
    const result = await scanAccount(options({}, { MAX_ROTATIONS_PER_RUN: '0' }));

    // Assess
    expect(iam).toHaveReceivedCommandTimes(ListAccessKeysCommand, 0);
    expect(result).toMatchObject({ usersReadLive: 0, dueNotReadLive: 2, counts: { due: 2 }, rotationsStarted: [] });
  });

  test("a tag that shortens a user's window is honoured before the account's warning age", async () => {
    // Prepare: the same key age, one user with a 30-day tag
    seed([
      { userName: 'strict', keys: [used('AKIASTRICT', 31, 0)], tags: { 'rotation:max-age-days': '30' } },
      { userName: 'default', keys: [used('AKIADEFAULT', 31, 0)] },
    ]);

    // Act
    const result = await scanAccount(options());

    // Assess
    expect(result.keys.map((key) => [key.userName, key.class])).toEqual([['strict', 'due']]);
    expect(result.rotationsStarted.map((rotation) => rotation.userName)).toEqual(['strict']);
  });

  test('every page of users is read (GetAccountAuthorizationDetails paginates)', async () => {
    // Prepare: users on two pages of account details
    seed([]);
    const page = (names: string[]): UserDetail[] =>
      names.map((UserName) => ({ UserName, Path: '/', GroupList: [], Tags: [{ Key: 'rotation:max-age-days', Value: '20' }] }));
    iam.on(GetCredentialReportCommand).resolves({
      Content: new TextEncoder().encode(
        credentialReportCsv(['p1', 'p2', 'p3'].map((userName) => ({ userName, keys: [used(`AKIA${userName}`, 25, 0)] }))),
      ),
    });
    iam
      .on(GetAccountAuthorizationDetailsCommand)
      .resolvesOnce({ UserDetailList: page(['p1', 'p2']), IsTruncated: true, Marker: 'm1' })
      .resolves({ UserDetailList: page(['p3']), IsTruncated: false });
    for (const name of ['p1', 'p2', 'p3']) {
      iam
        .on(ListAccessKeysCommand, { UserName: name })
        .resolves({ AccessKeyMetadata: [{ AccessKeyId: `AKIA${name}`, Status: 'Active', CreateDate: daysAgo(25) }] });
    }

    // Act
    const result = await scanAccount(options({ dryRun: true }));

    // Assess
    expect(iam).toHaveReceivedNthSpecificCommandWith(2, GetAccountAuthorizationDetailsCommand, {
      Filter: ['User'],
      Marker: 'm1',
      MaxItems: 1000,
    });
    expect(result.keys.map((key) => [key.userName, key.class])).toEqual([
      ['p1', 'due'],
      ['p2', 'due'],
      ['p3', 'due'],
    ]);
  });

  test('every page of a user’s keys is read (ListAccessKeys paginates)', async () => {
    // Prepare: the user's keys on two pages
    seed([{ userName: 'two-pages', keys: [used('AKIAONE', 100, 1), used('AKIATWO', 95, 1)] }]);
    iam
      .on(ListAccessKeysCommand, { UserName: 'two-pages' })
      .resolvesOnce({
        AccessKeyMetadata: [{ AccessKeyId: 'AKIAONE', Status: 'Active', CreateDate: daysAgo(100) }],
        IsTruncated: true,
        Marker: 'k1',
      })
      .resolves({ AccessKeyMetadata: [{ AccessKeyId: 'AKIATWO', Status: 'Active', CreateDate: daysAgo(95) }] });

    // Act
    const result = await scanAccount(options({ dryRun: true }));

    // Assess
    expect(iam).toHaveReceivedNthSpecificCommandWith(2, ListAccessKeysCommand, { UserName: 'two-pages', Marker: 'k1' });
    expect(result.keys.map((key) => key.accessKeyId)).toEqual(['AKIAONE', 'AKIATWO']);
  });

  test('two keys created in the same second cannot be told apart in the report, so their last use is read live', async () => {
    // Prepare
    seed([{ userName: 'twins', keys: [used('AKIATWIN1', 100, 1), used('AKIATWIN2', 100, 1)] }]);
    iam
      .on(GetAccessKeyLastUsedCommand)
      .resolves({ AccessKeyLastUsed: { LastUsedDate: daysAgo(3), ServiceName: 's3', Region: 'us-east-1' } });

    // Act
    const result = await scanAccount(options({ dryRun: true }));

    // Assess
    expect(iam).toHaveReceivedCommandTimes(GetAccessKeyLastUsedCommand, 2);
    expect(result.keys.map((key) => key.lastUsedDaysAgo)).toEqual([3, 3]);
  });

  test('GetAccessKeyLastUsed is asked only when the report would call a key unused, and a newer use wins', async () => {
    // Prepare: the report says 60 days unused, IAM says used today
    seed([{ userName: 'quiet', keys: [used('AKIAQUIET', 100, 60)] }]);
    iam
      .on(GetAccessKeyLastUsedCommand, { AccessKeyId: 'AKIAQUIET' })
      .resolves({ AccessKeyLastUsed: { LastUsedDate: daysAgo(0), ServiceName: 's3', Region: 'us-east-1' } });

    // Act
    const result = await scanAccount(options({ dryRun: true }));

    // Assess
    expect(iam).toHaveReceivedCommandTimes(GetAccessKeyLastUsedCommand, 1);
    expect(result.keys[0]).toMatchObject({ class: 'due', lastUsedDaysAgo: 0 });
  });

  test('a key the report does not know (created since) gets its last use from IAM', async () => {
    // Prepare: IAM lists a key created after the report
    seed([{ userName: 'old', keys: [used('AKIAOLD', 100, 1)] }]);
    iam.on(ListAccessKeysCommand, { UserName: 'old' }).resolves({
      AccessKeyMetadata: [
        { AccessKeyId: 'AKIAOLD', Status: 'Active', CreateDate: daysAgo(100) },
        { AccessKeyId: 'AKIABRANDNEW', Status: 'Active', CreateDate: NOW },
      ],
    });
    iam.on(GetAccessKeyLastUsedCommand).resolves({ UserName: 'old' });

    // Act
    const result = await scanAccount(options({ dryRun: true }));

    // Assess
    expect(iam).toHaveReceivedCommandTimes(GetAccessKeyLastUsedCommand, 1);
    expect(iam).toHaveReceivedCommandWith(GetAccessKeyLastUsedCommand, { AccessKeyId: 'AKIABRANDNEW' });
    expect(result.keys.find((key) => key.accessKeyId === 'AKIABRANDNEW')).toMatchObject({
      lastUsedDaysAgo: null,
      lastUsedAt: null,
      class: 'ok',
    });
  });

  test('a user deleted between the report and the live read is reported, and the others are still scanned', async () => {
    // Prepare: 'gone' is deleted before its keys are listed
    seed([
      { userName: 'gone', keys: [used('AKIAGONE', 100, 1)] },
      { userName: 'still-here', keys: [used('AKIAHERE', 100, 1)] },
    ]);
    iam
      .on(ListAccessKeysCommand, { UserName: 'gone' })
      .rejects(Object.assign(new Error('The user with name gone cannot be found.'), { name: 'NoSuchEntityException' }));

    // Act
    const result = await scanAccount(options());

    // Assess
    expect(result.userErrors).toEqual([
      { userName: 'gone', error: 'UserNotFoundError', message: expect.stringContaining('gone does not exist') },
    ]);
    expect(result.rotationsStarted.map((rotation) => rotation.userName)).toEqual(['still-here']);
  });

  test('an invalid tag on one user is reported for that user and the scan goes on', async () => {
    // Prepare
    seed([
      { userName: 'typo', keys: [used('AKIATYPO', 100, 1)], tags: { 'rotation:max-age-days': 'ninety' } },
      { userName: 'fine', keys: [used('AKIAFINE', 100, 1)] },
    ]);

    // Act
    const result = await scanAccount(options());

    // Assess
    expect(result.tagProblems).toEqual([{ userName: 'typo', tag: 'rotation:max-age-days', message: expect.stringContaining('"ninety"') }]);
    expect(result.rotationsStarted.map((rotation) => rotation.userName).sort()).toEqual(['fine', 'typo']);
  });

  test('tags that weaken a default are listed with the user, the value and the default; one past a ceiling is a tag problem', async () => {
    // Prepare
    seed([
      { userName: 'slow', keys: [used('AKIASLOW', 170, 1)], tags: { 'rotation:max-age-days': '180' } },
      { userName: 'forever', keys: [used('AKIAFOREVER', 100, 1)], tags: { 'rotation:max-age-days': '400' } },
      { userName: 'fine', keys: [used('AKIAFINE', 100, 1)] },
    ]);

    // Act
    const result = await scanAccount(options());

    // Assess
    expect(result.weakened).toEqual([{ userName: 'slow', tag: 'rotation:max-age-days', value: '180', default: '90' }]);
    expect(result.keys.find((key) => key.userName === 'slow')?.weakened).toEqual([
      { tag: 'rotation:max-age-days', value: '180', default: '90' },
    ]);
    expect(result.keys.find((key) => key.userName === 'fine')?.weakened).toBeUndefined();
    expect(result.tagProblems.map((problem) => [problem.userName, problem.tag])).toEqual([['forever', 'rotation:max-age-days']]);
    // 'slow' (170 days) is in its warning window before 180; 'forever' gets the account's 90 days, not its tag.
    expect(result.rotationsStarted.map((rotation) => rotation.userName).sort()).toEqual(['fine', 'forever']);
  });

  test('exempt paths and groups come from the account details', async () => {
    // Prepare
    seed([
      { userName: 'breakglass', path: '/break-glass/', keys: [used('AKIABG', 100, 1)] },
      { userName: 'legacy', groups: ['no-rotate'], keys: [used('AKIALEG', 100, 1)] },
      { userName: 'normal', keys: [used('AKIANORM', 100, 1)] },
    ]);

    // Act
    const result = await scanAccount(options({}, { EXEMPT_PATHS: '/break-glass/', EXEMPT_GROUPS: 'no-rotate' }));

    // Assess
    expect(result.counts).toMatchObject({ exempt: 2, due: 1 });
    expect(result.rotationsStarted.map((rotation) => rotation.userName)).toEqual(['normal']);
  });
});

describe('starting rotations', () => {
  test('starts one execution per due key with a deterministic name and an input without timestamps', async () => {
    // Prepare
    seed([{ userName: 'a+b@example.com', keys: [used('AKIADUE', 100, 1)] }]);

    // Act
    const result = await scanAccount(options());

    // Assess
    const name = executionName('a+b@example.com', 'AKIADUE', 'scheduled');
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE,
      name,
      input: JSON.stringify({
        userName: 'a+b@example.com',
        accessKeyId: 'AKIADUE',
        kind: 'scheduled',
        requestedBy: 'scanner',
        reason: 'reached the rotation age of 90 days',
      }),
    });
    expect(result.rotationsStarted).toEqual([
      { userName: 'a+b@example.com', accessKeyId: 'AKIADUE', executionName: name, executionArn: `${STATE_MACHINE}:${name}` },
    ]);
  });

  test('respects the cap, oldest first, and says why the rest wait', async () => {
    // Prepare: four due users, cap 2
    seed(['u1', 'u2', 'u3', 'u4'].map((userName, index) => ({ userName, keys: [used(`AKIA${userName}`, 100 + index, 1)] })));

    // Act
    const result = await scanAccount(options({}, { MAX_ROTATIONS_PER_RUN: '2' }));

    // Assess
    expect(result.rotationsStarted.map((rotation) => rotation.userName)).toEqual(['u4', 'u3']);
    expect(result.rotationsSkipped).toEqual([
      { userName: 'u2', accessKeyId: 'AKIAu2', reason: 'cap reached; next run' },
      { userName: 'u1', accessKeyId: 'AKIAu1', reason: 'cap reached; next run' },
    ]);
  });

  test('a key whose rotation is running is not started again and does not use the cap', async () => {
    // Prepare: the oldest key's rotation is running, cap 1
    seed([
      { userName: 'running', keys: [used('AKIARUN', 200, 1)] },
      { userName: 'waiting', keys: [used('AKIAWAIT', 100, 1)] },
    ]);
    sfn.on(ListExecutionsCommand).resolves({
      executions: [
        {
          name: executionName('running', 'AKIARUN', 'scheduled'),
          status: 'RUNNING',
          executionArn: 'arn:x',
          stateMachineArn: STATE_MACHINE,
          startDate: NOW,
        },
      ],
    });

    // Act
    const result = await scanAccount(options({}, { MAX_ROTATIONS_PER_RUN: '1' }));

    // Assess
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(result.rotationsStarted.map((rotation) => rotation.userName)).toEqual(['waiting']);
    expect(result.rotationsSkipped).toEqual([
      { userName: 'running', accessKeyId: 'AKIARUN', reason: expect.stringContaining('already running') },
    ]);
  });

  test('Step Functions is read by name: the running executions, then one DescribeExecution per due key until the cap is filled', async () => {
    // Prepare: 40 due users, cap 3; the oldest key's scheduled rotation failed earlier (its execution is kept for 90 days).
    const users = Array.from({ length: 40 }, (_, index) => ({
      userName: `due-${String(index).padStart(2, '0')}`,
      keys: [used(`AKIADUE${String(index).padStart(13, '0')}`, 100 + index, 1)],
    }));
    seed(users);
    const failedName = executionName('due-39', 'AKIADUE0000000000039', 'scheduled');
    sfn
      .on(DescribeExecutionCommand, { executionArn: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${failedName}` })
      .resolves({ status: 'FAILED', name: failedName, executionArn: 'arn:x', stateMachineArn: STATE_MACHINE, startDate: NOW });

    // Act
    const result = await scanAccount(options({ concurrency: 2 }, { MAX_ROTATIONS_PER_RUN: '3' }));

    // Assess: one RUNNING listing, never the whole history; four names described (the failed one and the three started).
    expect(sfn.commandCalls(ListExecutionsCommand).map((call) => call.args[0].input.statusFilter)).toEqual(['RUNNING']);
    expect(sfn).toHaveReceivedCommandTimes(DescribeExecutionCommand, 4);
    expect(result.stepFunctionsCalls).toEqual({ listExecutions: 1, describeExecution: 4 });
    expect(result.rotationsStarted.map((started) => started.userName)).toEqual(['due-38', 'due-37', 'due-36']);
    expect(result.rotationsSkipped.find((skipped) => skipped.userName === 'due-39')?.reason).toContain(
      'iam-key-rotator rotate due-39 --key AKIADUE0000000000039`',
    );
  });

  test('a failed start is reported for that key and the others are still started', async () => {
    // Prepare: the start of one key fails
    seed([
      { userName: 'clash', keys: [used('AKIACLASH', 200, 1)] },
      { userName: 'other', keys: [used('AKIAOTHER', 100, 1)] },
    ]);
    sfn
      .on(StartExecutionCommand, { name: executionName('clash', 'AKIACLASH', 'scheduled') })
      .rejects(Object.assign(new Error('Execution Already Exists'), { name: 'ExecutionAlreadyExists' }));

    // Act
    const result = await scanAccount(options());

    // Assess
    expect(result.rotationsStarted.map((rotation) => rotation.userName)).toEqual(['other']);
    expect(result.rotationsSkipped).toEqual([
      { userName: 'clash', accessKeyId: 'AKIACLASH', error: 'ExecutionAlreadyExists', reason: expect.stringContaining('another input') },
    ]);
  });

  test('a dry run starts nothing and deactivates nothing, and says so per key', async () => {
    // Prepare
    seed([
      { userName: 'due', keys: [used('AKIADUE', 100, 1)] },
      { userName: 'idle', keys: [used('AKIAIDLE', 60, 50)] },
    ]);
    iam
      .on(GetAccessKeyLastUsedCommand)
      .resolves({ AccessKeyLastUsed: { LastUsedDate: daysAgo(50), ServiceName: 's3', Region: 'us-east-1' } });

    // Act
    const result = await scanAccount(options({ dryRun: true }, { UNUSED_KEY_ACTION: 'deactivate' }));

    // Assess
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 0);
    expect(iam).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 0);
    expect(result.rotationsSkipped).toEqual([{ userName: 'due', accessKeyId: 'AKIADUE', reason: 'dry run' }]);
    expect(result.deactivationsSkipped).toEqual([{ userName: 'idle', accessKeyId: 'AKIAIDLE', reason: 'dry run' }]);
  });

  test('without a state machine only a dry run is allowed, and the error says how to set it', async () => {
    // Prepare: a config without ROTATION_STATE_MACHINE_ARN
    seed([]);
    const config = loadConfig({});

    // Act & Assess
    await expect(scanAccount({ ...options(), config })).rejects.toThrow(ConfigError);
    await expect(scanAccount({ ...options(), config })).rejects.toThrow(/ROTATION_STATE_MACHINE_ARN/);
    expect(iam).toHaveReceivedCommandTimes(GenerateCredentialReportCommand, 0);
  });
});

describe('unused keys', () => {
  test('with UNUSED_KEY_ACTION=deactivate, a key unused past the threshold is deactivated', async () => {
    // Prepare
    seed([{ userName: 'idle', keys: [used('AKIAIDLE', 60, 50), used('AKIABUSY', 20, 0)] }]);
    iam
      .on(GetAccessKeyLastUsedCommand, { AccessKeyId: 'AKIAIDLE' })
      .resolves({ AccessKeyLastUsed: { LastUsedDate: daysAgo(50), ServiceName: 's3', Region: 'us-east-1' } });

    // Act
    const result = await scanAccount(options({}, { UNUSED_KEY_ACTION: 'deactivate' }));

    // Assess
    expect(iam).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 1);
    expect(iam).toHaveReceivedCommandWith(UpdateAccessKeyCommand, { UserName: 'idle', AccessKeyId: 'AKIAIDLE', Status: 'Inactive' });
    expect(result.keysDeactivated).toEqual([{ userName: 'idle', accessKeyId: 'AKIAIDLE' }]);
  });

  test('with the default notify action, no key is deactivated', async () => {
    // Prepare
    seed([{ userName: 'idle', keys: [used('AKIAIDLE', 60, 50)] }]);
    iam
      .on(GetAccessKeyLastUsedCommand)
      .resolves({ AccessKeyLastUsed: { LastUsedDate: daysAgo(50), ServiceName: 's3', Region: 'us-east-1' } });

    // Act
    const result = await scanAccount(options());

    // Assess
    expect(iam).toHaveReceivedCommandTimes(UpdateAccessKeyCommand, 0);
    expect(result.keys[0]).toMatchObject({ class: 'unused', action: 'notify' });
  });
});

describe('scanAccount for named users', () => {
  test('reads each user directly, without the credential report, and paginates its tags', async () => {
    // Prepare: 'alice' with two pages of tags
    sfn.on(ListExecutionsCommand).resolves({ executions: [] });
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'Execution does not exist', $metadata: {} }));
    iam
      .on(GetUserCommand, { UserName: 'alice' })
      .resolves({ User: { UserName: 'alice', Path: '/', Arn: 'arn', UserId: 'x', CreateDate: NOW } });
    iam
      .on(ListUserTagsCommand, { UserName: 'alice' })
      .resolvesOnce({ Tags: [{ Key: 'rotation:owner', Value: 'alice@example.com' }], IsTruncated: true, Marker: 't1' })
      .resolves({ Tags: [{ Key: 'rotation:max-age-days', Value: '30' }] });
    iam
      .on(ListAccessKeysCommand, { UserName: 'alice' })
      .resolves({ AccessKeyMetadata: [{ AccessKeyId: 'AKIAALICE', Status: 'Active', CreateDate: daysAgo(40) }] });
    iam
      .on(GetAccessKeyLastUsedCommand)
      .resolves({ AccessKeyLastUsed: { LastUsedDate: daysAgo(1), ServiceName: 's3', Region: 'us-east-1' } });

    // Act
    const result = await scanAccount(options({ dryRun: true, users: ['alice'] }));

    // Assess
    expect(iam).toHaveReceivedCommandTimes(GenerateCredentialReportCommand, 0);
    expect(iam).toHaveReceivedCommandTimes(ListGroupsForUserCommand, 0);
    expect(result.keys).toEqual([
      expect.objectContaining({ accessKeyId: 'AKIAALICE', class: 'due', owner: 'alice@example.com', lastUsedDaysAgo: 1 }),
    ]);
    expect(result.mode).toBe('users');
  });

  test('reads groups only when exempt groups are configured', async () => {
    // Prepare: 'bob' is in an exempt group
    iam.on(GetUserCommand).resolves({ User: { UserName: 'bob', Path: '/', Arn: 'arn', UserId: 'x', CreateDate: NOW } });
    iam.on(ListUserTagsCommand).resolves({ Tags: [] });
    iam
      .on(ListGroupsForUserCommand)
      .resolves({ Groups: [{ GroupName: 'no-rotate', Path: '/', GroupId: 'g', Arn: 'arn', CreateDate: NOW }] });
    iam.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [{ AccessKeyId: 'AKIABOB', Status: 'Active', CreateDate: daysAgo(100) }] });
    iam
      .on(GetAccessKeyLastUsedCommand)
      .resolves({ AccessKeyLastUsed: { LastUsedDate: daysAgo(1), ServiceName: 's3', Region: 'us-east-1' } });

    // Act
    const result = await scanAccount(options({ dryRun: true, users: ['bob'] }, { EXEMPT_GROUPS: 'no-rotate' }));

    // Assess
    expect(iam).toHaveReceivedCommandTimes(ListGroupsForUserCommand, 1);
    expect(result.keys[0]?.class).toBe('exempt');
  });

  test('an unknown user is reported as not found', async () => {
    // Prepare
    iam.on(GetUserCommand).rejects(Object.assign(new Error('cannot be found'), { name: 'NoSuchEntityException' }));

    // Act
    const result = await scanAccount(options({ dryRun: true, users: ['nobody'] }));

    // Assess
    expect(result.userErrors).toEqual([
      { userName: 'nobody', error: 'UserNotFoundError', message: expect.stringContaining('nobody does not exist') },
    ]);
    expect(result.keys).toEqual([]);
  });
});
