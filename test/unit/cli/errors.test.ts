import { afterEach, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explainAwsError } from '../../../cli/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'cli-errors-'));
const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});
const sdkError = (name: string, message: string): Error => Object.assign(new Error(message), { name });

describe('explainAwsError: SDK failures a person can fix', () => {
  test('AWS_PROFILE names a profile no config file has: bad usage (ConfigError, exit 2) naming it and the files read', () => {
    // Prepare
    writeFileSync(join(dir, 'config'), '[profile work]\nregion = eu-west-1\n');
    Object.assign(process.env, {
      AWS_PROFILE: 'nosuch',
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
    });

    // Act
    const explained = explainAwsError(sdkError('CredentialsProviderError', 'Could not load credentials from any providers'));

    // Assess
    expect(explained).toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining(`AWS profile nosuch (AWS_PROFILE / --profile) is not in ${join(dir, 'config')}`),
    });
  });

  test('a profile that exists but gives no credentials says how to log in', () => {
    // Prepare
    Object.assign(process.env, { AWS_PROFILE: 'work', AWS_CONFIG_FILE: join(dir, 'config') });

    // Act & Assess
    expect(explainAwsError(sdkError('CredentialsProviderError', 'Could not load credentials'))).toMatchObject({
      name: 'MissingCredentialsError',
      message: expect.stringContaining('aws sso login --profile work'),
    });
  });

  test('a missing region under a profile that does not exist names the profile, the cause of both', () => {
    // Prepare
    Object.assign(process.env, {
      AWS_PROFILE: 'nosuch',
      AWS_CONFIG_FILE: join(dir, 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
    });

    // Act & Assess
    expect(explainAwsError(sdkError('Error', 'Region is missing'))).toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining('AWS profile nosuch (AWS_PROFILE / --profile) is not in'),
    });
  });

  test('a missing region says how to set one', () => {
    // Act & Assess
    expect(explainAwsError(sdkError('Error', 'Region is missing'))).toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining('pass --region eu-west-1, set AWS_REGION'),
    });
    rmSync(dir, { recursive: true, force: true });
  });
});
