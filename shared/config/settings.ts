import * as z from 'zod/mini';
import '../base/zod-locale.ts';
import { ConfigError } from '../base/errors.ts';
import { formatDuration, parseDuration } from '../base/duration.ts';
import { historyBoundExcess } from './history-budget.ts';
import { NOTIFICATION_EVENTS } from './notification-events.ts';
import { parseAccountIds, parseOuIds, parseTagMatchers } from './organization-filters.ts';
import { parseSelfRefreshUsers } from './self-refresh.ts';

export const HEALTH_CHECKS = ['consumers-moved', 'new-key-used', 'old-key-idle', 'http', 'manual'] as const;
export type HealthCheck = (typeof HEALTH_CHECKS)[number];
/** `retire`: the scan starts a retirement (kind retire), which cuts the key only once nothing has used it for the quiet period. */
export const UNUSED_ACTIONS = ['notify', 'deactivate', 'retire'] as const;
export type UnusedAction = (typeof UNUSED_ACTIONS)[number];
/** What happens to a leaked key after its replacement's observation period: deleted, or kept Inactive for forensics. */
export const COMPROMISED_KEY_ACTIONS = ['delete', 'keep-inactive'] as const;
export type CompromisedKeyAction = (typeof COMPROMISED_KEY_ACTIONS)[number];

const list = (separator: RegExp) =>
  z.pipe(
    z.string(),
    z.transform((text: string) =>
      text
        .split(separator)
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    ),
  );

const duration = (setting: string) =>
  z.pipe(
    z.string(),
    z.transform((text: string, context) => {
      const value = parseDuration(text);
      if (value === undefined) {
        context.issues.push({
          code: 'custom',
          message: `${setting} must be a positive duration like 30s, 1h or 7d (got "${text}")`,
          input: text,
        });
        return z.NEVER;
      }
      return value;
    }),
  );

/** A setting parsed by a function that throws a ConfigError naming it (the organization filters). */
const parsedBy = <T>(parse: (text: string, setting: string) => T, setting: string) =>
  z.pipe(
    z.string(),
    z.transform((text: string, context) => {
      try {
        return parse(text, setting);
      } catch (error) {
        context.issues.push({ code: 'custom', message: error instanceof Error ? error.message : String(error), input: text });
        return z.NEVER;
      }
    }),
  );

export const SCAN_SCOPES = ['account', 'organization'] as const;
/** `report-only`: the scheduled scan tells owners and reports, and starts nothing (ROTATION_MODE). */
export const ROTATION_MODES = ['rotate', 'report-only'] as const;
export type ScanScope = (typeof SCAN_SCOPES)[number];

const days = (setting: string, min: number) =>
  z.coerce
    .number({ message: `${setting} must be a whole number of days` })
    .check(
      z.int(`${setting} must be a whole number of days`),
      z.gte(min, `${setting} must be at least ${min}`),
      z.lte(3650, `${setting} must be at most 3650 days`),
    );

/**
 * Every setting, its environment variable and its default. `stackOnly` marks the settings that say
 * where keys go (the workflow, the secrets' names and KMS key), where notices go (topic, ledger) or
 * whose roles are assumed (scope, member role, organization filters): only the stack sets them,
 * since whoever could change them could send keys or sessions elsewhere. CONFIG_SSM_PARAMETER may
 * tune every other setting. The README's configuration reference
 * is written from this table; `test/unit/config/settings.test.ts` checks that the two agree.
 */
