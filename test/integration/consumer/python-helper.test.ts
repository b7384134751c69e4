import { afterAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { repoPath } from '../../helpers/paths.ts';

// The Python helper's own tests (consumer/python/test_*.py, unittest) run here against this suite's
// moto, so `npm test` fails when they fail. They enforce IAM auth on moto while they run and end it.
// The Python tests end moto's auth enforcement themselves; this makes sure of it if they crash.
afterAll(async () => {
  await fetch(`${process.env.AWS_ENDPOINT_URL ?? ''}/moto-api/reset-auth`, { method: 'POST', body: 'inf' });
});

describe('the Python helper (consumer/python/iam_key_rotator_credentials.py)', () => {
  test('its unittest suite passes against moto, with nothing skipped', () => {
    // Act
    const result = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', repoPath('consumer/python'), '-p', 'test_*.py', '-v'], {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      encoding: 'utf8',
      timeout: 50_000,
    });

    // Assess
    if (result.error)
      throw new Error(`Could not run python3 (${result.error.message}): the Python helper's tests need python3 with boto3.`);
    const report = result.stderr;
    expect({ status: result.status, report }).toMatchObject({ status: 0 });
    expect(report).toMatch(/\nOK\n?$/);
    expect(Number(/Ran (\d+) tests?/.exec(report)?.[1] ?? 0)).toBeGreaterThanOrEqual(13);
    expect(report).not.toMatch(/skipped|expected failure/);
  });
});
