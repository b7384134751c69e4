import { AsyncLocalStorage } from 'node:async_hooks';
import type { MetadataBearer, MiddlewareStack } from '@smithy/types';

/**
 * Fault injection at the SDK level: a middleware on the clients handed to the local runner fails a
 * chosen AWS call the way AWS (or Lambda) would, so the real handlers, the real `typedErrors`
 * middleware and the real ASL Retry/Catch decide what happens next. No handler is edited.
 *
 * Calls are keyed by command name and ordinal, optionally within one state of the workflow: the
 * runner's `wrapTask` hook runs each Task inside `FaultInjector.inState`, so the middleware knows
 * which state made a call.
 */

export const SDK_FAULTS = ['throttling', '5xx', 'timeout', 'crash-after'] as const;
export type SdkFault = (typeof SDK_FAULTS)[number];
/** Every fault of the matrix: the SDK faults plus the step delivered twice (done by `duplicateDelivery`). */
export const FAULTS = [...SDK_FAULTS, 'twice'] as const;
export type Fault = (typeof FAULTS)[number];
/** Faults a scenario uses to shape a run (not a column of the matrix): a permission AWS refuses, never retried. */
export type InjectedFault = SdkFault | 'access-denied';

export interface FaultRule {
  readonly fault: InjectedFault;
  /** e.g. `CreateAccessKeyCommand`, `GetCallerIdentityCommand`. */
  readonly command: string;
  /** Only calls made while this state runs count (default: any state, or outside the workflow). */
  readonly state?: string;
  /** Which matching call fails, from 1. */
  readonly occurrence: number;
}

export interface SdkCall {
  readonly state: string | undefined;
  readonly command: string;
  readonly input: unknown;
  readonly at: number;
  /** The fault injected into this call, if any. */
  readonly fault?: InjectedFault;
  /** False when the call failed (injected or not). */
  readonly ok: boolean;
}

interface Stackable {
  readonly middlewareStack: MiddlewareStack<object, MetadataBearer>;
}

/** An error shaped like the SDK's, so `isTransient` and the ASL see what they would see in AWS. */
function faultError(fault: InjectedFault, command: string): Error {
  switch (fault) {
    case 'access-denied':
      return Object.assign(new Error(`User is not authorized to perform: ${command.replace(/Command$/, '')} (injected)`), {
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
      });
    case 'throttling':
      return Object.assign(new Error(`Rate exceeded (injected on ${command})`), {
        name: 'ThrottlingException',
        $fault: 'client',
        $retryable: { throttling: true },
        $metadata: { httpStatusCode: 400, attempts: 3 },
      });
    case '5xx':
      return Object.assign(new Error(`We encountered an internal error. Please try again. (injected on ${command})`), {
        name: 'InternalFailure',
        $fault: 'server',
        $metadata: { httpStatusCode: 500, attempts: 3 },
      });
    case 'timeout':
      return Object.assign(new Error(`Connection timed out after 5000 ms (injected on ${command})`), {
        name: 'TimeoutError',
        code: 'ETIMEDOUT',
      });
    case 'crash-after':
      // What Step Functions reports when the Lambda dies (timeout, out of memory) after its AWS call went through.
      return Object.assign(new Error(`Task timed out after the ${command} call succeeded (injected crash)`), { name: 'Sandbox.Timedout' });
  }
}

export class FaultInjector {
  private readonly current = new AsyncLocalStorage<string>();
  private readonly counts = new Map<string, number>();
  private nextId = 0;
  /** Every call made through an attached client, in order. */
  readonly calls: SdkCall[] = [];

  constructor(private rules: readonly FaultRule[] = []) {}

  /** Replaces the rules and their counters (e.g. none for a redrive). */
  setRules(rules: readonly FaultRule[]): void {
    this.rules = rules;
    this.counts.clear();
  }

  get fired(): SdkCall[] {
    return this.calls.filter((call) => call.fault !== undefined);
  }

  /** Runs `fn` as the given state: calls it makes are attributed to that state. */
  inState<T>(state: string, fn: () => Promise<T>): Promise<T> {
    return this.current.run(state, fn);
  }

  /** Adds the fault middleware to a client; returns the client. */
  attach<C extends Stackable>(client: C): C {
    this.nextId += 1;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName ?? 'unknown';
        const state = this.current.getStore();
        const rule = this.match(command, state);
        const record = (ok: boolean, fault?: InjectedFault): void => {
          this.calls.push({ state, command, input: args.input, at: Date.now(), ok, ...(fault ? { fault } : {}) });
        };
        if (rule && rule.fault !== 'crash-after') {
          record(false, rule.fault);
          throw faultError(rule.fault, command);
        }
        let result: Awaited<ReturnType<typeof next>>;
        try {
          result = await next(args);
        } catch (error) {
          record(false);
          throw error;
        }
        if (rule) {
          record(true, rule.fault);
          throw faultError(rule.fault, command);
        }
        record(true);
        return result;
      },
      // Above the SDK's retry middleware: the step sees the error as if the SDK had given up.
      { step: 'initialize', name: `fault-injector-${this.nextId}`, priority: 'high' },
    );
    return client;
  }

  private match(command: string, state: string | undefined): FaultRule | undefined {
    for (const [index, rule] of this.rules.entries()) {
      if (rule.command !== command || (rule.state !== undefined && rule.state !== state)) continue;
      const key = String(index);
      const seen = (this.counts.get(key) ?? 0) + 1;
      this.counts.set(key, seen);
      if (seen === rule.occurrence) return rule;
    }
    return undefined;
  }
}

/** A run's Task wrapper and how many extra deliveries it made. */
export interface TaskWrapper {
  readonly wrapTask: (state: string, run: (payload: unknown) => Promise<unknown>) => (payload: unknown) => Promise<unknown>;
  readonly duplicates: () => number;
}

/**
 * The runner's `wrapTask` for the fault matrix: attributes each Task's calls to its state and,
 * for the `twice` fault, delivers the chosen step twice (as Lambda's or Step Functions' retry of a
 * step that did its work but whose answer was lost): both runs happen, the second one's result counts.
 */
export function taskWrapper(injector: FaultInjector, twice?: { readonly state: string; readonly times?: number }): TaskWrapper {
  let delivered = 0;
  return {
    duplicates: () => delivered,
    wrapTask: (state, run) => (payload) =>
      injector.inState(state, async () => {
        if (twice?.state === state && delivered < (twice.times ?? 1)) {
          delivered += 1;
          // The first delivery's answer is lost, whatever it was; only its side effects remain.
          await run(structuredClone(payload)).catch(() => undefined);
        }
        return run(payload);
      }),
  };
}