export const SETTINGS = {
  maxAgeDays: { env: 'ROTATION_MAX_AGE_DAYS', default: '90', schema: days('ROTATION_MAX_AGE_DAYS', 1) },
  warnDays: { env: 'ROTATION_WARN_DAYS', default: '14', schema: days('ROTATION_WARN_DAYS', 0) },
  unusedAfterDays: { env: 'UNUSED_AFTER_DAYS', default: '45', schema: days('UNUSED_AFTER_DAYS', 1) },
  unusedAction: {
    env: 'UNUSED_KEY_ACTION',
    default: 'notify',
    schema: z.enum(UNUSED_ACTIONS, { message: 'UNUSED_KEY_ACTION must be "notify", "deactivate" or "retire"' }),
  },
  maxStartsPerRun: {
    env: 'MAX_ROTATIONS_PER_RUN',
    default: '25',
    schema: z.coerce.number().check(z.int('MAX_ROTATIONS_PER_RUN must be a whole number'), z.gte(0), z.lte(1000)),
  },
  exemptPaths: { env: 'EXEMPT_PATHS', default: '', schema: list(/[,\s]+/) },
  exemptGroups: { env: 'EXEMPT_GROUPS', default: '', schema: list(/[,\s]+/) },
  stateMachineArn: {
    env: 'ROTATION_STATE_MACHINE_ARN',
    stackOnly: true,
    default: '',
    // A typo here would surface only when a rotation is due: checked at load, as the ARN format of the Step Functions API reference.
    schema: z
      .string()
      .check(
        z.regex(
          /^$|^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/,
          'ROTATION_STATE_MACHINE_ARN must be a state machine ARN like arn:aws:states:eu-west-1:111122223333:stateMachine:iam-key-rotator-prod-rotate-key (the stack output RotateKeyStateMachineArn)',
        ),
      ),
  },
  orgScanStateMachineArn: { env: 'ORG_SCAN_STATE_MACHINE_ARN', stackOnly: true, default: '', schema: z.string() },
  topicArn: { env: 'NOTIFICATION_TOPIC_ARN', stackOnly: true, default: '', schema: z.string() },
  // Users the rotator never acts on (break-glass users, the deployer). Also an explicit Deny in every
  // role of the stack and of the member role (stack/roles.cjs, stack/member-role.yml): code and IAM agree.
  protectedUsers: {
    env: 'PROTECTED_USERS',
    default: '',
    schema: z.pipe(
      list(/[,\s]+/),
      z.array(z.string().check(z.regex(/^[\w+=,.@-]{1,64}$/, 'PROTECTED_USERS entries must be IAM user names'))),
    ),
  },
  protectedPaths: {
    env: 'PROTECTED_PATHS',
    default: '',
    schema: z.pipe(
      list(/[,\s]+/),
      z.array(
        z
          .string()
          .check(
            z.regex(
              /^(\/[\w+=.@-]+)+\/?$/,
              'PROTECTED_PATHS entries must be IAM paths like /break-glass/ (not "/": that would protect every user)',
            ),
          ),
      ),
    ),
  },
  // The rotator's scope: the stack's roles may write only to users under this path and, when the value
  // is set, tagged rotation:managed=<value> (serverless.yml's rotationUserPath and rotationUserTagValue).
  // The code honours the same scope, so a user outside it is reported, never attempted.
  rotationUserPath: {
    env: 'ROTATION_USER_PATH',
    stackOnly: true,
    default: '/',
    schema: z
      .string()
      .check(
        z.regex(/^\/([\w+=,.@-]+\/)*$/, 'ROTATION_USER_PATH must be an IAM path like / or /service-accounts/ (starting and ending with /)'),
      ),
  },
  rotationUserTagValue: {
    env: 'ROTATION_USER_TAG_VALUE',
    stackOnly: true,
    default: '',
    schema: z.string().check(z.regex(/^[\w\s+=,.@:/-]{0,256}$/, 'ROTATION_USER_TAG_VALUE must be a valid IAM tag value')),
  },
  // report-only: the scheduled scan reports and notifies but starts no rotation and changes no key (a pilot's first step).
  rotationMode: {
    env: 'ROTATION_MODE',
    default: 'rotate',
    schema: z.enum(ROTATION_MODES, { message: 'ROTATION_MODE must be "rotate" or "report-only"' }),
  },
  operationsEmail: { env: 'OPERATIONS_OWNER', default: '', schema: z.string() },
  notificationLedgerTable: { env: 'NOTIFICATION_LEDGER_TABLE', stackOnly: true, default: '', schema: z.string() },
  notifyEvents: {
    env: 'NOTIFY_EVENTS',
    default: '',
    schema: z.pipe(
      list(/[,\s]+/),
      z.array(z.enum(NOTIFICATION_EVENTS, { message: `NOTIFY_EVENTS entries must be among ${NOTIFICATION_EVENTS.join(', ')}` })),
    ),
  },
  notificationsQuiet: {
    env: 'NOTIFICATIONS_QUIET',
    default: 'false',
    schema: z.pipe(
      z.enum(['true', 'false'], { message: 'NOTIFICATIONS_QUIET must be "true" or "false"' }),
      z.transform((text: 'true' | 'false') => text === 'true'),
    ),
  },
  exemptionWarnDays: { env: 'EXEMPTION_WARN_DAYS', default: '14', schema: days('EXEMPTION_WARN_DAYS', 1) },
  // Ceilings on what a user tag may weaken: anyone who can tag a user (the user itself, under AWS's
  // "manage your own access keys" policy) must not be able to switch its rotation off.
  maxAgeDaysCeiling: { env: 'ROTATION_MAX_AGE_DAYS_CEILING', default: '365', schema: days('ROTATION_MAX_AGE_DAYS_CEILING', 1) },
  exemptionMaxDays: { env: 'EXEMPTION_MAX_DAYS', default: '90', schema: days('EXEMPTION_MAX_DAYS', 1) },
  healthCheckUrlOrigins: { env: 'HEALTH_CHECK_URL_ORIGINS', default: '', schema: list(/[,\s]+/) },
  // Security Hub findings per key (shared/findings/): the stack grants securityhub:BatchImportFindings only
  // when its parameter is on, so the setting follows the stack.
  securityHubFindings: {
    env: 'SECURITY_HUB_FINDINGS',
    stackOnly: true,
    default: 'false',
    schema: z.pipe(
      z.enum(['true', 'false'], { message: 'SECURITY_HUB_FINDINGS must be "true" or "false"' }),
      z.transform((text: 'true' | 'false') => text === 'true'),
    ),
  },
  // Users whose own key may read their own secret (self-refresh, shared/config/self-refresh.ts). Stack-only:
  // it decides who may read future keys, and the stack grants secretsmanager:PutResourcePolicy only when set.
  selfRefreshUsers: {
    env: 'SELF_REFRESH_USERS',
    stackOnly: true,
    default: '',
    schema: parsedBy(parseSelfRefreshUsers, 'SELF_REFRESH_USERS'),
  },
  allowTagCheckRemoval: {
    env: 'ALLOW_TAG_CHECK_REMOVAL',
    default: 'false',
    schema: z.pipe(
      z.enum(['true', 'false'], { message: 'ALLOW_TAG_CHECK_REMOVAL must be "true" or "false"' }),
      z.transform((text: 'true' | 'false') => text === 'true'),
    ),
  },
  secretNamePrefix: {
    env: 'SECRET_NAME_PREFIX',
    stackOnly: true,
    default: 'iam-key-rotator/',
    schema: z.string().check(
      z.regex(/^[A-Za-z0-9/_+=.@-]{1,256}$/, 'SECRET_NAME_PREFIX may only hold letters, digits and /_+=.@-'),
      z.refine(
        (prefix: string) => !prefix.split('/').some((part) => part === '.' || part === '..'),
        'SECRET_NAME_PREFIX must not hold "." or ".." parts',
      ),
    ),
  },
  secretKmsKeyId: { env: 'SECRET_KMS_KEY_ID', stackOnly: true, default: '', schema: z.string() },
  healthChecks: {
    env: 'HEALTH_CHECKS',
    // consumers-moved waits for every consumer CloudTrail shows; old-key-idle adds last-used, which sees
    // the consumers event history does not (data events). Without a readable CloudTrail source,
    // consumers-moved is judged as new-key-used (consumer-checks.ts), so the default never weakens.
    default: 'consumers-moved old-key-idle',
    schema: z.pipe(
      list(/[,\s+]+/),
      z.array(z.enum(HEALTH_CHECKS, { message: `HEALTH_CHECKS entries must be among ${HEALTH_CHECKS.join(', ')}` })).check(z.minLength(1)),
    ),
  },
  healthCheckUrls: { env: 'HEALTH_CHECK_URLS', default: '', schema: list(/[,\s]+/) },
  // Where a trail delivers CloudTrail records, read to learn who uses a key. Stack-only: what the gate
  // reads there decides whether an old key may be cut, and the functions' read grant names the group.
  cloudtrailLogGroup: {
    env: 'CLOUDTRAIL_LOG_GROUP',
    stackOnly: true,
    default: '',
    schema: z
      .string()
      .check(z.regex(/^[\w./#-]{0,512}$/, 'CLOUDTRAIL_LOG_GROUP must be a CloudWatch Logs group name (letters, digits and _-./#)')),
  },
  healthCheckIntervalMs: { env: 'HEALTH_CHECK_INTERVAL', default: '1h', schema: duration('HEALTH_CHECK_INTERVAL') },
  healthCheckDeadlineMs: { env: 'HEALTH_CHECK_DEADLINE', default: '7d', schema: duration('HEALTH_CHECK_DEADLINE') },
  observationMs: { env: 'OBSERVATION_PERIOD', default: '7d', schema: duration('OBSERVATION_PERIOD') },
  oldKeyQuietMs: { env: 'OLD_KEY_QUIET_PERIOD', default: '24h', schema: duration('OLD_KEY_QUIET_PERIOD') },
  consumerLookbackMs: { env: 'CONSUMER_LOOKBACK', default: '14d', schema: duration('CONSUMER_LOOKBACK') },
  cloudtrailDeliveryDelayMs: { env: 'CLOUDTRAIL_DELIVERY_DELAY', default: '15m', schema: duration('CLOUDTRAIL_DELIVERY_DELAY') },
  cloudtrailRegions: { env: 'CLOUDTRAIL_REGIONS', default: '', schema: list(/[,\s]+/) },
  // How late a use may show in GetAccessKeyLastUsed. AWS gives no bound for that call; for IAM's
  // last-accessed data it says "Recent activity usually appears within four hours" (IAM API reference,
  // GenerateServiceLastAccessedDetails), hence 4h. The local runner uses 0 against moto.
  lastUsedLagMs: { env: 'LAST_USED_LAG', default: '4h', schema: duration('LAST_USED_LAG') },
  verifyTimeoutMs: { env: 'VERIFY_TIMEOUT', default: '60s', schema: duration('VERIFY_TIMEOUT') },
  // How far back Contain reads the leaked key's calls: the roles it assumed, the writes it made. Event
  // history keeps 90 days, so the default reads all of it.
  compromiseLookbackMs: { env: 'COMPROMISE_LOOKBACK', default: '90d', schema: duration('COMPROMISE_LOOKBACK') },
  // Whose older sessions Contain revokes on the roles the leaked key assumed: none (the notice gives the
  // command), `all`, or these role names. Off by default: the revocation cuts every session of the role
  // issued before containment, the legitimate ones too.
  compromiseRevokeRoleSessions: {
    env: 'COMPROMISE_REVOKE_ROLE_SESSIONS',
    // The stack grants iam:PutRolePolicy only when it is set (serverless.yml), so it is the stack's to decide.
    stackOnly: true,
    default: '',
    schema: z.pipe(
      list(/[,\s]+/),
      z
        .array(
          z
            .string()
            .check(z.regex(/^[\w+=,.@-]{1,64}$/, 'COMPROMISE_REVOKE_ROLE_SESSIONS must be "all" or IAM role names, comma-separated')),
        )
        .check(
          z.refine(
            (names: string[]) => !names.includes('all') || names.length === 1,
            'COMPROMISE_REVOKE_ROLE_SESSIONS: "all" stands alone',
          ),
        ),
    ),
  },
  compromisedKeyAction: {
    env: 'COMPROMISED_KEY_ACTION',
    default: 'delete',
    schema: z.enum(COMPROMISED_KEY_ACTIONS, { message: 'COMPROMISED_KEY_ACTION must be "delete" or "keep-inactive"' }),
  },
  // GuardDuty scores anomalies (an unusual API, a new location) low and confirmed misuse high; a
  // containment deactivates and later deletes the key, so only High findings (7.0 and up, GuardDuty
  // user guide, "Severity levels") contain by default.
  guardDutyMinSeverity: {
    env: 'GUARDDUTY_MIN_SEVERITY',
    default: '7',
    schema: z.coerce
      .number({
        message:
          'GUARDDUTY_MIN_SEVERITY must be a number from 1 to 10 (GuardDuty severities: 1-3.9 low, 4-6.9 medium, 7-8.9 high, 9-10 critical)',
      })
      .check(
        z.gte(1, 'GUARDDUTY_MIN_SEVERITY must be at least 1 (GuardDuty severities start at 1.0)'),
        z.lte(10, 'GUARDDUTY_MIN_SEVERITY must be at most 10 (GuardDuty severities end at 10.0)'),
      ),
  },
  // Empty: every finding type about an IAM user's key (above the floor) contains it.
  guardDutyFindingTypes: { env: 'GUARDDUTY_FINDING_TYPES', default: '', schema: list(/[,\s]+/) },
  scanScope: {
    env: 'SCAN_SCOPE',
    stackOnly: true,
    default: 'account',
    schema: z.enum(SCAN_SCOPES, { message: 'SCAN_SCOPE must be "account" or "organization"' }),
  },
  memberRoleName: {
    env: 'MEMBER_ROLE_NAME',
    stackOnly: true,
    default: 'iam-key-rotator-member',
    schema: z
      .string()
      .check(z.regex(/^[\w+=,.@-]{1,64}$/, 'MEMBER_ROLE_NAME must be an IAM role name (the RoleName of stack/member-role.yml)')),
  },
  memberRoleExternalId: {
    env: 'MEMBER_ROLE_EXTERNAL_ID',
    stackOnly: true,
    default: '',
    schema: z.string().check(z.regex(/^[\w+=,.@:/-]{0,1224}$/, 'MEMBER_ROLE_EXTERNAL_ID may hold letters, digits and +=,.@:/- only')),
  },
  orgIncludeOus: { env: 'ORG_INCLUDE_OUS', stackOnly: true, default: '', schema: parsedBy(parseOuIds, 'ORG_INCLUDE_OUS') },
  orgExcludeOus: { env: 'ORG_EXCLUDE_OUS', stackOnly: true, default: '', schema: parsedBy(parseOuIds, 'ORG_EXCLUDE_OUS') },
  orgIncludeAccounts: {
    env: 'ORG_INCLUDE_ACCOUNTS',
    stackOnly: true,
    default: '',
    schema: parsedBy(parseAccountIds, 'ORG_INCLUDE_ACCOUNTS'),
  },
  orgExcludeAccounts: {
    env: 'ORG_EXCLUDE_ACCOUNTS',
    stackOnly: true,
    default: '',
    schema: parsedBy(parseAccountIds, 'ORG_EXCLUDE_ACCOUNTS'),
  },
  orgIncludeTags: { env: 'ORG_INCLUDE_TAGS', stackOnly: true, default: '', schema: parsedBy(parseTagMatchers, 'ORG_INCLUDE_TAGS') },
  orgExcludeTags: { env: 'ORG_EXCLUDE_TAGS', stackOnly: true, default: '', schema: parsedBy(parseTagMatchers, 'ORG_EXCLUDE_TAGS') },
  orgMaxConcurrentAccounts: {
    env: 'ORG_MAX_CONCURRENT_ACCOUNTS',
    default: '10',
    schema: z.coerce
      .number()
      .check(
        z.int('ORG_MAX_CONCURRENT_ACCOUNTS must be a whole number'),
        z.gte(1, 'ORG_MAX_CONCURRENT_ACCOUNTS must be at least 1'),
        z.lte(1000, 'ORG_MAX_CONCURRENT_ACCOUNTS must be at most 1000'),
      ),
  },
  credentialReportTimeoutMs: {
    env: 'CREDENTIAL_REPORT_TIMEOUT',
    default: '60s',
    schema: duration('CREDENTIAL_REPORT_TIMEOUT'),
  },
} as const;

type Settings = typeof SETTINGS;
export type Config = { readonly [K in keyof Settings]: z.output<Settings[K]['schema']> };

/** Reads and validates the whole configuration once; a bad value fails before any key is touched. */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  overrides: Readonly<Record<string, string>> = {},
): Config {
  const result: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [field, setting] of Object.entries(SETTINGS)) {
    const raw = overrides[setting.env] ?? env[setting.env] ?? setting.default;
    const parsed = (setting.schema as z.ZodMiniType).safeParse(raw.trim());
    if (parsed.success) result[field] = parsed.data;
    else problems.push(`${setting.env}="${raw}": ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
  }
  if (problems.length === 0) {
    const config = result as Config;
    if (config.warnDays >= config.maxAgeDays) {
      problems.push(`ROTATION_WARN_DAYS (${config.warnDays}) must be smaller than ROTATION_MAX_AGE_DAYS (${config.maxAgeDays})`);
    }
    if (config.topicArn !== '' && config.notificationLedgerTable === '') {
      problems.push(
        'NOTIFICATION_TOPIC_ARN is set but NOTIFICATION_LEDGER_TABLE is empty: name the DynamoDB table that records sent notifications ' +
          '(the stack output NotificationLedgerTableName), so no owner gets the same warning twice',
      );
    }
    if (config.healthCheckIntervalMs > config.healthCheckDeadlineMs) {
      problems.push('HEALTH_CHECK_INTERVAL must not be longer than HEALTH_CHECK_DEADLINE');
    }
    const historyProblem = historyBoundProblem(config, overrides);
    if (historyProblem !== undefined) problems.push(historyProblem);
    if (config.healthChecks.includes('http') && config.healthCheckUrls.length === 0) {
      problems.push('HEALTH_CHECKS includes "http" but HEALTH_CHECK_URLS is empty: list the consumer health URLs');
    }
    for (const url of config.healthCheckUrls) {
      if (!/^https?:\/\/[^\s]+$/.test(url)) problems.push(`HEALTH_CHECK_URLS entry "${url}" is not an http(s) URL`);
    }
    if (config.maxAgeDays > config.maxAgeDaysCeiling) {
      problems.push(
        `ROTATION_MAX_AGE_DAYS (${config.maxAgeDays}) must not be above ROTATION_MAX_AGE_DAYS_CEILING (${config.maxAgeDaysCeiling})`,
      );
    }
    for (const origin of config.healthCheckUrlOrigins) {
      if (urlOrigin(origin) !== origin)
        problems.push(
          `HEALTH_CHECK_URL_ORIGINS entry "${origin}" is not an origin like https://health.example.com (scheme, host, optional port)`,
        );
    }
    if (problems.length === 0) return config;
  }
  throw new ConfigError(`Invalid configuration, nothing was changed. Fix these settings:\n  - ${problems.join('\n  - ')}`);
}

