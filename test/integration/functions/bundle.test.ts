import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { DeleteParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { build, type Metafile } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lambdaBuildOptions } from '../../../bench/lambda-build.ts';

// The deployed bundles are built with serverless.yml's custom.esbuild: CommonJS, credentials from
// the environment only (the SDK's default chain is aliased to shared/aws/clients/lambda-credentials.ts),
// no event-stream codec. Built here with the same options, bundles must still work against moto.
describe('a Lambda bundle built with the deployed esbuild options', () => {
  interface Bundle {
    readonly file: string;
    readonly metafile: Metafile;
  }
  let outDir: string;
  let iamProbe: Bundle;
  let configProbe: Bundle;

  const bundle = async (entry: string, name: string): Promise<Bundle> => {
    const file = join(outDir, `${name}.cjs`);
    const result = await build({ ...lambdaBuildOptions(), entryPoints: [entry], outfile: file, metafile: true, logLevel: 'error' });
    return { file, metafile: result.metafile };
  };

  beforeAll(async () => {
    // Prepare
    outDir = mkdtempSync(join(tmpdir(), 'iam-key-rotator-bundle-'));

    // Act: build both probes with the deployed options (the metafile tests below check only this).
    iamProbe = await bundle('test/fixtures/bundle-probe.ts', 'iam');
    configProbe = await bundle('test/fixtures/bundle-config-probe.ts', 'config');
  }, 60_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  const credentials = { AWS_ACCESS_KEY_ID: 'AKIAENVIRONMENT00001', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' };
  // As Lambda loads a .cjs handler: require(), in a process of its own.
  const run = (bundle: string, env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, ['-e', `require(${JSON.stringify(bundle)})`], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ...env },
    });
  const inputsOf = (metafile: Metafile): string[] => Object.keys(metafile.inputs);
  /** The inputs with code in the bundle (esbuild lists every file it read, tree-shaken or not). */
  const keptInputsOf = (metafile: Metafile): string[] =>
    Object.values(metafile.outputs).flatMap((output) =>
      Object.entries(output.inputs)
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([path]) => path),
    );

  test('signs with the credentials Lambda puts in the environment', () => {
    // Act
    const result = run(iamProbe.file, { AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL, AWS_REGION: 'us-east-1', ...credentials });

    // Assess
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ users: 0 });
  });

  test('without them it fails naming the variables, and does not fall back to profiles or instance metadata', () => {
    // Act: run without credentials in the environment, with a profile and a HOME to look in.
    const result = run(iamProbe.file, {
      AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL,
      AWS_REGION: 'us-east-1',
      AWS_PROFILE: 'someone',
      HOME: outDir,
    });

    // Assess
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('No AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
  });

  test('holds none of the default chain’s other links (SSO, ini, process, web identity, metadata)', () => {
    // Assess
    const inputs = inputsOf(iamProbe.metafile);
    expect(inputs.some((input) => input.includes('shared/aws/clients/lambda-credentials.ts'))).toBe(true);
    expect(
      inputs.filter((input) => /credential-provider-(node|ini|sso|process|web-identity|http|imds)|nested-clients/.test(input)),
    ).toEqual([]);
  });

  describe('the configuration parameter (CONFIG_SSM_PARAMETER)', () => {
    const parameterName = '/iam-key-rotator/bundle-probe';
    const ssm = new SSMClient({});

    beforeAll(async () => {
      await ssm.send(
        new PutParameterCommand({ Name: parameterName, Type: 'SecureString', Value: '{"ROTATION_MAX_AGE_DAYS":"30"}', Overwrite: true }),
      );
    });

    afterAll(async () => {
      await ssm.send(new DeleteParameterCommand({ Name: parameterName }));
    });

    const env = { AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL, AWS_REGION: 'us-east-1', ...credentials, ROTATION_MAX_AGE_DAYS: '60' };

    test('is read with one signed GetParameter request when set, and wins over the environment', () => {
      // Act
      const result = run(configProbe.file, { ...env, CONFIG_SSM_PARAMETER: parameterName });

      // Assess
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout)).toEqual({ maxAgeDays: 30 });
    });

    test('a missing parameter fails with SSM’s own ParameterNotFound', () => {
      // Act
      const result = run(configProbe.file, { ...env, CONFIG_SSM_PARAMETER: '/iam-key-rotator/no-such-parameter' });

      // Assess
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('ParameterNotFound');
    });

    test('is not needed without it: the environment alone configures the function', () => {
      // Act
      const result = run(configProbe.file, { AWS_REGION: 'us-east-1', ROTATION_MAX_AGE_DAYS: '60' });

      // Assess
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout)).toEqual({ maxAgeDays: 60 });
    });

    test('the bundle holds no SSM client (76 KB, mostly its error registry): the signed request stands in for it', () => {
      // Assess
      const kept = keptInputsOf(configProbe.metafile);
      expect(kept.filter((input) => input.includes('@aws-sdk/client-ssm'))).toEqual([]);
      expect(kept.some((input) => input.includes('shared/aws/signed-json.ts'))).toBe(true);
    });
  });

  test('bundles no event-stream codec (none of our services streams events)', () => {
    // Assess
    const inputs = inputsOf(configProbe.metafile);
    expect(inputs.some((input) => input.includes('shared/aws/clients/no-event-streams.ts'))).toBe(true);
    // Not even read: the SDK's lazy import() of the codec resolves to the stub.
    expect(inputs.filter((input) => input.includes('submodules/event-streams'))).toEqual([]);
  });
});
