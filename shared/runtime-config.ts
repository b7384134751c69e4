import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { loadConfig, parseSsmOverrides, type Config } from './config.ts';
import { ConfigError } from './errors.ts';

/**
 * Returns a function that reads the configuration once per container: the environment, plus the
 * SSM parameter named by CONFIG_SSM_PARAMETER when set (a JSON object that wins over the
 * environment). The promise is cached; a failed read is forgotten so the next invocation retries
 * (a throttled SSM call should not poison a warm container).
 */
export function configLoader(env: Readonly<Record<string, string | undefined>>, ssm: SSMClient): () => Promise<Config> {
  let cached: Promise<Config> | undefined;
  const read = async (): Promise<Config> => {
    const parameterName = env.CONFIG_SSM_PARAMETER?.trim();
    if (!parameterName) return loadConfig(env);
    const response = await ssm.send(new GetParameterCommand({ Name: parameterName, WithDecryption: true }));
    const value = response.Parameter?.Value;
    if (value === undefined) throw new ConfigError(`SSM parameter ${parameterName} (CONFIG_SSM_PARAMETER) has no value`);
    return loadConfig(env, parseSsmOverrides(parameterName, value));
  };
  return () => {
    cached ??= read().catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}
