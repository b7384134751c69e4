import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';

// `npm start` is a newcomer's first contact: run it as they would, in its own process with its own moto.
describe('npm start (the local demo)', () => {
  test('rotates the due keys, holds the rest back, checks its own outcomes and exits 0', () => {
    // Prepare: the newcomer's environment, without the test's moto endpoint (the demo starts its own).
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.AWS_ENDPOINT_URL;

    // Act
    const result = spawnSync('node', ['bin/iam-key-rotator.mjs', 'demo'], { encoding: 'utf8', env, timeout: 120_000 });

    // Assess
    const stdout = result.stdout;
    if (result.status !== 0) throw new Error(`demo exited ${result.status}:\n${stdout}\n${result.stderr}`);
    const row = (user: string): string => stdout.split('\n').find((line) => line.includes(`│ ${user} `)) ?? '';
    // The legend under the table says what ★, MakeSafe before Failed, and the safe ends mean.
    expect(stdout).toContain("★ marks the key the user's secret holds as AWSCURRENT");
    expect(stdout).toContain('"MakeSafe ok" then "Failed" means the run was refused and nothing was left changed');
    expect(row('billing-export')).toMatch(/│ due\s+│ Succeeded\s+│ ★\w{6} Active/);
    expect(row('hardcoded-cron')).toMatch(/NeedsAttention/);
    expect(row('legacy-etl')).toMatch(/Failed: KeyLimitReachedError/);
    expect(row('partner-sftp')).toMatch(/│ exempt\s+│ not rotated/);
    expect(row('forgotten-bot')).toMatch(/│ unused\s+│ not rotated/);
    expect(stdout).toMatch(/stopped moto_server; nothing was left running/);
    expect(stdout).toMatch(/demo finished in \d+\.\ds/);
  }, 150_000);
});
