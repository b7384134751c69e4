import { afterEach, describe, expect, test } from '@jest/globals';
import { requireLocalRunnerNode } from '#local/runner-node.ts';

const promise = Promise as { withResolvers?: unknown };
const withResolvers = promise.withResolvers;

describe('requireLocalRunnerNode', () => {
  afterEach(() => {
    promise.withResolvers = withResolvers;
  });

  test('on Node 22 (Promise.withResolvers) the local runner may start', () => {
    // Prepare: the runtime the project's scripts use.

    // Act & Assess
    expect(typeof withResolvers).toBe('function');
    expect(() => requireLocalRunnerNode()).not.toThrow();
  });

  test('on an older Node it is a ConfigError (exit 2) with advice for a clone and for an installed package', () => {
    // Prepare: Node 20 has no Promise.withResolvers.
    delete promise.withResolvers;

    // Act
    let thrown: unknown;
    try {
      requireLocalRunnerNode();
    } catch (error) {
      thrown = error;
    }

    // Assess
    expect(thrown).toMatchObject({ name: 'ConfigError' });
    const message = (thrown as Error).message;
    expect(message).toContain(`needs Node.js 22 or later (aws-local-stepfunctions 3); this is ${process.version}`);
    expect(message).toContain('In a clone, run it through npm');
    expect(message).toContain('install Node.js 22');
    expect(message).toContain('Nothing was changed.');
  });
});
