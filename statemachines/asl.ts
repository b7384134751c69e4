/**
 * The pieces of Amazon States Language (JSONPath flavour) the workflows use, typed by the names of
 * their states, so a `Next` to a state that does not exist, or a state left out, fails `tsc`.
 * The workflows stay JSONPath, not JSONata: aws-local-stepfunctions, which runs them locally and in
 * the tests, ignores JSONata.
 *
 * The builders return plain objects whose key order is the order of the committed JSON:
 * serverless-step-functions deploys `JSON.stringify` of the parsed file, so moving a key would change
 * the deployed definition string (and update the state machine) without changing its meaning.
 */

export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/**
 * A Lambda named by its function key in serverless.yml. serverless-step-functions has no
 * definitionSubstitutions: it finds these objects in the definition, turns them into the function's
 * ARN (Fn::Sub) and grants the state machine lambda:InvokeFunction on exactly those functions.
 */
export type FunctionArn = { readonly 'Fn::GetAtt': readonly [functionKey: string, attribute: 'Arn'] };

export function functionArn(functionKey: string): FunctionArn {
  return { 'Fn::GetAtt': [functionKey, 'Arn'] };
}

export interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds: number;
  readonly MaxAttempts: number;
  readonly BackoffRate: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: 'FULL' | 'NONE';
}

export interface Catcher<N extends string> {
  readonly ErrorEquals: readonly string[];
  readonly ResultPath: string;
  readonly Next: N;
}

/**
 * An error name as the state machine matches it (ErrorEquals, SendTaskFailure), checked against the
 * error class: `errorName<KeyNotYetValidError>('KeyNotYetValidError')` fails `tsc` if the class's
 * `name` says otherwise. Only the type is imported, so no handler code comes into the builders.
 */
export function errorName<E extends { readonly name: string }>(name: E['name']): string {
  return name;
}

/**
 * Lambda's own transient failures, as AWS's Step Functions guide says to retry every lambda:invoke
 * Task on ("Handling Lambda service exceptions"). Each workflow adds its own errors and backoff.
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

/**
 * A ResultSelector that keeps the named fields of the Lambda's result (`$.Payload.<field>`) and
 * nothing else, so a field a handler returns by mistake never reaches the state. `T` is the step's
 * result type: a name it does not have fails `tsc`.
 */
export function fromPayload<T>(...fields: readonly (keyof T & string)[]): Record<string, string> {
  return Object.fromEntries(fields.map((field) => [`${field}.$`, `$.Payload.${field}`]));
}

/** `Next` to another state, or the end of the (sub-)workflow. */
export type Transition<N extends string> = { readonly next: N } | { readonly end: true };

/** The Lambda's event: a template (keys ending in `.$` are paths), or the value at one path, whole. */
export type PayloadOption = { readonly payload: { readonly [key: string]: Json } } | { readonly payloadPath: string };

export interface LambdaTaskOptions<N extends string> {
  readonly comment?: string;
  /** `.waitForTaskToken`: the task waits until someone calls SendTaskSuccess/Failure with `$$.Task.Token`. */
  readonly waitForTaskToken?: boolean;
  readonly timeoutSecondsPath?: string;
  readonly resultSelector?: { readonly [key: string]: Json };
  /** Where the result goes; null discards it (the state passes through unchanged). Absent: the result replaces the state. */
  readonly resultPath?: string | null;
  /** null: the state's output is `{}` (a Map's last state whose output the Map would otherwise gather). */
  readonly outputPath?: null;
  readonly retry: readonly Retrier[];
  readonly catch?: readonly Catcher<N>[];
}

export interface TaskState<N extends string> {
  readonly Comment?: string;
  readonly Type: 'Task';
  readonly Resource: string;
  readonly Parameters: {
    readonly FunctionName: FunctionArn;
    readonly Payload?: { readonly [key: string]: Json };
    readonly 'Payload.$'?: string;
  };
  readonly TimeoutSecondsPath?: string;
  readonly ResultSelector?: { readonly [key: string]: Json };
  readonly ResultPath?: string | null;
  readonly OutputPath?: null;
  readonly Retry: readonly Retrier[];
  readonly Catch?: readonly Catcher<N>[];
  readonly Next?: N;
  readonly End?: true;
}

