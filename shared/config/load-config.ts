import { loadConfig, parseSsmOverrides, type Config } from './settings.ts';
import { ConfigError } from '../base/errors.ts';
// Imported statically on purpose: a lazy import() would keep the SSM client out of cold starts that
// do not need it, but esbuild cannot tree-shake a lazily imported module, so every function would
// carry all of SSM's commands (166 KB) instead of GetParameter alone (76 KB).
import { getParameterValue } from '../aws/clients/ssm.ts';

/** Reads one SSM parameter's value (decrypted); undefined when it has none. */
export type ParameterReader = (name: string) => Promise<string | undefined>;

/**
 * Returns a function that reads the configuration once per container: the environment, plus the
 * SSM parameter named by CONFIG_SSM_PARAMETER when set (a JSON object that wins over the
 * environment). The promise is cached; a failed read is forgotten so the next invocation retries
 * (a throttled SSM call should not poison a warm container).
 */
export function configLoader(
  env: Readonly<Record<string, string | undefined>>,
  readParameter: ParameterReader = getParameterValue,
): () => Promise<Config> {
  let cached: Promise<Config> | undefined;
  const read = async (): Promise<Config> => {
    const parameterName = env.CONFIG_SSM_PARAMETER?.trim();
    if (!parameterName) return loadConfig(env);
    const value = await readParameter(parameterName);
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
