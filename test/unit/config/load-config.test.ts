import { beforeEach, describe, expect, test } from '@jest/globals';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ConfigError } from '#shared/base/errors.ts';
import { configLoader } from '#shared/config/load-config.ts';

const ssm = mockClient(SSMClient);

beforeEach(() => {
  ssm.reset();
});

// The loader imports the SSM client lazily (shared/aws/clients/ssm.ts); mockClient replaces every instance's send.
describe('configLoader', () => {
  test('without CONFIG_SSM_PARAMETER the environment alone is used and SSM is not called', async () => {
    // Act
    const config = await configLoader({ ROTATION_MAX_AGE_DAYS: '60' })();

    // Assess
    expect(config.maxAgeDays).toBe(60);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 0);
  });

  test('the SSM parameter wins over the environment and is read once per container', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/rotator/config', Value: '{"ROTATION_MAX_AGE_DAYS":"30"}' } });
    const load = configLoader({ ROTATION_MAX_AGE_DAYS: '60', CONFIG_SSM_PARAMETER: '/rotator/config' });

    // Act
    const [first, second] = await Promise.all([load(), load()]);
    const third = await load();

    // Assess
    expect(first.maxAgeDays).toBe(30);
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, { Name: '/rotator/config', WithDecryption: true });
  });

  test('a failed SSM read is not cached: the next call tries again', async () => {
    // Prepare: SSM throttles the first read
    ssm
      .on(GetParameterCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({ Parameter: { Value: '{}' } });
    const load = configLoader({ CONFIG_SSM_PARAMETER: '/rotator/config' });

    // Act & Assess: the first load fails, the next one reads again
    await expect(load()).rejects.toThrow('Rate exceeded');
    await expect(load()).resolves.toMatchObject({ maxAgeDays: 90 });
  });

  test('a parameter that is not a JSON object of settings is a ConfigError naming the parameter', async () => {
    // Prepare: an unknown setting in the parameter
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '{"NOPE":"1"}' } });

    // Act & Assess
    await expect(configLoader({ CONFIG_SSM_PARAMETER: '/rotator/config' })()).rejects.toThrow(ConfigError);
    await expect(configLoader({ CONFIG_SSM_PARAMETER: '/rotator/config' })()).rejects.toThrow('/rotator/config');
  });

  test('a parameter that redirects the workflow or the member role is refused, and the stack keeps its values', async () => {
    // Prepare: someone with ssm:PutParameter points the rotator at their own state machine and role.
    ssm.on(GetParameterCommand).resolves({
      Parameter: {
        Value:
          '{"ROTATION_STATE_MACHINE_ARN":"arn:aws:states:us-east-1:999999999999:stateMachine:theirs","MEMBER_ROLE_NAME":"theirs","ROTATION_MAX_AGE_DAYS":"30"}',
      },
    });
    const load = configLoader({ CONFIG_SSM_PARAMETER: '/rotator/config', MEMBER_ROLE_NAME: 'iam-key-rotator-member' });

    // Act & Assess
    await expect(load()).rejects.toThrow(ConfigError);
    await expect(load()).rejects.toThrow(/ROTATION_STATE_MACHINE_ARN, MEMBER_ROLE_NAME, which only the stack may set/);
  });
});
