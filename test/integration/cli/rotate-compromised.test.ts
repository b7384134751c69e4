import { describe, expect, test } from '@jest/globals';
import { createKey, createUser, keysOf, seedSecret } from '../../helpers/rotation-fixtures.ts';
import { cli } from '../../helpers/cli.ts';

// `rotate --compromised --local` as a person runs it in an incident: what it prints must match what
// happened to the leaked key, and name any key that containment left working.

describe('rotate --compromised --local', () => {
  test('a user with a second Active key: the leaked key is replaced and deleted, and the summary names the key left Active', async () => {
    // Prepare
    const leaked = await createUser('incident-cli', { 'rotation:owner': 'team@example.com' });
    const other = await createKey('incident-cli');
    await seedSecret('incident-cli', leaked);

    // Act
    const run = await cli(
      'rotate',
      'incident-cli',
      '--compromised',
      '--key',
      leaked.accessKeyId,
      '--local',
      '--health-check-deadline',
      '1s',
    );

    // Assess
    expect(run.code).toBe(0);
    const replacement = Object.keys(await keysOf('incident-cli')).find((id) => id !== other.accessKeyId) ?? '';
    expect(await keysOf('incident-cli')).toEqual({ [other.accessKeyId]: 'Active', [replacement]: 'Active' });
    expect(run.out).toContain(`Succeeded: incident-cli, leaked key ${leaked.accessKeyId}, new key ${replacement}`);
    expect(run.out).toContain(`The leaked key ${leaked.accessKeyId} is deleted.`);
    expect(run.out).toContain(
      `The user's other key ${other.accessKeyId} is still Active: containment left it alone; if it may have leaked too: iam-key-rotator rotate incident-cli --key ${other.accessKeyId} --compromised.`,
    );
    expect(run.out).not.toContain('The old key is deleted');
  }, 30_000);
});
