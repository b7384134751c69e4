import { beforeEach, describe, expect, test } from '@jest/globals';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, ListAccessKeysCommand, TagUserCommand } from '@aws-sdk/client-iam';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mapWithConcurrency } from '#shared/base/concurrency.ts';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { DAY_MS, fixedClock } from '#shared/base/clock.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { resetMoto } from '#local/moto.ts';
import { scanAccount, type ScanOptions } from '#shared/scan/scanner.ts';
import { countCalls } from '../../helpers/call-counter.ts';
import { cli } from '../../helpers/cli.ts';
import { createPassStateMachine, seedUsers } from '../../helpers/iam-seed.ts';

const endpoint = process.env.AWS_ENDPOINT_URL ?? '';
const iam = new IAMClient({});
const sfn = new SFNClient({});
const calls = countCalls(iam);
const inDays = (days: number) => fixedClock(new Date(Date.now() + days * DAY_MS));
let stateMachineArn = '';

// moto stamps keys with the real time and cannot backdate them, so time moves forward instead.
// Unused-after is set past the jump so the never-used seeded keys read as due, not unused.
function options(days: number, env: Record<string, string> = {}, overrides: Partial<ScanOptions> = {}): ScanOptions {
  return {
    iam,
    sfn,
    config: loadConfig({ ROTATION_STATE_MACHINE_ARN: stateMachineArn, UNUSED_AFTER_DAYS: '365', ...env }),
    clock: inDays(days),
    dryRun: false,
    ...overrides,
  };
}

async function executionCount(): Promise<number> {
  let count = 0;
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, nextToken }));
    count += page.executions?.length ?? 0;
    nextToken = page.nextToken;
  } while (nextToken);
  return count;
}

beforeEach(async () => {
  await resetMoto(endpoint);
  stateMachineArn = await createPassStateMachine(sfn);
  calls.reset();
});

