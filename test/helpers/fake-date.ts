import { jest } from '@jest/globals';

/**
 * Moves `Date` `days` ahead and nothing else (timers, ticks and microtasks stay real): moto stamps
 * keys with the real time and cannot backdate them, so a CLI run that reads the clock itself sees
 * its keys that much older. Undo with `jest.useRealTimers()`.
 */
export function moveDateForward(days: number): void {
  jest.useFakeTimers({
    now: Date.now() + days * 86_400_000,
    advanceTimers: true,
    doNotFake: [
      'nextTick',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
      'queueMicrotask',
    ],
  });
}
