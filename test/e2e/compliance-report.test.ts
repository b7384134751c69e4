import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { chromium, type Browser } from 'playwright-core';
import { SimulatedConsumer } from '#local/consumer.ts';
import { runRotation } from '#local/runner.ts';
import { DAY_MS } from '#shared/base/clock.ts';
import type { ComplianceReport } from '#shared/report/compliance-report.ts';
import { cli } from '../helpers/cli.ts';
import { repoPath } from '../helpers/paths.ts';
import { createUser, iam, quietLogger, secretsManager, seedSecret, setStatus } from '../helpers/rotation-fixtures.ts';

// `iam-key-rotator report` against moto, opened in a real browser: Debian's Chromium, which .ci/run
// installs when it is missing (CHROMIUM_PATH names another). The page must render with no console
// error and no request beyond its own file, its summary must say what the JSON says, and it must fit
// an A4 landscape page when printed. A screenshot and a PDF are kept in .test-results/.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = repoPath('.test-results');
const FAST = { healthCheckIntervalMs: 100, healthCheckDeadlineMs: 3_000, observationMs: 100, oldKeyQuietMs: 100 };
const HOSTILE_OWNER = `<img src=x onerror="console.error('owner tag ran')">`;
const day = (days: number): string => new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);

let dir = '';
let browser: Browser | undefined;
let report: ComplianceReport;
let reportRun: { code: number; out: string; err: string };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: install Debian's package (apt-get install chromium), as .ci/run does, or set CHROMIUM_PATH.`,
    );
  }
  // Keys are 100 days old at the report's day and used only today: unused only where a user's tag says 60 days.
  process.env.UNUSED_AFTER_DAYS = '365';
  dir = mkdtempSync(join(tmpdir(), 'compliance-report-'));
  mkdirSync(ARTIFACTS, { recursive: true });
  // One user of every state, 100 days from now (moto cannot backdate a key, so the report looks ahead with --as-of).
  await createUser('billing', { 'rotation:owner': HOSTILE_OWNER });
  await createUser('analytics', { 'rotation:max-age-days': '365', 'rotation:owner': 'data@example.com' });
  await createUser('vendor', { 'rotation:exempt': 'contract renewal', 'rotation:exempt-until': day(150) });
  await createUser('idle', { 'rotation:unused-after-days': '60' });
  const retired = await createUser('retired');
  await setStatus('retired', retired.accessKeyId, 'Inactive');
  // And one rotation, run by the local runner, for the history: its consumer follows the secret.
  const payroll = await createUser('payroll', { 'rotation:owner': 'payroll@example.com' });
  await seedSecret('payroll', payroll);
  const consumer = new SimulatedConsumer({
    userName: 'payroll',
    secretId: 'iam-key-rotator/payroll',
    secretsManager,
    followsRotation: true,
    intervalMs: 25,
  });
  consumer.start();
  try {
    await runRotation(
      { userName: 'payroll', accessKeyId: payroll.accessKeyId, kind: 'manual' },
      { logger: quietLogger, durations: FAST, clients: { iam } },
    );
  } finally {
    await consumer.stop();
  }
  reportRun = await cli('report', '--as-of', day(100), '--html', join(dir, 'report.html'), '--csv', join(dir, 'report.csv'), '--json');
  report = JSON.parse(reportRun.out) as ComplianceReport;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // As root in CI, without a sandbox; no background networking, which this machine's closed network refuses.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  delete process.env.UNUSED_AFTER_DAYS;
  await browser?.close();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('iam-key-rotator report', () => {
  test('reads every key and the local run, and classifies each user as its tags say', () => {
    // Act & Assess: the report ran in beforeAll.
    expect(reportRun.code).toBe(0);
    const states = Object.fromEntries(report.keys.map((key) => [key.userName, key.compliance]));
    expect(states).toEqual({
      billing: 'overdue',
      analytics: 'compliant',
      vendor: 'exempt',
      idle: 'unused',
      retired: 'inactive',
      payroll: 'overdue',
    });
    expect(report.summary).toMatchObject({ keys: 6, compliant: 1, overdue: 2, exempt: 1, unused: 1, inactive: 1, due: 0 });
    expect(report.history.source).toBe('local-runs');
    expect(report.history.rotations).toEqual([
      expect.objectContaining({ userName: 'payroll', kind: 'manual', outcome: 'Succeeded', gateWaitSeconds: expect.any(Number) }),
    ]);
    // The payroll key now in IAM is the one the rotation made, and it carries that rotation.
    const payroll = report.keys.find((key) => key.userName === 'payroll');
    expect(payroll?.accessKeyId).toBe(report.history.rotations[0]?.newAccessKeyId);
    expect(payroll?.lastRotation?.outcome).toBe('Succeeded');
  });

  test('the CSV has one row per key, in the JSON order, with ISO dates', () => {
    // Act
    const rows = parse(readFileSync(join(dir, 'report.csv'), 'utf8'), { columns: true }) as Record<string, string>[];

    // Assess
    expect(rows.map((row) => row.access_key_id)).toEqual(report.keys.map((key) => key.accessKeyId));
    for (const row of rows) expect(row.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(rows.find((row) => row.user_name === 'billing')?.owner).toBe(HOSTILE_OWNER);
  });

  test('--output csv prints on stdout the same rows the --csv file holds', async () => {
    // Act
    const printed = await cli('report', '--as-of', day(100), '--output', 'csv');

    // Assess
    expect(printed.code).toBe(0);
    const rows = parse(printed.out, { columns: true }) as Record<string, string>[];
    const filed = parse(readFileSync(join(dir, 'report.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.map((row) => [row.user_name, row.access_key_id, row.compliance])).toEqual(
      filed.map((row) => [row.user_name, row.access_key_id, row.compliance]),
    );
    expect(rows).toHaveLength(6);
  });

  test('opens from disk in Chromium with no console error and no request, its summary says what the JSON says, and it prints on A4 landscape', async () => {
    // Prepare
    const page = await (browser as Browser).newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (request) => {
      if (!request.url().startsWith('file:')) requests.push(request.url());
    });

    // Act
    await page.goto(`file://${join(dir, 'report.html')}`, { waitUntil: 'load' });
    const shown = await page.$$eval('[data-summary]', (cards) =>
      Object.fromEntries(cards.map((card) => [card.getAttribute('data-summary') ?? '', Number(card.textContent)])),
    );
    const rows = await page.$$eval('#keys tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-state')));
    const bars = await page.$$eval('#ages-chart svg path, #ages-chart svg rect', (marks) => marks.length);
    const weeks = await page.$$eval('#weeks-chart svg', (svgs) => svgs.length);
    const ownerText = await page.$eval('#keys', (table) => table.textContent ?? '');
    await page.screenshot({ path: join(ARTIFACTS, 'compliance-report.png'), fullPage: true });
    await page.emulateMedia({ media: 'print' });
    // A4 landscape less 12 mm margins each side, at 96 CSS pixels per inch.
    const printable = Math.floor(((297 - 24) / 25.4) * 96);
    await page.setViewportSize({ width: printable, height: 900 });
    const printedWidth = await page.$eval('html', (html) => html.scrollWidth);
    await page.pdf({ path: join(ARTIFACTS, 'compliance-report.pdf'), format: 'A4', landscape: true, printBackground: true });
    await page.close();

    // Assess
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    expect(shown).toEqual({
      compliant: report.summary.compliant,
      due: report.summary.due,
      overdue: report.summary.overdue,
      unused: report.summary.unused,
      exempt: report.summary.exempt,
      inactive: report.summary.inactive,
    });
    expect(rows).toEqual(report.keys.map((key) => key.compliance));
    expect(bars).toBeGreaterThan(5);
    expect(weeks).toBe(1);
    expect(ownerText).toContain(HOSTILE_OWNER); // shown as text, not run as markup
    expect(printedWidth).toBeLessThanOrEqual(printable);
    expect(statSync(join(ARTIFACTS, 'compliance-report.pdf')).size).toBeGreaterThan(10_000);
  });

  test('bad input is a usage error that writes nothing', async () => {
    // Act
    const past = await cli('report', '--as-of', '2020-01-01', '--html', join(dir, 'past.html'));
    const days = await cli('report', '--days', '120');
    const nowhere = await cli('report', '--html', join(dir, 'no-such-folder', 'report.html'));

    // Assess
    expect(past.code).toBe(2);
    expect(past.err).toContain('--as-of 2020-01-01 is in the past');
    expect(existsSync(join(dir, 'past.html'))).toBe(false);
    expect(days.code).toBe(2);
    expect(days.err).toContain('--days must be a whole number from 1 to 90');
    expect(nowhere.code).toBe(2);
    expect(nowhere.err).toContain(`the folder ${join(dir, 'no-such-folder')} does not exist or cannot be written to. Nothing was read.`);
  });
});
