import { MissingCredentialsError, MissingPermissionError, RotatorError, errorMessage } from '#shared/base/errors.ts';

/** Turns SDK failures a person can fix into typed errors with a fix, instead of a stack trace. */
export function explainAwsError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (error instanceof RotatorError) return error;
  const name = error.name;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(error.message)) {
    return new MissingCredentialsError(
      'No AWS credentials found. Set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws sso login`.',
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
