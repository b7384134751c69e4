// Types of what consumer/credential-process.mjs exports, for the tests that check its decisions against
// the Node provider's (the script itself stays plain JavaScript, run by `node` with no build step).

export interface StoredKey {
  readonly AccessKeyId: string;
  readonly SecretAccessKey: string;
}

export interface CachePolicy {
  readonly ttlMs: number;
  readonly ttlJitter: number;
  readonly minReadIntervalMs: number;
  readonly errorBackoffMs: number;
  readonly maxErrorBackoffMs: number;
}

export interface CacheState {
  readonly key?: StoredKey;
  readonly freshUntil: number;
  readonly refused: boolean;
  readonly lastReadAt: number;
  readonly failures: number;
  readonly lastError?: { readonly name: string; readonly message: string };
  readonly retryAt: number;
}

export type NextStep =
  | { readonly kind: 'use'; readonly key: StoredKey }
  | { readonly kind: 'read' }
  | { readonly kind: 'wait'; readonly until: number }
  | { readonly kind: 'fail' };

export const EMPTY_CACHE: CacheState;
export function nextStep(state: CacheState, policy: CachePolicy, now: number): NextStep;
export function afterRead(key: StoredKey, policy: CachePolicy, startedAt: number, random: number): CacheState;
export function afterFailure(state: CacheState, policy: CachePolicy, startedAt: number, error: unknown, random: number): CacheState;
export function readCache(path: string, secretId: string): CacheState;
export function writeCache(path: string, secretId: string, state: CacheState): void;
