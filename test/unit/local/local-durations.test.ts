import { describe, expect, test } from '@jest/globals';
import { LOCAL_DURATIONS, localDefaults, localDurations } from '#local/runner.ts';
import { loadConfig } from '#shared/config/settings.ts';

describe("a local run's waits", () => {
  test('against an emulator (AWS_ENDPOINT_URL) every wait is compressed, the quiet period too', () => {
    // Act
    const defaults = localDefaults(loadConfig({ OLD_KEY_QUIET_PERIOD: '36h' }), { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' });

    // Assess
    expect(defaults).toEqual(LOCAL_DURATIONS);
    expect(defaults.oldKeyQuietMs).toBe(2_000);
  });

  test('in a real account the quiet period is OLD_KEY_QUIET_PERIOD, as deployed (default 24h); the other waits stay compressed', () => {
    // Act
    const configured = localDefaults(loadConfig({ OLD_KEY_QUIET_PERIOD: '36h' }), {});
    const byDefault = localDefaults(loadConfig({}), {});

    // Assess
    expect(configured).toEqual({ ...LOCAL_DURATIONS, oldKeyQuietMs: 36 * 3_600_000 });
    expect(byDefault.oldKeyQuietMs).toBe(24 * 3_600_000);
  });

  test('a quiet period the person names wins over either default', () => {
    // Act
    const durations = localDurations({ oldKeyQuietMs: 90_000 }, localDefaults(loadConfig({}), {}));

    // Assess
    expect(durations.oldKeyQuietMs).toBe(90_000);
    expect(durations.healthCheckIntervalMs).toBe(LOCAL_DURATIONS.healthCheckIntervalMs);
  });
});