/**
 * The account's waits must keep every rotation's execution history within the bound of
 * history-budget.ts: a rotation that reaches Step Functions' 25,000 events fails without MakeSafe.
 * The message names the three settings, and the SSM parameter when it set one of them.
 */
function historyBoundProblem(config: Config, overrides: Readonly<Record<string, string>>): string | undefined {
  const excess = historyBoundExcess(config, 'HEALTH_CHECK_INTERVAL');
  if (excess === undefined) return undefined;
  const setting = (env: string, value: number): string =>
    `${env}=${formatDuration(value)}${env in overrides ? ' (from the SSM parameter CONFIG_SSM_PARAMETER)' : ''}`;
  return (
    `${setting('HEALTH_CHECK_INTERVAL', config.healthCheckIntervalMs)} with ${setting('HEALTH_CHECK_DEADLINE', config.healthCheckDeadlineMs)} ` +
    `and ${setting('OBSERVATION_PERIOD', config.observationMs)} ${excess.detail}`
  );
}

/** The origin (scheme://host[:port]) of an http(s) URL, as the URL standard writes it; undefined for anything else. */
export function urlOrigin(text: string): string | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** The environment variables only the stack may set (see SETTINGS); an SSM override of one is refused. */
export const STACK_ONLY_SETTINGS: readonly string[] = Object.values(SETTINGS)
  .filter((setting) => 'stackOnly' in setting && setting.stackOnly)
  .map((setting) => setting.env);

