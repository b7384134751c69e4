import { afterEach, describe, expect, test } from '@jest/globals';
import { cli } from '../../helpers/cli.ts';

// The state machine the CLI acts on comes from ROTATION_STATE_MACHINE_ARN or --state-machine-arn: a
// value that is not an ARN, or names no state machine, is a setting to fix (exit 2), found before a
// rotation is due rather than when one should start.

const saved = process.env.ROTATION_STATE_MACHINE_ARN;
afterEach(() => {
  if (saved === undefined) delete process.env.ROTATION_STATE_MACHINE_ARN;
  else process.env.ROTATION_STATE_MACHINE_ARN = saved;
});

describe('the state machine setting', () => {
  test('scan --state-machine-arn that is not an ARN: exit 2, naming the setting and its form, nothing scanned', async () => {
    // Act
    const run = await cli('scan', '--state-machine-arn', 'not-an-arn', '--apply');

    // Assess
    expect(run.code).toBe(2);
    expect(run.err).toContain('ROTATION_STATE_MACHINE_ARN must be a state machine ARN like arn:aws:states:');
    expect(run.out).toBe('');
  });

  test('status with an ARN that names no state machine: exit 2, saying what to check', async () => {
    // Prepare
    process.env.ROTATION_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:nope';

    // Act
    const run = await cli('status');

    // Assess
    expect(run.code).toBe(2);
    expect(run.err).toContain('no such state machine in this account and Region (or not an ARN). Check ROTATION_STATE_MACHINE_ARN');
  });
});
