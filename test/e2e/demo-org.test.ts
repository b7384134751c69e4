import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { printedTable } from '../helpers/demo-table-rows.ts';

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
    const table = printedTable(stdout);
    // The account demo's columns, after the account.
    expect(table.headings).toEqual(['account', 'user', 'scan', 'rotation', 'keys now (★ = AWSCURRENT)', 'consumer', 'notices']);
    // The legend says what ★ and the columns mean, and that NeedsAttention ends safely; no run failed, so nothing about MakeSafe.
    expect(stdout).toContain("★ marks the key the user's secret holds as AWSCURRENT");
    expect(stdout).toContain("consumer: each simulated workload using the user's key");
    expect(stdout).toContain('NeedsAttention and RolledBack end safely');
    expect(stdout).not.toContain('"MakeSafe ok" then "Failed"');
    const rotated = ['rotation-started', 'new-key-ready', 'old-key-deactivated', 'rotation-completed'].join('\n');
    expect(table.row('card-processor')).toEqual({
      account: expect.stringMatching(/^payments-prod\n\d{12}$/),
      user: 'card-processor',
      scan: 'due',
      rotation: 'Succeeded',
      'keys now (★ = AWSCURRENT)': expect.stringMatching(/^★\w{6} Active$/),
      consumer: expect.stringMatching(/^checkout-api:\n[1-9]\d* calls, 0 failed, 2 keys used$/),
      notices: rotated,
    });
    expect(table.row('etl-loader')).toMatchObject({
      account: expect.stringMatching(/^data-prod\n/),
      rotation: 'Succeeded',
      consumer: expect.stringMatching(/^airflow-worker:\n[1-9]\d* calls, 0 failed, 2 keys used$/),
      notices: rotated,
    });
    // Its consumer kept the first key, so both keys stayed and the owner was asked to act.
    expect(table.row('bi-export')).toMatchObject({
      scan: 'due',
      rotation: 'NeedsAttention',
      'keys now (★ = AWSCURRENT)': expect.stringMatching(/^ ?\w{6} Active\n★\w{6} Active$/),
      consumer: expect.stringMatching(/^dashboard-extract:\n[1-9]\d* calls, 0 failed, 1 key used$/),
      notices: 'rotation-started\nnew-key-ready\naction-needed',
    });
    expect(table.row('scratch')).toMatchObject({
      account: expect.stringMatching(/^sandbox-1\n/),
      scan: 'not scanned',
      rotation: 'not rotated',
      consumer: expect.stringMatching(/^notebook:\n[1-9]\d* calls, 0 failed, 1 key used$/),
      notices: '(none)',
    });
    // One outcome per user: a row of its own.
    for (const user of ['card-processor', 'ledger-sync', 'etl-loader', 'bi-export', 'scratch'])
      expect(stdout.split('\n').filter((line) => line.includes(`│ ${user} `))).toHaveLength(1);
    expect(stdout).toMatch(/sandbox-1\s+skipped: excluded by OU ou-/);
    expect(stdout).toMatch(/\[payments-prod \d{12}\] Access key of card-processor rotated/);
    expect(stdout).toMatch(/stopped moto_server; nothing was left running/);
  }, 150_000);
});
