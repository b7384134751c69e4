import { describe, expect, test } from '@jest/globals';
import { ConfigError } from '#shared/base/errors.ts';
import { configLoader, type ParameterReader } from '#shared/config/load-config.ts';

/** A parameter store that answers from a list, one answer per read (the last repeats), and records the names read. */
function parameters(...answers: (string | Error)[]): ParameterReader & { readonly reads: string[] } {
  const reads: string[] = [];
  const read = async (name: string): Promise<string | undefined> => {
    reads.push(name);
    const answer = answers.length > 1 ? answers.shift() : answers[0];
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return Object.assign(read, { reads });
}

describe('configLoader', () => {
  test('without CONFIG_SSM_PARAMETER the environment alone is used and SSM is not called', async () => {
    // Prepare
    const store = parameters('{"ROTATION_MAX_AGE_DAYS":"30"}');

    // Act
    const config = await configLoader({ ROTATION_MAX_AGE_DAYS: '60' }, store)();

    // Assess
    expect(config.maxAgeDays).toBe(60);
    expect(store.reads).toEqual([]);
  });

  test('the SSM parameter wins over the environment and is read once per container', async () => {
    // Prepare
    const store = parameters('{"ROTATION_MAX_AGE_DAYS":"30"}');
    const load = configLoader({ ROTATION_MAX_AGE_DAYS: '60', CONFIG_SSM_PARAMETER: '/rotator/config' }, store);

    // Act
    const [first, second] = await Promise.all([load(), load()]);
    const third = await load();

    // Assess
    expect(first.maxAgeDays).toBe(30);
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(store.reads).toEqual(['/rotator/config']);
  });

  test('a failed SSM read is not cached: the next call tries again', async () => {
    // Prepare: SSM throttles the first read
    const store = parameters(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }), '{}');
    const load = configLoader({ CONFIG_SSM_PARAMETER: '/rotator/config' }, store);

    // Act & Assess: the first load fails, the next one reads again
    await expect(load()).rejects.toThrow('Rate exceeded');
    await expect(load()).resolves.toMatchObject({ maxAgeDays: 90 });
    expect(store.reads).toHaveLength(2);
  });

  test('a parameter with no value is a ConfigError naming it', async () => {
    // Act & Assess
    await expect(configLoader({ CONFIG_SSM_PARAMETER: '/rotator/empty' }, async () => undefined)()).rejects.toThrow(
      'SSM parameter /rotator/empty (CONFIG_SSM_PARAMETER) has no value',
    );
  });

  test('a parameter that is not a JSON object of settings is a ConfigError naming the parameter', async () => {
    // Prepare: an unknown setting in the parameter
    const store = parameters('{"NOPE":"1"}');

    // Act & Assess
    await expect(configLoader({ CONFIG_SSM_PARAMETER: '/rotator/config' }, store)()).rejects.toThrow(ConfigError);
    await expect(configLoader({ CONFIG_SSM_PARAMETER: '/rotator/config' }, store)()).rejects.toThrow('/rotator/config');
  });

  test('a parameter that redirects the workflow or the member role is refused, and the stack keeps its values', async () => {
    // Prepare: someone with ssm:PutParameter points the rotator at their own state machine and role.
    const store = parameters(
      '{"ROTATION_STATE_MACHINE_ARN":"arn:aws:states:us-east-1:999999999999:stateMachine:theirs","MEMBER_ROLE_NAME":"theirs","ROTATION_MAX_AGE_DAYS":"30"}',
    );
    const load = configLoader({ CONFIG_SSM_PARAMETER: '/rotator/config', MEMBER_ROLE_NAME: 'iam-key-rotator-member' }, store);

    // Act & Assess
    await expect(load()).rejects.toThrow(ConfigError);
    await expect(load()).rejects.toThrow(/ROTATION_STATE_MACHINE_ARN, MEMBER_ROLE_NAME, which only the stack may set/);
  });
});
