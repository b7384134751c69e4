import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, TagUserCommand } from '@aws-sdk/client-iam';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { cli } from '../../helpers/cli.ts';
import { createPassStateMachine } from '../../helpers/iam-seed.ts';

// `rotate <user> --override-exemption <reason>` against a deployed stack (a moto state machine): the
// reason goes into the execution input, where Prepare reads it and the notices record it.
const sfn = new SFNClient({});
const iam = new IAMClient({});
let keyId = '';

beforeAll(async () => {
  await iam.send(new CreateUserCommand({ UserName: 'vendor-app' }));
  await iam.send(new TagUserCommand({ UserName: 'vendor-app', Tags: [{ Key: 'rotation:exempt', Value: 'vendor contract' }] }));
  keyId = (await iam.send(new CreateAccessKeyCommand({ UserName: 'vendor-app' }))).AccessKey?.AccessKeyId ?? '';
  process.env.ROTATION_STATE_MACHINE_ARN = await createPassStateMachine(sfn, 'rotate-exemption');
});

afterEach(() => {
  process.exitCode = undefined;
});

afterAll(() => {
  delete process.env.ROTATION_STATE_MACHINE_ARN;
});

describe('rotate --override-exemption', () => {
  test('puts the reason into the execution input', async () => {
    // Act
    const result = await cli('rotate', 'vendor-app', '--override-exemption', 'vendor confirmed the new key works', '--json');

    // Assess
    expect(result.code).toBe(0);
    const started = JSON.parse(result.out) as { executionArn: string };
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(JSON.parse(execution.input ?? '{}')).toMatchObject({
      userName: 'vendor-app',
      accessKeyId: keyId,
      kind: 'manual',
      exemptionOverride: 'vendor confirmed the new key works',
    });
  });

  test.each([
    ['an empty reason', ['--override-exemption', ' '], /needs a reason/],
    [
      'with --compromised (a leak is contained regardless)',
      ['--override-exemption', 'x', '--compromised', '--key', 'AKIAIOSFODNN7EXAMPLE'],
      /not needed with --compromised/,
    ],
  ])('refuses %s as bad usage', async (_name, flags, message) => {
    // Act
    const result = await cli('rotate', 'vendor-app', ...flags);

    // Assess
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
  });
});
