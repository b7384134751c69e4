import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { repoPath } from '../../helpers/paths.ts';
import { main } from '../../../cli/main.ts';
import { explainAwsError } from '../../../cli/errors.ts';
import type { Output } from '../../../local/terminal.ts';
import { MissingCredentialsError, MissingPermissionError } from '#shared/base/errors.ts';

function capture(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), err: (text) => stderr.push(text) };
}

describe('the CLI entry point', () => {
  test('--help lists the commands and exits 0', async () => {
    // Prepare
    const output = capture();

    // Act & Assess
    expect(await main(['node', 'iam-key-rotator', '--help'], output)).toBe(0);
    expect(output.stdout.join('\n')).toMatch(/Usage: iam-key-rotator/);
  });

  test.each(['0', '-3', 'ten', '2.5'])(
    'status --limit %s is a usage error (exit 2) naming the flag, before anything is read',
    async (limit) => {
      // Prepare
      const output = capture();

      // Act & Assess
      expect(await main(['node', 'iam-key-rotator', 'status', '--limit', limit], output)).toBe(2);
      expect(output.stderr.join('\n')).toContain(`--limit must be a whole number from 1 to 9999 (got "${limit}")`);
    },
  );

  test.each([
    ['rotate', ['rotate', 'alice', '--output', 'csv'], /argument 'csv' is invalid\. Allowed choices are table, json/],
    ['status', ['status', '--output', 'yaml'], /argument 'yaml' is invalid\. Allowed choices are table, json, csv/],
    ['consumers', ['consumers', 'alice', '--json', '--output', 'table'], /--json asks for JSON and --output table for table/],
  ])('%s: an --output it cannot print is a usage error (exit 2) that names the formats it can', async (_name, args, message) => {
    // Prepare
    const output = capture();

    // Act & Assess
    expect(await main(['node', 'iam-key-rotator', ...args], output)).toBe(2);
    expect(output.stderr.join('\n')).toMatch(message);
  });

  test('rotate --local with a health-check interval longer than its deadline is a usage error (exit 2) naming both', async () => {
    // Prepare
    const output = capture();

    // Act & Assess
    expect(await main(['node', 'iam-key-rotator', 'rotate', 'alice', '--local', '--health-check-interval', '2m'], output)).toBe(2);
    expect(output.stderr.join('\n')).toContain(
      'error: --health-check-interval 2m is longer than --health-check-deadline 10s (the local default): the deadline would pass before the gate checked twice.',
    );
  });

  test('an unknown command is a usage error (exit 2) with a hint', async () => {
    // Prepare
    const output = capture();

    // Act & Assess
    expect(await main(['node', 'iam-key-rotator', 'no-such-command'], output)).toBe(2);
    expect(output.stderr.join('\n')).toMatch(/--help/);
  });
});

describe('explainAwsError', () => {
  test('AccessDenied becomes a MissingPermissionError that names the action', () => {
    // Prepare
    const denied = Object.assign(
      new Error('User: arn:aws:iam::123456789012:user/ci is not authorized to perform: iam:GetCredentialReport on resource: *'),
      { name: 'AccessDenied' },
    );

    // Act
    const explained = explainAwsError(denied);

    // Assess
    expect(explained).toBeInstanceOf(MissingPermissionError);
    expect((explained as Error).message).toContain('iam:GetCredentialReport');
  });

  test('missing credentials become a MissingCredentialsError that says how to provide them', () => {
    // Prepare
    const missing = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });

    // Act
    const explained = explainAwsError(missing);

    // Assess
    expect(explained).toBeInstanceOf(MissingCredentialsError);
    expect((explained as Error).message).toMatch(/AWS_PROFILE/);
  });

  test('other errors pass through unchanged', () => {
    // Prepare
    const other = new Error('boom');

    // Act & Assess
    expect(explainAwsError(other)).toBe(other);
  });
});

describe('the version', () => {
  test('the CLI and the bin’s fast --version answer the version package.json names', async () => {
    // Prepare
    const version = (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string }).version;
    const lines: string[] = [];

    // Act
    await main(['node', 'iam-key-rotator', '--version'], { out: (text) => lines.push(text), err: (text) => lines.push(text) });

    // Assess: the bin reads package.json itself, so the two can only drift here.
    expect(lines).toEqual([version]);
    expect(readFileSync(repoPath('bin/iam-key-rotator.mjs'), 'utf8')).toContain("new URL('../package.json', import.meta.url)");
  });
});
