import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { IAMClient, TagUserCommand } from '@aws-sdk/client-iam';
import { SFNClient, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { resetMoto } from '#local/moto.ts';
import { main } from '../../../cli/main.ts';
import type { Output } from '../../../local/terminal.ts';
import { createPassStateMachine, seedUsers } from '../../helpers/iam-seed.ts';
import { moveDateForward } from '../../helpers/fake-date.ts';
import { parse } from 'csv-parse/sync';

const endpoint = process.env.AWS_ENDPOINT_URL ?? '';
const iam = new IAMClient({});
const sfn = new SFNClient({});
const saved = { ...process.env };

function capture(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text) };
}

const isoDay = (daysAhead: number): string => new Date(Date.now() + daysAhead * 86_400_000).toISOString().slice(0, 10);
const scan = (output: Output, ...args: string[]) => main(['node', 'iam-key-rotator', 'scan', ...args], output);

beforeEach(async () => {
  await resetMoto(endpoint);
  // Never-used seeded keys would read as unused once time moves on; keep them on the rotation path.
  process.env.UNUSED_AFTER_DAYS = '365';
  delete process.env.ROTATION_STATE_MACHINE_ARN;
});

afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
});

describe('iam-key-rotator scan', () => {
  test('--json prints one object per key needing attention on stdout, and progress only on stderr', async () => {
    // Prepare
    await seedUsers(iam, 3);
    await iam.send(new TagUserCommand({ UserName: 'user-0002', Tags: [{ Key: 'rotation:max-age-days', Value: '365' }] }));
    const output = capture();

    // Act
    const code = await scan(output, '--json', '--as-of', isoDay(100));

    // Assess
    expect(code).toBe(0);
    const rows = JSON.parse(output.stdout.join('\n')) as Array<Record<string, unknown>>;
    expect(rows.map((row) => [row.userName, row.class, row.action])).toEqual([
      ['user-0000', 'due', 'rotate'],
      ['user-0001', 'due', 'rotate'],
    ]);
    for (const row of rows) {
      expect(row).toMatchObject({ status: 'Active', ageDays: 100, lastUsedDaysAgo: null, reason: 'reached the rotation age of 90 days' });
      expect(row.accessKeyId).toMatch(/^AKIA/);
    }
    expect(output.stderr.join('\n')).toMatch(/credential report/);
    expect(output.stderr.join('\n')).toMatch(/Plan as of .*: 2 rotations would start on that day\. Nothing was started or changed\./);
  });

  test('the table lists the columns and a summary line; --as-of starts nothing even with a state machine', async () => {
    // Prepare
    await seedUsers(iam, 2);
    const stateMachineArn = await createPassStateMachine(sfn);
    const output = capture();

    // Act
    const code = await scan(output, '--as-of', isoDay(80), '--state-machine-arn', stateMachineArn);

    // Assess
    expect(code).toBe(0);
    const text = output.stdout.join('\n');
    for (const column of ['user', 'owner', 'key id', 'status', 'age (days)', 'last used', 'class', 'reason', 'action'])
      expect(text).toContain(column);
    expect(text).toMatch(/user-0000.*warn/);
    expect(text).toMatch(/user-0000.*rotation due in/);
    expect(text).toMatch(/2 users \(2 read live\).*2 warn/);
    expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions).toEqual([]);
  });

  test('a state machine left in the shell never turns a look into an action: scan plans, --apply starts, --apply without one is refused', async () => {
    // Prepare: one user whose key is due 100 days from now; only Date moves there (moto stamps keys with the real time).
    await seedUsers(iam, 1);
    process.env.UNUSED_AFTER_DAYS = '365';
    moveDateForward(100);
    const stateMachineArn = await createPassStateMachine(sfn);
    const looked = capture();
    const applied = capture();
    const refused = capture();

    // Act
    process.env.ROTATION_STATE_MACHINE_ARN = stateMachineArn;
    const look = await scan(looked).finally(() => delete process.env.ROTATION_STATE_MACHINE_ARN);
    const afterLook = (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];
    const apply = await scan(applied, '--apply', '--state-machine-arn', stateMachineArn);
    const refusal = await scan(refused, '--apply').finally(() => {
      jest.useRealTimers();
      delete process.env.UNUSED_AFTER_DAYS;
    });

    // Assess
    expect(look).toBe(0);
    expect(afterLook).toEqual([]);
    expect(looked.stdout.join('\n')).toContain(
      'Plan: 1 rotation would start. Nothing was started or changed and no one was notified: run the same scan with --apply to act.',
    );
    expect(apply).toBe(0);
    expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions).toHaveLength(1);
    expect(applied.stdout.join('\n')).toContain('rotation started');
    expect(refusal).toBe(2);
    expect(refused.stderr.join('\n')).toContain('--apply starts rotations, but no state machine is configured');
  });

  test('--detailed-exitcode: 3 while a key is due, 0 when none is', async () => {
    // Prepare
    await seedUsers(iam, 1);

    // Act
    const now = await scan(capture(), '--detailed-exitcode');
    const later = await scan(capture(), '--detailed-exitcode', '--as-of', isoDay(100));

    // Assess
    expect([now, later]).toEqual([0, 3]);
  });

  test('without a state machine, scan lists and says why nothing was started', async () => {
    // Prepare
    await seedUsers(iam, 1);
    const output = capture();

    // Act & Assess
    expect(await scan(output)).toBe(0);
    expect(output.stdout.join('\n')).toContain('No access keys need action or attention.');
    expect(output.stdout.join('\n')).toContain('no state machine is configured');
  });

  test('--user lists every key of that user, ok ones included', async () => {
    // Prepare
    await seedUsers(iam, 2);
    const output = capture();

    // Act & Assess
    expect(await scan(output, '--json', '--user', 'user-0001')).toBe(0);
    const rows = JSON.parse(output.stdout.join('\n')) as Array<Record<string, unknown>>;
    expect(rows.map((row) => [row.userName, row.class])).toEqual([['user-0001', 'ok']]);
  });

  test('--output csv prints the same rows as --json, a column per field, for a spreadsheet', async () => {
    // Prepare
    await seedUsers(iam, 2);
    await iam.send(new TagUserCommand({ UserName: 'user-0001', Tags: [{ Key: 'owner', Value: '=HYPERLINK("x")' }] }));
    const json = capture();
    const csv = capture();

    // Act
    await scan(json, '--json', '--as-of', isoDay(100));
    const code = await scan(csv, '--output', 'csv', '--as-of', isoDay(100));

    // Assess: a header, then one CRLF line per key, matching the JSON field by field; a formula-looking owner is defused
    expect(code).toBe(0);
    const rows = JSON.parse(json.stdout.join('\n')) as Array<Record<string, unknown>>;
    const text = csv.stdout.join('\n');
    const [header] = parse(text) as string[][];
    expect(header?.slice(0, 4)).toEqual(['userName', 'accessKeyId', 'status', 'createdAt']);
    expect(header).toEqual(expect.arrayContaining(['class', 'reason', 'owner', 'outcome', 'tagProblems']));
    expect(text.split('\r\n')).toHaveLength(rows.length + 1);
    const cells = parse(text, { columns: true }) as Array<Record<string, string>>;
    expect(cells.map((row) => [row.userName, row.accessKeyId, row.class, row.ageDays])).toEqual(
      rows.map((row) => [row.userName, row.accessKeyId, row.class, String(row.ageDays)]),
    );
    expect(cells[1]?.owner).toBe(`'=HYPERLINK("x")`);
    expect(csv.stderr.join('\n')).toMatch(/Plan as of/);
  });

  test('--json with --output csv is bad usage (exit 2): one format at a time', async () => {
    // Prepare
    const output = capture();

    // Act & Assess
    expect(await scan(output, '--json', '--output', 'csv')).toBe(2);
    expect(output.stderr.join('\n')).toContain('--json asks for JSON and --output csv for csv: give one of them.');
  });

  test('an unknown --user is bad usage (exit 2) that names the user, refused before anything is scanned or printed', async () => {
    // Prepare
    const output = capture();

    // Act & Assess
    expect(await scan(output, '--user', 'nobody', '--json')).toBe(2);
    expect(output.stderr.join('\n')).toMatch(/IAM user nobody does not exist/);
    expect(output.stdout).toEqual([]);
  });

  test.each([['2026-02-30'], ['tomorrow'], ['2026-1-5']])('--as-of %s is a usage error (exit 2)', async (date) => {
    // Prepare
    const output = capture();

    // Act & Assess
    expect(await scan(output, '--as-of', date)).toBe(2);
    expect(output.stderr.join('\n')).toContain('--as-of must be a calendar date');
  });

  test('--as-of in the past is a usage error (exit 2) that says why and what to do, before anything is read', async () => {
    // Prepare
    const output = capture();

    // Act & Assess
    expect(await scan(output, '--as-of', isoDay(-1))).toBe(2);
    expect(output.stderr.join('\n')).toContain(
      `--as-of ${isoDay(-1)} is in the past: IAM shows keys as they are now, so ages can only be counted to today or a later day. Leave --as-of out`,
    );
    expect(output.stderr.join('\n')).not.toContain('credential report');
  });

  test('--all with --user is a usage error (exit 2)', async () => {
    // Act & Assess
    expect(await scan(capture(), '--all', '--user', 'x')).toBe(2);
  });

  test('the installed bin prints scan --help, which warns what --all costs', () => {
    // Act
    const result = spawnSync(process.execPath, ['bin/iam-key-rotator.mjs', 'scan', '--help'], { encoding: 'utf8', timeout: 30_000 });

    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: iam-key-rotator scan');
    expect(result.stdout).toContain('one ListAccessKeys call per user');
    expect(result.stdout).toContain('--dry-run');
  });
});

