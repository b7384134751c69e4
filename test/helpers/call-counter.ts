import type { MetadataBearer, MiddlewareStack } from '@smithy/types';

export interface CallCounter {
  /** Calls per command name, e.g. { ListAccessKeysCommand: 3 }. */
  readonly byCommand: Readonly<Record<string, number>>;
  total(): number;
  reset(): void;
  /** Removes the middleware from the client. */
  detach(): void;
}

let nextId = 0;

/**
 * Counts the API calls a client makes, by command, with an SDK middleware at the initialize step:
 * one count per `send`, whatever the retries underneath. Used by the tests and bench/scan.ts
 * to hold the scanner to its cost.
 */
export function countCalls<Input extends object, Output extends MetadataBearer>(client: {
  readonly middlewareStack: MiddlewareStack<Input, Output>;
}): CallCounter {
  const byCommand: Record<string, number> = {};
  const name = `call-counter-${(nextId += 1)}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? 'unknown';
      byCommand[command] = (byCommand[command] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name },
  );
  return {
    byCommand,
    total: () => Object.values(byCommand).reduce((sum, count) => sum + count, 0),
    reset: () => {
      for (const key of Object.keys(byCommand)) delete byCommand[key];
    },
    detach: () => {
      client.middlewareStack.remove(name);
    },
  };
}
