import { describe, expect, test } from '@jest/globals';
import { loadConfig, parseSsmOverrides, STACK_ONLY_SETTINGS } from '#shared/config/settings.ts';
import { ConfigError } from '#shared/base/errors.ts';

describe('loadConfig', () => {
  test('an empty environment gives the documented defaults', () => {
    // Act
    const config = loadConfig({});

    // Assess
    expect(config.maxAgeDays).toBe(90);
    expect(config.warnDays).toBe(14);
    expect(config.unusedAfterDays).toBe(45);
    expect(config.unusedAction).toBe('notify');
    expect(config.maxStartsPerRun).toBe(25);
    expect(config.healthChecks).toEqual(['consumers-moved', 'old-key-idle']);
    expect(config.healthCheckIntervalMs).toBe(3_600_000);
    expect(config.healthCheckDeadlineMs).toBe(7 * 86_400_000);
    expect(config.observationMs).toBe(7 * 86_400_000);
    expect(config.secretNamePrefix).toBe('iam-key-rotator/');
  });

  test('settings are read from the environment and lists are split', () => {
    // Act
    const config = loadConfig({
      ROTATION_MAX_AGE_DAYS: '60',
      EXEMPT_PATHS: '/service/, /legacy/',
      HEALTH_CHECKS: 'new-key-used,old-key-idle',
    });

    // Assess
    expect(config.maxAgeDays).toBe(60);
    expect(config.exemptPaths).toEqual(['/service/', '/legacy/']);
    expect(config.healthChecks).toEqual(['new-key-used', 'old-key-idle']);
  });

  test('no CloudTrail log group unless one is named, and a name that cannot be a log group is refused', () => {
    // Act & Assess
    expect(loadConfig({}).cloudtrailLogGroup).toBe('');
    expect(loadConfig({ CLOUDTRAIL_LOG_GROUP: 'aws-cloudtrail-logs-123456789012-org' }).cloudtrailLogGroup).toBe(
      'aws-cloudtrail-logs-123456789012-org',
    );
    expect(() => loadConfig({ CLOUDTRAIL_LOG_GROUP: 'trail group*' })).toThrow(/CLOUDTRAIL_LOG_GROUP must be a CloudWatch Logs group name/);
  });

  test.each([
    ['ROTATION_MAX_AGE_DAYS', 'ninety'],
    ['ROTATION_MAX_AGE_DAYS', '0'],
    ['ROTATION_MAX_AGE_DAYS', '-5'],
    ['UNUSED_KEY_ACTION', 'delete'],
    ['HEALTH_CHECK_INTERVAL', '0s'],
    ['HEALTH_CHECK_INTERVAL', '-1h'],
    ['OBSERVATION_PERIOD', 'forever'],
    ['HEALTH_CHECKS', 'pray'],
    ['MAX_ROTATIONS_PER_RUN', '2.5'],
  ])('%s=%s is refused with a message that names the setting', (name, value) => {
    // Act & Assess
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  test('a warning window as long as the rotation age is refused', () => {
    // Act & Assess
    expect(() => loadConfig({ ROTATION_MAX_AGE_DAYS: '30', ROTATION_WARN_DAYS: '30' })).toThrow(/ROTATION_WARN_DAYS/);
  });

  test('the http check without URLs is refused', () => {
    // Act & Assess
    expect(() => loadConfig({ HEALTH_CHECKS: 'http' })).toThrow(/HEALTH_CHECK_URLS/);
  });

  test('waits that could take a rotation past the execution history bound are refused, naming the settings, the events, the bound and the smallest interval', () => {
    // Act & Assess
    expect(() => loadConfig({ HEALTH_CHECK_INTERVAL: '5m' })).toThrow(ConfigError);
    expect(() => loadConfig({ HEALTH_CHECK_INTERVAL: '5m' })).toThrow(
      /HEALTH_CHECK_INTERVAL=5m with HEALTH_CHECK_DEADLINE=7d and OBSERVATION_PERIOD=7d could take one rotation's execution history to 109,292 events .*above the bound of 22,500.*the smallest HEALTH_CHECK_INTERVAL allowed is 1483s/,
    );
  });

  test.each([
    ['1483s', true],
    ['1482s', false],
  ])('HEALTH_CHECK_INTERVAL=%s with the default 7d deadline and observation: accepted %s (the edge of the bound)', (interval, accepted) => {
    // Act
    const load = () => loadConfig({ HEALTH_CHECK_INTERVAL: interval });

    // Assess
    if (accepted) expect(load().healthCheckIntervalMs).toBe(1_483_000);
    else expect(load).toThrow(/above the bound of 22,500/);
  });

  test('a deadline set from SSM that passes the bound is refused, and the message says the SSM parameter set it', () => {
    // Prepare
    const overrides = parseSsmOverrides('/rotator/config', '{"HEALTH_CHECK_DEADLINE": "60d"}');

    // Act & Assess
    expect(() => loadConfig({}, overrides)).toThrow(/HEALTH_CHECK_DEADLINE=60d \(from the SSM parameter CONFIG_SSM_PARAMETER\)/);
  });

  test('SSM overrides win over the environment', () => {
    // Prepare: an SSM parameter that sets the rotation age.
    const overrides = parseSsmOverrides('/rotator/config', '{"ROTATION_MAX_AGE_DAYS": 45}');

    // Act & Assess
    expect(loadConfig({ ROTATION_MAX_AGE_DAYS: '90' }, overrides).maxAgeDays).toBe(45);
  });

  test.each([['not json'], ['[1,2]'], ['{"NO_SUCH_SETTING":"1"}']])('SSM value %s is refused', (value) => {
    // Act & Assess
    expect(() => parseSsmOverrides('/rotator/config', value)).toThrow(ConfigError);
  });

  test('the settings that decide where keys and notices go, or whose roles are assumed, are stack-only', () => {
    // Assess
    expect([...STACK_ONLY_SETTINGS].sort()).toEqual(
      [
        'CLOUDTRAIL_LOG_GROUP',
        'COMPROMISE_REVOKE_ROLE_SESSIONS',
        'MEMBER_ROLE_EXTERNAL_ID',
        'MEMBER_ROLE_NAME',
        'NOTIFICATION_LEDGER_TABLE',
        'NOTIFICATION_TOPIC_ARN',
        'ORG_EXCLUDE_ACCOUNTS',
        'ORG_EXCLUDE_OUS',
        'ORG_EXCLUDE_TAGS',
        'ORG_INCLUDE_ACCOUNTS',
        'ORG_INCLUDE_OUS',
        'ORG_INCLUDE_TAGS',
        'ORG_SCAN_STATE_MACHINE_ARN',
        'ROTATION_STATE_MACHINE_ARN',
        'ROTATION_USER_PATH',
        'ROTATION_USER_TAG_VALUE',
        'SCAN_SCOPE',
        'SECRET_KMS_KEY_ID',
        'SECRET_NAME_PREFIX',
        // The stack grants the Security Hub write only when its parameter is on.
        'SECURITY_HUB_FINDINGS',
        'SELF_REFRESH_USERS',
      ].sort(),
    );
  });

  test.each(STACK_ONLY_SETTINGS.map((env) => [env]))('an SSM override of %s is a ConfigError naming it and the fix', (env) => {
    // Act & Assess
    expect(() => parseSsmOverrides('/rotator/config', JSON.stringify({ [env]: 'x' }))).toThrow(ConfigError);
    expect(() => parseSsmOverrides('/rotator/config', JSON.stringify({ [env]: 'x' }))).toThrow(
      new RegExp(`sets ${env}, which only the stack may set.*set them in the stack`),
    );
  });

  test('tuning settings may still come from SSM next to nothing stack-only', () => {
    // Act
    const overrides = parseSsmOverrides('/rotator/config', '{"OBSERVATION_PERIOD":"3d","NOTIFY_EVENTS":"action-needed"}');

    // Assess
    expect(overrides).toEqual({ OBSERVATION_PERIOD: '3d', NOTIFY_EVENTS: 'action-needed' });
  });
});

describe('notification settings', () => {
  test('defaults: every event, not quiet, exemption warnings 14 days ahead, no ledger', () => {
    // Act & Assess
    expect(loadConfig({})).toMatchObject({
      notifyEvents: [],
      notificationsQuiet: false,
      exemptionWarnDays: 14,
      notificationLedgerTable: '',
    });
  });

  test('NOTIFY_EVENTS is a list of known events', () => {
    // Act & Assess
    expect(loadConfig({ NOTIFY_EVENTS: 'action-needed, rotation-failed' }).notifyEvents).toEqual(['action-needed', 'rotation-failed']);
    expect(() => loadConfig({ NOTIFY_EVENTS: 'action-needed,rotation-done' })).toThrow(
      /NOTIFY_EVENTS entries must be among rotation-warning/,
    );
  });

  test('NOTIFICATIONS_QUIET is true or false', () => {
    // Act & Assess
    expect(loadConfig({ NOTIFICATIONS_QUIET: 'true' }).notificationsQuiet).toBe(true);
    expect(() => loadConfig({ NOTIFICATIONS_QUIET: 'yes' })).toThrow(/NOTIFICATIONS_QUIET must be "true" or "false"/);
  });

  test('a topic needs a ledger table, so nothing is sent twice', () => {
    // Act & Assess
    expect(() => loadConfig({ NOTIFICATION_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t' })).toThrow(
      /NOTIFICATION_LEDGER_TABLE is empty/,
    );
    expect(
      loadConfig({ NOTIFICATION_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t', NOTIFICATION_LEDGER_TABLE: 'ledger' })
        .notificationLedgerTable,
    ).toBe('ledger');
  });
});
