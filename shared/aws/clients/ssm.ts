import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { CLIENT_DEFAULTS } from './defaults.ts';

/** Created once per Lambda container (module scope); only the functions that import this module bundle the client. */
export const ssm = new SSMClient(CLIENT_DEFAULTS);

/** One parameter's decrypted value (CONFIG_SSM_PARAMETER). */
export async function getParameterValue(name: string): Promise<string | undefined> {
  const response = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  return response.Parameter?.Value;
}
