import { describe, expect, test } from '@jest/globals';
import { cli } from '../../helpers/cli.ts';

// A user name the account does not have is bad usage on every command that takes one, as the README's
// exit codes say: exit 2, the name in the error, nothing on stdout for a script to mistake for a result.

describe('a user the account does not have', () => {
  test.each([
    ['consumers', ['consumers', 'nobody-here']],
    ['consumers --output csv', ['consumers', 'nobody-here', '--output', 'csv']],
    ['usage', ['usage', 'nobody-here']],
    ['adopt-secret', ['adopt-secret', 'nobody-here']],
    ['scan --user', ['scan', '--user', 'nobody-here']],
  ])('%s: exit 2, named, nothing on stdout', async (_name, args) => {
    // Act
    const run = await cli(...args);

    // Assess
    expect(run.code).toBe(2);
    expect(run.err).toContain('IAM user nobody-here does not exist');
    expect(run.out).toBe('');
  });
});
