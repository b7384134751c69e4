import middy, { type MiddlewareObj } from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type * as z from 'zod/mini';
import { AwsTransientError, RotatorError, errorMessage } from '../base/errors.ts';
import type { Logger } from '@aws-lambda-powertools/logger';
import { logger as defaultLogger } from '../base/logger.ts';
import { inAccount, inAccountOrUnreachable, stepAccountId } from './step-account.ts';
import type { DepsProvider, RotationDeps } from './deps.ts';
import { parseStepInput } from './workflow-state.ts';

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalServiceError',
  'InternalServiceErrorException',
  'TimeoutError',
  'ECONNRESET',
  'ETIMEDOUT',
]);

interface SdkErrorShape {
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly code?: unknown;
}

/** Throttling and service errors the SDK gave up on become AwsTransientError, which the state machine retries with backoff. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof RotatorError) return false;
  const shape = error as Error & SdkErrorShape;
  const status = shape.$metadata?.httpStatusCode ?? 0;
  return (
    shape.$retryable !== undefined ||
    status >= 500 ||
    status === 429 ||
    TRANSIENT_NAMES.has(error.name) ||
    TRANSIENT_NAMES.has(String(shape.code ?? ''))
  );
}

/**
 * Gives every failure a name the ASL can match: typed business errors pass through (never retried),
 * transient AWS failures become AwsTransientError (retried), anything else keeps its own name and
 * reaches the catch-all. Logs the error's name and message only, never the event.
 */
export function typedErrors(step: string, logger: Logger): MiddlewareObj {
  return {
    onError: (request) => {
      const error = request.error;
      if (isTransient(error))
        request.error = new AwsTransientError(
          `${step}: AWS is throttling or failing (${errorMessage(error)}); the step is retried with backoff.`,
          { cause: error },
        );
      logger.error('step failed', { step, errorName: request.error?.name, detail: errorMessage(request.error) });
    },
  };
}

export interface StepOptions {
  /** Run even when the member account's role cannot be assumed, with clients that fail (Notify: the failure notice must go out). */
  readonly runWhenAccountUnreachable?: boolean;
}

/**
 * A step's Lambda handler: parse the state with zod, call the core with its dependencies (in the
 * account the state names), return
 * its (secret-free) result. Each function file exports the factory (the local runner passes its own
 * dependencies and logger) and `handler`, built with the Lambda's.
 */
export function stepHandler<S extends z.ZodMiniType, R>(
  step: string,
  schema: S,
  run: (input: z.output<S>, deps: RotationDeps) => Promise<R>,
  options: StepOptions = {},
) {
  const scope = options.runWhenAccountUnreachable ? inAccountOrUnreachable : inAccount;
  return (deps: DepsProvider, logger: Logger = defaultLogger) =>
    middy(async (event: unknown): Promise<R> => {
      const input = parseStepInput(schema, step, event);
      // Every step acts in the account its input names (organization-wide rotation), the stack's own by default.
      return run(input, await scope(await deps(), stepAccountId(event)));
    })
      // Never the event, whatever POWERTOOLS_LOGGER_LOG_EVENT says (an explicit logEvent wins over the
      // variable in Powertools' Logger.shouldLogEvent): AwaitConfirmation's event holds the task token
      // that confirms or aborts a rotation, and no step's event belongs in a log.
      .use(injectLambdaContext(logger, { logEvent: false }))
      .use(typedErrors(step, logger));
}
