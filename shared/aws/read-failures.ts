import { AwsTransientError, RotatorError } from '../base/errors.ts';

/**
 * Why CloudTrail evidence could not be read, from the error a read ended with. Each kind is something
 * a person fixes or waits out (a permission, a region, a log group, the rate limit, an outage), and a
 * source reports it rather than throwing: who uses a key is evidence for a decision, and a missing
 * permission must not fail the rotation that asked. An error of no kind here (a request we built
 * wrong, a bug) is thrown on.
 */
export type FailureKind = 'denied' | 'refused' | 'not-found' | 'throttled' | 'unreachable';

const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'Client.UnauthorizedOperation', 'NotAuthorized']);
/** The account or the credentials cannot call the service there at all: a region not enabled answers UnrecognizedClientException. */
const REFUSED = new Set([
  'OptInRequired',
  'SubscriptionRequiredException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'CloudTrailInvalidClientTokenIdException',
  'ExpiredToken',
  'ExpiredTokenException',
  'OperationNotPermittedException',
]);
const NOT_FOUND = new Set(['ResourceNotFoundException']);
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
]);
const UNREACHABLE = new Set([
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServerError',
  'InternalServerException',
  'InternalServiceError',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH']);

interface SdkErrorShape {
  readonly $fault?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly code?: unknown;
}

export function failureKind(error: unknown): FailureKind | undefined {
  // The rate gate gives up waiting with AwsTransientError: the quota is taken by other readers.
  if (error instanceof AwsTransientError) return 'throttled';
  if (!(error instanceof Error) || error instanceof RotatorError) return undefined;
  const shape = error as Error & SdkErrorShape;
  const status = shape.$metadata?.httpStatusCode ?? 0;
  if (THROTTLED.has(error.name) || status === 429) return 'throttled';
  if (DENIED.has(error.name)) return 'denied';
  if (REFUSED.has(error.name)) return 'refused';
  if (NOT_FOUND.has(error.name)) return 'not-found';
  if (UNREACHABLE.has(error.name) || shape.$fault === 'server' || status >= 500 || NETWORK_CODES.has(String(shape.code ?? '')))
    return 'unreachable';
  return undefined;
}

/** The name a report shows for a failure: the SDK error's name, or its network code. */
export function failureName(error: unknown): string {
  if (!(error instanceof Error)) return 'Error';
  const code = (error as Error & SdkErrorShape).code;
  return error.name === 'Error' && typeof code === 'string' ? code : error.name;
}
