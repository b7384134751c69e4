import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { printedTable } from '../helpers/demo-table-rows.ts';

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
    const table = printedTable(stdout);
    expect(table.headings).toEqual(['user', 'scan', 'rotation', 'keys now (★ = AWSCURRENT)', 'consumer', 'notices']);
    // The legend under the table says what ★, the columns, MakeSafe before Failed, and the safe ends mean.
    expect(stdout).toContain("★ marks the key the user's secret holds as AWSCURRENT");
    expect(stdout).toContain("consumer: each simulated workload using the user's key");
    expect(stdout).toContain('"MakeSafe ok" then "Failed" means the run was refused and nothing was left changed');
    expect(stdout).toContain('NeedsAttention and RolledBack end safely');
    expect(table.row('billing-export')).toEqual({
      user: 'billing-export',
      scan: 'due',
      rotation: 'Succeeded',
      'keys now (★ = AWSCURRENT)': expect.stringMatching(/^★\w{6} Active$/),
      // Its one consumer is named after it, so the cell gives only how it fared.
      consumer: expect.stringMatching(/^[1-9]\d* calls, 0 failed, 2 keys used$/),
      notices: 'rotation-started\nnew-key-ready\nold-key-deactivated\nrotation-completed',
    });
    expect(table.row('hardcoded-cron')).toMatchObject({
      rotation: expect.stringMatching(/^NeedsAttention\nstill on the old key:/),
      notices: 'rotation-started\nnew-key-ready\naction-needed',
    });
    expect(table.row('legacy-etl')).toMatchObject({ rotation: 'Failed: KeyLimitReachedError', notices: 'rotation-failed' });
    expect(table.row('saas-analytics')).toMatchObject({ scan: 'warn', rotation: 'not rotated', notices: 'rotation-warning' });
    expect(table.row('partner-sftp')).toMatchObject({ scan: 'exempt', rotation: 'not rotated', notices: '(none)' });
    expect(table.row('forgotten-bot')).toMatchObject({
      scan: 'unused',
      rotation: 'not rotated',
      consumer: '(none)',
      notices: 'unused-key',
    });
    expect(table.row('ml-pipeline')).toMatchObject({ scan: 'ok', rotation: 'not rotated' });
    // Two consumers of one key are named, each with the address CloudTrail tells them apart by.
    expect(table.row('reports-sync')).toMatchObject({
      consumer: expect.stringMatching(
        /^dashboard \(198\.51\.100\.7\):\n[1-9]\d* calls, 0 failed, 2 keys used\nnightly-export \(203\.0\.113\.25\):\n[1-9]\d* calls, 0 failed, 1 key used$/,
      ),
    });
    expect(stdout).toMatch(/stopped moto_server; nothing was left running/);
    expect(stdout).toMatch(/demo finished in \d+\.\ds/);
  }, 150_000);
});
