import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { fixedClock } from '#shared/base/clock.ts';
import { silentLogger } from '#shared/base/logger.ts';
import { loadConfig } from '#shared/config/settings.ts';
import type { Notifier } from '#shared/notify/notifier.ts';
import { awsLastUsedPrecision, stsWith, type RotationDeps } from '#shared/rotation/deps.ts';

/** The instant rotationDeps' clock stands at unless a test gives its own (a test whose assertions read the time passes its clock). */
const DEPS_NOW = '2026-06-01T12:00:00Z';

/** A notifier for tests that never notify: a step that calls it anyway fails, naming the cause. */
const noNotifier: Notifier = { send: () => Promise.reject(new Error('This test gave rotationDeps no notifier; pass one as an override.')) };

/**
 * The RotationDeps a test hands a step (or its core) when it calls one directly, with the test's own
 * fields as overrides. Runs through the state machine use localDeps (local/runner.ts) instead.
 *
 * The defaults act like the deployed Lambdas, in the stack's own account: fresh SDK clients (unit tests
 * mock them with aws-sdk-client-mock; under moto they reach AWS_ENDPOINT_URL), the default configuration,
 * a clock fixed at DEPS_NOW, a silent logger, IAM's last-use precision (15-minute spans, the default
 * LAST_USED_LAG of the configuration given), no notifier and no member accounts (ownAccountId and
 * forAccount unset).
 */
export function rotationDeps(overrides: Partial<RotationDeps> = {}): RotationDeps {
  const config = overrides.config ?? loadConfig({});
  return {
    iam: new IAMClient({}),
    secretsManager: new SecretsManagerClient({}),
    notifier: noNotifier,
    stsWith,
    config,
    clock: fixedClock(DEPS_NOW),
    logger: silentLogger(),
    durations: {},
    lastUsedPrecision: awsLastUsedPrecision(config),
    fetch: globalThis.fetch,
    httpTimeoutMs: 1_000,
    ...overrides,
  };
}
