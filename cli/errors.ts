import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, MissingCredentialsError, MissingPermissionError, RotatorError, errorMessage } from '#shared/base/errors.ts';

/** Turns SDK failures a person can fix into typed errors with a fix, instead of a stack trace. */
export function explainAwsError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (error instanceof RotatorError) return error;
  const name = error.name;
  const profile = process.env.AWS_PROFILE;
  const namedProfile = profile !== undefined && profile !== '' ? profile : undefined;
  // A profile that does not exist is the cause of a missing Region too (it would have given one): name the profile.
  const regionMissing = /region is missing/i.test(error.message);
  if (namedProfile !== undefined && (name === 'CredentialsProviderError' || regionMissing) && !profileExists(namedProfile)) {
    // A misspelled profile is bad usage (exit 2), as a missing Region is: nothing was asked of AWS.
    return new ConfigError(
      `AWS profile ${namedProfile} (AWS_PROFILE / --profile) is not in ${configFiles().join(' or ')}. List your profiles with \`aws configure list-profiles\`.`,
      { cause: error },
    );
  }
  if (namedProfile !== undefined && name === 'CredentialsProviderError') {
    return new MissingCredentialsError(
      `AWS profile ${namedProfile} (AWS_PROFILE / --profile) gives no credentials: log in with \`aws sso login --profile ${namedProfile}\`, or check its settings. List your profiles with \`aws configure list-profiles\`.`,
      { cause: error },
    );
  }
  if (regionMissing) {
    return new ConfigError(
      'No AWS Region is set: pass --region eu-west-1, set AWS_REGION, or give your profile a region (`aws configure set region eu-west-1`).',
      { cause: error },
    );
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(error.message)) {
    return new MissingCredentialsError(
      'No AWS credentials found. Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws sso login`.',
      { cause: error },
    );
  }
  // The state machine comes from a setting or a flag: one that is not there is a setting to fix, not a failure.
  if (name === 'StateMachineDoesNotExist' || name === 'InvalidArn') {
    return new ConfigError(
      `${errorMessage(error)}: no such state machine in this account and Region (or not an ARN). Check ROTATION_STATE_MACHINE_ARN (or --state-machine-arn), ` +
        'or name the deployed stack with --stage or --stack, which reads it from the stack outputs.',
      { cause: error },
    );
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'UnauthorizedOperation') {
    const action = /not authorized to perform: ([\w:-]+)/.exec(error.message)?.[1];
    return new MissingPermissionError(
      action
        ? `AWS denied ${action}. Grant the caller ${action} (see "Permissions" in the README) and try again.`
        : `AWS denied the request: ${errorMessage(error)}. Check the caller's IAM permissions (see "Permissions" in the README).`,
      { cause: error },
    );
  }
  return error;
}

function configFiles(): string[] {
  return [
    process.env.AWS_CONFIG_FILE ?? join(homedir(), '.aws', 'config'),
    process.env.AWS_SHARED_CREDENTIALS_FILE ?? join(homedir(), '.aws', 'credentials'),
  ];
}

/** Whether a shared config or credentials file names the profile (`[profile name]`, or `[name]`). */
function profileExists(profile: string): boolean {
  return configFiles().some((file) => {
    try {
      return readFileSync(file, 'utf8')
        .split('\n')
        .some((line) => ['[' + profile + ']', '[profile ' + profile + ']'].includes(line.trim()));
    } catch {
      return false;
    }
  });
}