/**
 * Settings kept in SSM Parameter Store as a JSON object of env-var names to string values. Write
 * access to that parameter is administration of the rotator, but it must not reach further than
 * tuning: a stack-only setting in it is refused, naming the setting, rather than silently ignored,
 * so whoever wrote it learns at once that it did not take effect.
 */
export function parseSsmOverrides(parameterName: string, value: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // No cause: JSON.parse's message quotes the text, and the parameter may be a SecureString.
    throw new ConfigError(`SSM parameter ${parameterName} must hold a JSON object like {"ROTATION_MAX_AGE_DAYS":"60"}`);
  }
  const shape = z.record(z.string(), z.pipe(z.union([z.string(), z.number()]), z.transform(String))).safeParse(parsed);
  if (!shape.success) {
    throw new ConfigError(`SSM parameter ${parameterName} must hold a JSON object of setting names to string or number values`);
  }
  const known = new Set<string>(Object.values(SETTINGS).map((setting) => setting.env));
  const unknown = Object.keys(shape.data).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw new ConfigError(`SSM parameter ${parameterName} has unknown settings: ${unknown.join(', ')}. Known: ${[...known].join(', ')}`);
  }
  const stackOnly = Object.keys(shape.data).filter((key) => STACK_ONLY_SETTINGS.includes(key));
  if (stackOnly.length > 0) {
    throw new ConfigError(
      `SSM parameter ${parameterName} sets ${stackOnly.join(', ')}, which only the stack may set: they decide where keys and notices go ` +
        `or whose roles are assumed. Remove them from the parameter and set them in the stack (serverless.yml params, then deploy).`,
    );
  }
  return shape.data;
}
