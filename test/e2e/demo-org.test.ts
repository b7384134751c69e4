import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';

// `iam-key-rotator demo --org`: organization-wide rotation as a newcomer would first try it, in its
// own process with its own moto.
describe('demo --org (the organization-wide local demo)', () => {
  test('scans the member accounts through the scan-organization state machine, leaves the sandbox OU out, rotates in each account and exits 0', () => {
    // Prepare: the demo starts its own moto, so the test's endpoint is left out.
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.AWS_ENDPOINT_URL;

    // Act
    const result = spawnSync('node', ['bin/iam-key-rotator.mjs', 'demo', '--org'], { encoding: 'utf8', env, timeout: 120_000 });

    // Assess
    const stdout = result.stdout;
    if (result.status !== 0) throw new Error(`demo --org exited ${result.status}:\n${stdout}\n${result.stderr}`);
    const row = (user: string): string => stdout.split('\n').find((line) => line.includes(`│ ${user} `)) ?? '';
    // The legend under the table says what ★, MakeSafe before Failed, and the safe ends mean.
    expect(stdout).toContain("★ marks the key the user's secret holds as AWSCURRENT");
    expect(stdout).toContain('"MakeSafe ok" then "Failed" means the run was refused and nothing was left changed');
    expect(row('card-processor')).toMatch(/│ payments-prod\s+│ card-processor\s+│ Succeeded\s+│ ★\w{6} Active/);
    expect(row('etl-loader')).toMatch(/│ data-prod\s+│ etl-loader\s+│ Succeeded/);
    expect(row('bi-export')).toMatch(/NeedsAttention/);
    expect(row('scratch')).toMatch(/│ sandbox-1\s+│ scratch\s+│ not rotated/);
    expect(stdout).toMatch(/sandbox-1\s+skipped: excluded by OU ou-/);
    expect(stdout).toMatch(/\[payments-prod \d{12}\] Access key of card-processor rotated/);
    expect(stdout).toMatch(/0 failed/);
    expect(stdout).not.toMatch(/[1-9]\d* failed │/);
    expect(stdout).toMatch(/stopped moto_server; nothing was left running/);
  }, 150_000);
});
