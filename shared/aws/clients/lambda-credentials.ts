import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';

/**
 * The credential chain of the deployed bundles: serverless.yml (and bench/cold-start.ts) alias
 * `@aws-sdk/credential-provider-node` to this module. Lambda always hands a function its role's
 * credentials in the environment, so the SDK's default chain would stop at its first link; its
 * other links (SSO, ini files, processes, web identity, container and instance metadata) cost
 * about 110 KB and 30 ms of every cold start. The CLI and local runs are not bundled and keep the
 * full chain.
 */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]): AwsCredentialIdentityProvider => {
  const provider = fromEnv(init);
  return async () => {
    try {
      return await provider();
    } catch (error) {
      throw new Error(
        'No AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY): this bundle is built for AWS Lambda, which sets them. Run the CLI or the local runner from source instead of the bundle.',
        { cause: error },
      );
    }
  };
};
