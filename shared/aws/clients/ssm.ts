import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { serviceEndpoint, signedJsonClient, type JsonRequest } from '../signed-json.ts';

/**
 * SSM's GetParameter for CONFIG_SSM_PARAMETER, as one signed JSON 1.1 request (signed-json.ts) instead
 * of @aws-sdk/client-ssm: that client's 76 KB (mostly its registry of 141 modeled errors, loaded with
 * the client) and 9–12 ms of import were in every function's cold start, for a setting that is off by
 * default. Only Lambda functions read it, where AWS_REGION is always set and the bundles read the
 * role's credentials from the environment (`@aws-sdk/credential-provider-node` is aliased there).
 * Built on first use, so the endpoint and region are read when the configuration is.
 */
let send: ((request: JsonRequest) => Promise<unknown>) | undefined;

function client(): (request: JsonRequest) => Promise<unknown> {
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  send ??= signedJsonClient({
    service: 'ssm',
    region,
    credentials: defaultProvider(),
    endpoint: serviceEndpoint('SSM', `ssm.${region}.amazonaws.com`),
  });
  return send;
}

/** One parameter's decrypted value (CONFIG_SSM_PARAMETER); a missing parameter rejects with an error named ParameterNotFound, as the SDK's does. */
export async function getParameterValue(name: string): Promise<string | undefined> {
  const output = (await client()({
    path: '/',
    body: { Name: name, WithDecryption: true },
    contentType: 'application/x-amz-json-1.1',
    headers: { 'x-amz-target': 'AmazonSSM.GetParameter' },
  })) as { Parameter?: { Value?: unknown } };
  return typeof output.Parameter?.Value === 'string' ? output.Parameter.Value : undefined;
}