/** A Task that invokes one of the stack's Lambdas through the optimised integration (`arn:aws:states:::lambda:invoke`). */
export function lambdaTask<N extends string>(
  functionKey: string,
  options: LambdaTaskOptions<N> & PayloadOption & Transition<N>,
): TaskState<N> {
  return {
    ...(options.comment === undefined ? {} : { Comment: options.comment }),
    Type: 'Task',
    Resource: options.waitForTaskToken ? 'arn:aws:states:::lambda:invoke.waitForTaskToken' : 'arn:aws:states:::lambda:invoke',
    Parameters: {
      FunctionName: functionArn(functionKey),
      ...('payloadPath' in options ? { 'Payload.$': options.payloadPath } : { Payload: options.payload }),
    },
    ...(options.timeoutSecondsPath === undefined ? {} : { TimeoutSecondsPath: options.timeoutSecondsPath }),
    ...(options.resultSelector === undefined ? {} : { ResultSelector: options.resultSelector }),
    ...(options.resultPath === undefined ? {} : { ResultPath: options.resultPath }),
    ...(options.outputPath === undefined ? {} : { OutputPath: options.outputPath }),
    Retry: options.retry,
    ...(options.catch === undefined ? {} : { Catch: options.catch }),
    ...('next' in options ? { Next: options.next } : { End: true }),
  };
}

export type Condition =
  | ({ readonly Variable: string } & ({ readonly StringEquals: string } | { readonly IsPresent: boolean }))
  | { readonly And: readonly Condition[] }
  | { readonly Not: Condition };

export type ChoiceRule<N extends string> = Condition & { readonly Next: N };

export interface ChoiceState<N extends string> {
  readonly Type: 'Choice';
  readonly Comment?: string;
  readonly Choices: readonly ChoiceRule<N>[];
  readonly Default: N;
}

export interface PassState<N extends string> {
  readonly Type: 'Pass';
  readonly Comment?: string;
  readonly Result?: Json;
  readonly Parameters?: { readonly [key: string]: Json };
  readonly ResultPath?: string | null;
  readonly Next?: N;
  readonly End?: true;
}

export interface WaitState<N extends string> {
  readonly Type: 'Wait';
  readonly Comment?: string;
  readonly SecondsPath: string;
  readonly Next: N;
}

export interface SucceedState {
  readonly Type: 'Succeed';
  readonly Comment?: string;
}

export interface FailState {
  readonly Type: 'Fail';
  readonly ErrorPath: string;
  readonly CausePath: string;
}

export interface MapState<N extends string, M extends string> {
  readonly Type: 'Map';
  readonly Comment?: string;
  readonly ItemsPath: string;
  readonly ItemSelector: { readonly [key: string]: Json };
  readonly MaxConcurrency?: number;
  readonly MaxConcurrencyPath?: string;
  /** Distributed mode only: the share of child executions that may fail before the Map Run fails (default 0). */
  readonly ToleratedFailurePercentage?: number;
  readonly ItemProcessor: {
    readonly ProcessorConfig: { readonly Mode: 'DISTRIBUTED' | 'INLINE'; readonly ExecutionType?: 'STANDARD' | 'EXPRESS' };
    readonly StartAt: M;
    readonly States: { readonly [K in M]: State<M> };
  };
  /** null discards the gathered results from the state; they still count toward the 256 KB limit (see scan-organization.ts). */
  readonly ResultPath: string | null;
  readonly Next?: N;
  readonly End?: true;
}

// A Map's ItemProcessor names its states with its own parameter M; a Map nested in it types its own
// states as plain strings (State<string>), which the drift test and the local runner still check.
export type State<N extends string> =
  TaskState<N> | ChoiceState<N> | PassState<N> | WaitState<N> | SucceedState | FailState | MapState<N, string>;

/** A whole workflow: every name of N is a state, and every transition names one of them. */
export interface StateMachine<N extends string> {
  readonly Comment: string;
  readonly StartAt: N;
  readonly States: { readonly [K in N]: State<N> };
}

/** The committed file's text: what `npm run build:asl` writes and the drift test compares. */
export function aslJson(definition: StateMachine<string>): string {
  return `${JSON.stringify(definition, null, 2)}\n`;
}