describe('scanAccount against moto', () => {
  test('an empty account: nothing to classify, nothing started', async () => {
    // Act
    const result = await scanAccount(options(100));

    // Assess
    expect(result.keys).toEqual([]);
    expect(Object.values(result.counts).every((count) => count === 0)).toBe(true);
    expect(result.rotationsStarted).toEqual([]);
    expect(result.userErrors).toEqual([]);
  });

  test('one user whose key is due: one rotation, with the deterministic name and no timestamps in the input', async () => {
    // Prepare
    await seedUsers(iam, 1, { prefix: 'solo' });

    // Act
    const result = await scanAccount(options(100));

    // Assess
    expect(result.counts.due).toBe(1);
    expect(result.rotationsStarted).toHaveLength(1);
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
    expect(page.executions?.map((execution) => execution.name)).toEqual([result.rotationsStarted[0]?.executionName]);
  });

  test('250 users, none due: every user is seen, none is read live, and it costs a handful of calls', async () => {
    // Prepare: 250 users; the calls that seeded them are not counted.
    await seedUsers(iam, 250);
    calls.reset();

    // Act
    const result = await scanAccount(options(0));

    // Assess
    expect(result.usersSeen).toBe(250);
    expect(result.counts.ok).toBe(250);
    expect(result.usersReadLive).toBe(0);
    expect(calls.total()).toBeLessThanOrEqual(5);
    expect(calls.byCommand.ListAccessKeysCommand).toBeUndefined();
  });

  // Seeding 250 users and two scans (one reading all 250 live) take seconds on a busy machine: a longer timeout.
  test('250 users, all due: every key is counted, the cap holds the starts to 25, oldest first, and only about 25 users are read live', async () => {
    // Prepare: 250 due users, and all their keys as a dry run with all: true lists them.
    await seedUsers(iam, 250);
    const everyKey = (await scanAccount(options(100, {}, { all: true, dryRun: true }))).keys;

    // Act
    const result = await scanAccount(options(100));

    // Assess
    expect(result.counts.due).toBe(250);
    expect(result.rotationsStarted).toHaveLength(25);
    // Read in batches of 8 (the scan's concurrency) until 25 can start: 32 users, not 250.
    expect(result.usersReadLive).toBe(32);
    expect(result.dueNotReadLive).toBe(250 - 32);
    expect(result.rotationsSkipped.filter((skip) => skip.reason === 'cap reached; next run')).toHaveLength(32 - 25);
    const oldest = [...everyKey]
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.userName.localeCompare(b.userName))
      .slice(0, 25);
    expect(new Set(result.rotationsStarted.map((rotation) => rotation.accessKeyId))).toEqual(new Set(oldest.map((key) => key.accessKeyId)));
    expect(await executionCount()).toBe(25);
  }, 60_000);

  test('two scans in a row start each rotation once', async () => {
    // Prepare
    await seedUsers(iam, 3);

    // Act
    const first = await scanAccount(options(100));
    const second = await scanAccount(options(100));

    // Assess
    expect(first.rotationsStarted).toHaveLength(3);
    expect(second.rotationsStarted).toHaveLength(0);
    expect(second.rotationsSkipped.map((skip) => skip.reason)).toEqual(
      expect.arrayContaining([expect.stringMatching(/already running|already ended/)]),
    );
    expect(second.rotationsSkipped).toHaveLength(3);
    expect(await executionCount()).toBe(3);
  });

  test('a stopped scheduled rotation is not started again by the scan, whose summary gives the command that does; 300 past executions cost the scan nothing', async () => {
    // Prepare: one due key whose scheduled rotation was started and stopped, beside 300 ended executions of other keys.
    const [userName = ''] = await seedUsers(iam, 1, { prefix: 'stopped' });
    const [first] = (await scanAccount(options(100))).rotationsStarted;
    if (!first) throw new Error('the first scan started nothing');
    await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));
    await mapWithConcurrency(
      Array.from({ length: 300 }, (_, index) => `past-${index}`),
      16,
      async (name) => {
        const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: '{}' }));
        await sfn.send(new StopExecutionCommand({ executionArn: started.executionArn }));
      },
    );

    // Act
    const again = await scanAccount(options(100));
    process.env.ROTATION_STATE_MACHINE_ARN = stateMachineArn;
    const rotated = await cli('rotate', userName, '--key', first.accessKeyId, '--json').finally(() => {
      delete process.env.ROTATION_STATE_MACHINE_ARN;
      process.exitCode = undefined;
    });

    // Assess: one RUNNING listing and one DescribeExecution, whatever the history holds.
    expect(again.stepFunctionsCalls).toEqual({ listExecutions: 1, describeExecution: 1 });
    expect(again.rotationsStarted).toEqual([]);
    const command = `iam-key-rotator rotate ${userName} --key ${first.accessKeyId}`;
    expect(again.rotationsSkipped).toEqual([
      expect.objectContaining({ userName, reason: expect.stringContaining(`ended ABORTED (execution ${first.executionName})`) }),
    ]);
    expect(again.rotationsSkipped[0]?.reason).toContain(`\`${command}\``);
    expect(again.rotationsSkipped[0]?.restartWith).toBe(command);
    expect(rotated.code).toBe(0);
    const started = JSON.parse(rotated.out) as { executionArn: string; status: string };
    expect(started.status).toBe('started');
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(execution.status).toBe('RUNNING');
    expect(JSON.parse(execution.input ?? '{}')).toMatchObject({ userName, accessKeyId: first.accessKeyId, kind: 'manual' });
  }, 60_000);

  test('a backlog drains: the next run starts the next 25, not the 25 already running', async () => {
    // Prepare
    await seedUsers(iam, 60);

    // Act: two runs a day apart.
    const first = await scanAccount(options(100));
    const second = await scanAccount(options(101));

    // Assess
    const firstKeys = new Set(first.rotationsStarted.map((rotation) => rotation.accessKeyId));
    expect(second.rotationsStarted).toHaveLength(25);
    expect(second.rotationsStarted.some((rotation) => firstKeys.has(rotation.accessKeyId))).toBe(false);
    expect(await executionCount()).toBe(50);
  });

  test('a dry run starts nothing', async () => {
    // Prepare
    await seedUsers(iam, 5);

    // Act
    const result = await scanAccount(options(100, {}, { dryRun: true }));

    // Assess
    expect(result.counts.due).toBe(5);
    expect(result.rotationsSkipped.map((skip) => skip.reason)).toEqual(Array(5).fill('dry run'));
    expect(await executionCount()).toBe(0);
  });

  test('an invalid tag on one user is reported for that user and the others are still rotated', async () => {
    // Prepare: three users, one with a max-age tag that is not a number (it falls back to the stricter default).
    await seedUsers(iam, 3);
    await iam.send(new TagUserCommand({ UserName: 'user-0001', Tags: [{ Key: 'rotation:max-age-days', Value: 'ninety' }] }));

    // Act
    const result = await scanAccount(options(100));

    // Assess
    expect(result.tagProblems).toEqual([
      { userName: 'user-0001', tag: 'rotation:max-age-days', message: expect.stringContaining('ninety') },
    ]);
    expect(result.rotationsStarted).toHaveLength(3);
  });

  test('a misspelled gate tag holds its user back, reported with the tag and value: a check is never dropped quietly', async () => {
    // Prepare: two due users; one asks for the manual check with a typo.
    await seedUsers(iam, 2);
    await iam.send(
      new TagUserCommand({ UserName: 'user-0001', Tags: [{ Key: 'rotation:health-checks', Value: 'new-key-used typo-check' }] }),
    );

    // Act
    const result = await scanAccount(options(100));

    // Assess
    expect(result.rotationsStarted.map((started) => started.userName)).toEqual(['user-0000']);
    const held = result.keys.find((key) => key.userName === 'user-0001');
    expect(held).toMatchObject({ class: 'due', action: 'none' });
    expect(held?.reason).toContain(
      'not rotated until its tags are fixed: User user-0001: tag rotation:health-checks="new-key-used typo-check"',
    );
    expect(result.tagProblems).toEqual([
      {
        userName: 'user-0001',
        tag: 'rotation:health-checks',
        message: expect.stringMatching(/separated by spaces; rotations of user-0001 are refused until the tag is fixed or removed$/),
      },
    ]);
    expect(result.tagProblems[0]?.message).not.toContain('default is used');
  });

  test("a user's tag that shortens the window is honoured before the account's warning age", async () => {
    // Prepare
    await seedUsers(iam, 2);
    await iam.send(new TagUserCommand({ UserName: 'user-0000', Tags: [{ Key: 'rotation:max-age-days', Value: '30' }] }));

    // Act
    const result = await scanAccount(options(31));

    // Assess
    expect(result.keys.map((key) => [key.userName, key.class])).toEqual([['user-0000', 'due']]);
    expect(result.counts).toMatchObject({ due: 1, ok: 1 });
  });

  test('users under an exempt path are held back', async () => {
    // Prepare
    await seedUsers(iam, 2, { prefix: 'glass', path: '/break-glass/' });
    await seedUsers(iam, 1, { prefix: 'app' });

    // Act
    const result = await scanAccount(options(100, { EXEMPT_PATHS: '/break-glass/' }));

    // Assess
    expect(result.counts).toMatchObject({ exempt: 2, due: 1 });
    expect(result.rotationsStarted.map((rotation) => rotation.userName)).toEqual(['app-0000']);
  });

  test('keys unused past the threshold are deactivated when the config says so, whether used once or never', async () => {
    // Prepare: one key used once, one never used.
    await iam.send(new CreateUserCommand({ UserName: 'used-once' }));
    const usedKey = (await iam.send(new CreateAccessKeyCommand({ UserName: 'used-once' }))).AccessKey;
    await iam.send(new CreateUserCommand({ UserName: 'never-used' }));
    const neverKey = (await iam.send(new CreateAccessKeyCommand({ UserName: 'never-used' }))).AccessKey;
    if (!usedKey?.SecretAccessKey || !neverKey) throw new Error('moto returned no key');
    // moto records a key's last use on every request signed with it.
    await new STSClient({ credentials: { accessKeyId: usedKey.AccessKeyId ?? '', secretAccessKey: usedKey.SecretAccessKey } }).send(
      new GetCallerIdentityCommand({}),
    );

    // Act
    const result = await scanAccount(options(50, { UNUSED_AFTER_DAYS: '45', UNUSED_KEY_ACTION: 'deactivate' }));

    // Assess
    expect(result.keys.map((key) => [key.userName, key.class, key.action, key.lastUsedDaysAgo])).toEqual([
      ['used-once', 'unused', 'deactivate', 50],
      ['never-used', 'unused', 'deactivate', null],
    ]);
    expect(result.keysDeactivated.map((key) => key.userName).sort()).toEqual(['never-used', 'used-once']);
    const neverUsedNow = await iam.send(new ListAccessKeysCommand({ UserName: 'never-used' }));
    expect(neverUsedNow.AccessKeyMetadata?.[0]?.Status).toBe('Inactive');
  });

  test('UNUSED_KEY_ACTION=retire: an unused key is handed to a retirement (kind retire) within the cap, the key untouched; a second scan starts nothing new', async () => {
    // Prepare: one user with an unused key, and one whose key is due (UNUSED_AFTER_DAYS past the jump for it).
    await iam.send(new CreateUserCommand({ UserName: 'idle-job' }));
    const idle = (await iam.send(new CreateAccessKeyCommand({ UserName: 'idle-job' }))).AccessKey;
    await iam.send(new CreateUserCommand({ UserName: 'busy-job' }));
    const busyKey = (await iam.send(new CreateAccessKeyCommand({ UserName: 'busy-job' }))).AccessKey;
    if (!busyKey?.SecretAccessKey || !idle) throw new Error('moto returned no key');
    await iam.send(new TagUserCommand({ UserName: 'busy-job', Tags: [{ Key: 'rotation:unused-after-days', Value: '365' }] }));
    const env = { UNUSED_AFTER_DAYS: '45', UNUSED_KEY_ACTION: 'retire', MAX_ROTATIONS_PER_RUN: '2' };

    // Act
    const first = await scanAccount(options(100, env));
    const second = await scanAccount(options(100, env));

    // Assess
    const inputs = await Promise.all(
      first.rotationsStarted.map(
        async (started) =>
          JSON.parse((await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }))).input ?? '{}') as Record<
            string,
            unknown
          >,
      ),
    );
    expect(inputs.map((input) => [input.userName, input.kind]).sort()).toEqual([
      ['busy-job', 'scheduled'],
      ['idle-job', 'retire'],
    ]);
    expect(first.rotationsStarted.find((started) => started.userName === 'idle-job')).toMatchObject({ kind: 'retire' });
    expect(first.keysDeactivated).toEqual([]);
    expect((await iam.send(new ListAccessKeysCommand({ UserName: 'idle-job' }))).AccessKeyMetadata?.[0]?.Status).toBe('Active');
    expect(second.rotationsStarted).toEqual([]);
    expect(await executionCount()).toBe(2);
  });

  test('the scope (ROTATION_USER_PATH, ROTATION_USER_TAG_VALUE) is honoured: users outside it are reported out of scope and never attempted', async () => {
    // Prepare: under the pilot path and tagged; under it untagged; outside it tagged.
    for (const [userName, path, managed] of [
      ['pilot-in', '/pilot/', 'yes'],
      ['pilot-untagged', '/pilot/', undefined],
      ['elsewhere', '/', 'yes'],
    ] as const) {
      await iam.send(new CreateUserCommand({ UserName: userName, Path: path }));
      if (managed) await iam.send(new TagUserCommand({ UserName: userName, Tags: [{ Key: 'rotation:managed', Value: managed }] }));
      await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    }

    // Act
    const result = await scanAccount(options(100, { ROTATION_USER_PATH: '/pilot/', ROTATION_USER_TAG_VALUE: 'yes' }));

    // Assess
    expect(result.rotationsStarted.map((started) => started.userName)).toEqual(['pilot-in']);
    const byUser = new Map(result.keys.map((key) => [key.userName, key]));
    expect(byUser.get('pilot-untagged')).toMatchObject({ class: 'exempt', action: 'none' });
    expect(byUser.get('pilot-untagged')?.reason).toMatch(/^out of scope: not tagged rotation:managed=yes \(ROTATION_USER_TAG_VALUE\)/);
    expect(byUser.get('elsewhere')?.reason).toMatch(
      /^out of scope: IAM path \/ is outside the rotator's path \/pilot\/ \(ROTATION_USER_PATH\)/,
    );
    expect(await executionCount()).toBe(1);
  });

  test('named users are read directly; an unknown one is reported and the others are scanned', async () => {
    // Prepare
    await seedUsers(iam, 2);
    calls.reset();

    // Act
    const result = await scanAccount(options(100, {}, { users: ['user-0001', 'nobody'], dryRun: true }));

    // Assess
    expect(calls.byCommand.GenerateCredentialReportCommand).toBeUndefined();
    expect(result.keys.map((key) => key.userName)).toEqual(['user-0001']);
    expect(result.userErrors).toEqual([{ userName: 'nobody', error: 'UserNotFoundError', message: expect.stringContaining('nobody') }]);
  });

  test('--all reads every user, including those with nothing to do', async () => {
    // Prepare
    await seedUsers(iam, 4);
    calls.reset();

    // Act
    const result = await scanAccount(options(0, {}, { all: true, dryRun: true }));

    // Assess
    expect(result.keys).toHaveLength(4);
    expect(result.keys.every((key) => key.class === 'ok')).toBe(true);
    expect(calls.byCommand.ListAccessKeysCommand).toBe(4);
  });
});
