import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../../helpers/paths.ts';

// A module-scope `new XClient()` (or `new Metrics()`) anywhere in a function's import graph is
// bundled even when the function never uses it: esbuild cannot drop a constructor call. Functions
// therefore import the per-client modules they use, never the barrels that create them all.
const functionsDir = repoPath('functions');
const functions = readdirSync(functionsDir).filter((file) => file.endsWith('.ts'));
const source = (file: string): string => readFileSync(join(functionsDir, file), 'utf8');

describe('Lambda functions bundle only the SDK clients they use', () => {
  test.each(functions)('%s does not import the all-clients barrel (shared/aws/clients.ts)', (file) => {
    // Assess
    expect(source(file)).not.toMatch(/from '#shared\/aws\/clients\.ts'/);
  });

  test.each(functions.filter((file) => file !== 'scan-keys.ts'))(
    '%s takes its logger from shared/base/logger.ts, not Metrics with it from shared/base/metrics.ts',
    (file) => {
      // Assess
      expect(source(file)).not.toMatch(/from '#shared\/base\/metrics\.ts'/);
    },
  );

  test.each(functions.filter((file) => file.startsWith('rotate-') || file === 'notify.ts'))(
    '%s builds its dependencies with lambdaDeps from explicit clients',
    (file) => {
      // Assess
      expect(source(file)).toMatch(/lambdaDeps\(\{\s*iam[\s,}]/);
    },
  );
});

describe('lambdaDeps without an optional client', () => {
  test('a step that uses a client its function was built without fails with a ConfigError naming it', async () => {
    // Prepare: deps built with only an IAM client.
    const { lambdaDeps } = await import('#shared/rotation/deps.ts');
    const { IAMClient } = await import('@aws-sdk/client-iam');
    const deps = await lambdaDeps({ iam: new IAMClient({}) })();

    // Act & Assess
    expect(() => deps.secretsManager.send).toThrow(/Secrets Manager client is not available in this Lambda function/);
    await expect(deps.notifier.send({ facts: { event: 'started', userName: 'u' } as never, dedupeId: 'd', keepForMs: 1 })).rejects.toThrow(
      /notifier/,
    );
    expect(() => deps.stsWith({ accessKeyId: 'a', secretAccessKey: 'b' })).toThrow(/STS/);
    expect(deps.confirmationTokens).toBeUndefined();
  });
});
