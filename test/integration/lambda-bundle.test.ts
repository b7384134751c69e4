import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { build, type Metafile } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lambdaBuildOptions } from '../../bench/lambda-build.ts';

// The deployed bundles read credentials from the environment only (serverless.yml aliases the SDK's
// default chain to shared/clients/lambda-credentials.ts). Built here with the same options, a bundle
// must still sign requests with the environment's keys, fail clearly without them, and hold none
// of the chain's other links.
describe('a Lambda bundle built with the deployed esbuild options', () => {
  let outDir: string;
  let bundle: string;
  let metafile: Metafile;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'iam-key-rotator-bundle-'));
    bundle = join(outDir, 'probe.mjs');
    const result = await build({ ...lambdaBuildOptions(), entryPoints: ['test/fixtures/bundle-probe.ts'], outfile: bundle, metafile: true, logLevel: 'error' });
    metafile = result.metafile;
  }, 60_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  const run = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [bundle], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });

  test('signs with the credentials Lambda puts in the environment', () => {
    const result = run({
      AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIAENVIRONMENT00001',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({ users: 0 });
  });

  test('without them it fails naming the variables, and does not fall back to profiles or instance metadata', () => {
    const result = run({ AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL, AWS_REGION: 'us-east-1', AWS_PROFILE: 'someone', HOME: outDir });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('No AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
  });

  test('holds none of the default chain’s other links (SSO, ini, process, web identity, metadata)', () => {
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.some((input) => input.includes('shared/clients/lambda-credentials.ts'))).toBe(true);
    expect(inputs.filter((input) => /credential-provider-(node|ini|sso|process|web-identity|http|imds)|nested-clients/.test(input))).toEqual([]);
  });
});