describe('iam-key-rotator scan --org', () => {
  test('an organization of this account and one member account: both are scanned (dry run), one line each, exit code 0', async () => {
    // Prepare: an organization of this account (the CLI's) and one member account without the member role.
    const { OrganizationsClient, CreateOrganizationCommand, CreateAccountCommand } = await import('@aws-sdk/client-organizations');
    const organizations = new OrganizationsClient({});
    await organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const member =
      (await organizations.send(new CreateAccountCommand({ AccountName: 'workload', Email: 'workload@example.com' }))).CreateAccountStatus
        ?.AccountId ?? '';
    await seedUsers(iam, 1);
    const output = capture();

    // Act
    const code = await scan(output, '--org', '--dry-run', '--as-of', isoDay(100));

    // Assess
    const text = [...output.stdout, ...output.stderr].join('\n');
    expect(text).toContain(member);
    expect(text).toMatch(/Organization scan: 2 accounts scanned, 0 failed, 0 skipped/);
    expect(text).toContain('Plan only (--as-of is a what-if: it never acts). No rotation was started');
    expect(code).toBe(0);
  });

  test('--org conflicts with --user and --all', async () => {
    // Prepare
    const output = capture();

    // Act & Assess
    expect(await scan(output, '--org', '--user', 'someone')).not.toBe(0);
    expect(output.stderr.join('\n')).toMatch(/--org.*cannot be used with|cannot be used with.*--org/);
  });

  test('outside an organization it says where to deploy, and exits non-zero', async () => {
    // Prepare
    const output = capture();

    // Act
    const code = await scan(output, '--org', '--dry-run');

    // Assess
    expect(code).toBe(1);
    expect(output.stderr.join('\n')).toMatch(/OrganizationAccessError.*not in an AWS Organization/s);
  });
});
