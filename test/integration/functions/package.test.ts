import { describe, expect, test, beforeAll, afterAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrigger } from '#shared/start/triggers.ts';
import { MEMBER_SESSION_ACTIONS, memberSessionOf, type MemberFunction } from '#shared/aws/member-session-policies.ts';
import { matchesPattern } from '../../helpers/event-pattern.ts';
import { healthDeliveries, otherHealthEvent } from '../../helpers/health-events.ts';
import { repoPath } from '../../helpers/paths.ts';
import { STACK_SETTINGS } from '../../../cli/stack.ts';

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  Condition?: string;
}
interface Template {
  Parameters?: Record<string, unknown>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, unknown>;
}
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}
interface RolePolicy {
  PolicyDocument: { Statement: Statement[] };
}

/** Protected at package time: a break-glass user by name, the deployer by name, a path. */
const PROTECTED_USERS = ['break-glass', 'deployer'];
const PROTECTED_PATHS = ['/break-glass/'];

/**
 * The reviewed allow-list: every action each function's role may call, and nothing else. A role that
 * gains an action fails here until someone reviews it, adds it, and explains it in docs/permissions.md
 * ("Each function's role"). CloudWatch Logs actions on the function's own log group are checked apart.
 */
const ALLOWED_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  scanKeys: [
    'ssm:GetParameter',
    'iam:GenerateCredentialReport',
    'iam:GetCredentialReport',
    'iam:GetAccountAuthorizationDetails',
    'iam:GetUser',
    'iam:ListUserTags',
    'iam:ListGroupsForUser',
    'iam:ListAccessKeys',
    'iam:GetAccessKeyLastUsed',
    'iam:UpdateAccessKey',
    'states:StartExecution',
    'states:ListExecutions',
    // A due key's scheduled execution, by its deterministic name.
    'states:DescribeExecution',
    // SECURITY_HUB_FINDINGS: the scan's findings, and which active ones to archive.
    'securityhub:BatchImportFindings',
    'securityhub:GetFindings',
    // Organization scans: the IAM reads and the deactivation above, in a member account through its member role.
    'sts:AssumeRole',
    'sts:SetSourceIdentity',
    'sns:Publish',
    'kms:Decrypt',
    'kms:GenerateDataKey',
    'dynamodb:PutItem',
    'dynamodb:DeleteItem',
  ],
  startRotation: [
    'sts:AssumeRole',
    'sts:SetSourceIdentity',
    'ssm:GetParameter',
    'iam:GetAccessKeyLastUsed',
    'iam:ListAccessKeys',
    // The user's path, tags and groups: protected users, and exempt ones without an override, are refused up front.
    'iam:GetUser',
    'iam:ListUserTags',
    'iam:ListGroupsForUser',
    'states:StartExecution',
    'states:ListExecutions',
    'states:DescribeExecution',
    'states:StopExecution',
    'organizations:DescribeAccount',
    'organizations:ListParents',
    'organizations:ListTagsForResource',
  ],
  rotateContain: [
    'sts:AssumeRole',
    'sts:SetSourceIdentity',
    'ssm:GetParameter',
    'iam:GetUser',
    'iam:ListUserTags',
    // Whether the user is exempt (EXEMPT_GROUPS): the critical notice says so.
    'iam:ListGroupsForUser',
    'iam:ListAccessKeys',
    'iam:GetAccessKeyLastUsed',
    'iam:ListUserPolicies',
    'iam:ListAttachedUserPolicies',
    'iam:UpdateAccessKey',
    'iam:PutUserPolicy',
    // Revoking the older sessions of the roles the leaked key assumed (AWSRevokeOlderSessions).
    'iam:PutRolePolicy',
    'secretsmanager:DescribeSecret',
    // What the leaked key did, from CloudTrail: event history, the trail's log group, the rate counters.
    'cloudtrail:LookupEvents',
    'dynamodb:UpdateItem',
  ],
  rotatePrepare: [
    'sts:AssumeRole',
    'sts:SetSourceIdentity',
    'ssm:GetParameter',
    'iam:GetUser',
    'iam:ListUserTags',
    // EXEMPT_GROUPS holds in Prepare too, not only in the scanner.
    'iam:ListGroupsForUser',
    'iam:ListAccessKeys',
    'iam:GetAccessKeyLastUsed',
    'iam:DeleteAccessKey',
    // Only the rotation:confirm/abort markers of a key it takes over (MARKER_UNTAG below).
    'iam:UntagUser',
    'secretsmanager:DescribeSecret',
    // The secret's binding to the user: a resource policy that lets others read it is refused.
    'secretsmanager:GetResourcePolicy',
  ],
  rotateCreateAndStore: [
    'sts:AssumeRole',
    'sts:SetSourceIdentity',
    'ssm:GetParameter',
    'iam:ListAccessKeys',
    'iam:GetAccessKeyLastUsed',
    'iam:CreateAccessKey',
    'iam:DeleteAccessKey',
    'secretsmanager:DescribeSecret',
    'secretsmanager:GetResourcePolicy',
    'secretsmanager:CreateSecret',
    'secretsmanager:TagResource',
    'secretsmanager:PutSecretValue',
    // SELF_REFRESH_USERS: the policy that lets a listed user read its own secret (on nothing without the parameter).
    'secretsmanager:PutResourcePolicy',
    // Writing a value under a customer managed key takes both (Secrets Manager user guide, "Permissions for the KMS key").
    'kms:Decrypt',
    'kms:GenerateDataKey',
  ],
  rotateVerify: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'ssm:GetParameter', 'secretsmanager:GetSecretValue', 'kms:Decrypt'],
  // Labels only: version ids derive from key ids, so no secret value and no kms:Decrypt.
  rotatePromote: [
    'sts:AssumeRole',
    'sts:SetSourceIdentity',
    'ssm:GetParameter',
    'secretsmanager:DescribeSecret',
    'secretsmanager:UpdateSecretVersionStage',
    // The old key's consumers from event history, for new-key-ready (notify's bundle has no room for a CloudTrail client).
    'cloudtrail:LookupEvents',
    'dynamodb:UpdateItem',
  ],
  // Deployed, tags carry no confirm/abort: these read the ledger table's decision records, never the user's tags.
  // CloudTrail for consumers-moved (and the LookupEvents rate counters in the ledger table, rate#* items only).
  rotateCheckConsumers: [
    'sts:AssumeRole',
    'sts:SetSourceIdentity',
    'ssm:GetParameter',
    'iam:GetAccessKeyLastUsed',
    'dynamodb:GetItem',
    'cloudtrail:LookupEvents',
    'logs:FilterLogEvents',
    'dynamodb:UpdateItem',
  ],
  rotateAwaitConfirmation: ['sts:AssumeRole', 'sts:SetSourceIdentity', 'ssm:GetParameter', 'dynamodb:PutItem', 'dynamodb:GetItem'],
  rotateDeactivate: [
    'sts:AssumeRole',
    'sts:SetSourceIdentity',
    'ssm:GetParameter',
    'iam:ListAccessKeys',
    'iam:UpdateAccessKey',
    'secretsmanager:DescribeSecret',
  ],
  rotateCheckObservation: [
    'sts:AssumeRole',
    'sts:SetSourceIdentity',
    'ssm:GetParameter',
    'dynamodb:GetItem',
    'cloudtrail:LookupEvents',
    'logs:FilterLogEvents',
    'dynamodb:UpdateItem',
  ],
  rotateRollback: [
    'sts:AssumeRole',
    'sts:SetSourceIdentity',
    'ssm:GetParameter',
    'iam:ListAccessKeys',
    'iam:GetAccessKeyLastUsed',
    'iam:UpdateAccessKey',
    'iam:DeleteAccessKey',
    'secretsmanager:DescribeSecret',
    'secretsmanager:UpdateSecretVersionStage',
  ],
  rotateDeleteOldKey: [
    'sts:AssumeRole',
    'sts:SetSourceIdentity',
    'ssm:GetParameter',
    'iam:ListAccessKeys',
    'iam:DeleteAccessKey',
    'secretsmanager:DescribeSecret',
    'secretsmanager:UpdateSecretVersionStage',
    // A retirement with --delete-secret, only with the full recovery window (a condition on the statement).
    'secretsmanager:DeleteSecret',
  ],
  rotateMakeSafe: [
    'sts:AssumeRole',
    'sts:SetSourceIdentity',
    'ssm:GetParameter',
    'iam:ListAccessKeys',
    'iam:GetAccessKeyLastUsed',
    'iam:UpdateAccessKey',
    'iam:DeleteAccessKey',
    'secretsmanager:DescribeSecret',
    'secretsmanager:UpdateSecretVersionStage',
  ],
  notify: [
    'sts:AssumeRole',
    'sts:SetSourceIdentity',
    'ssm:GetParameter',
    'iam:GetUser',
    'iam:ListUserTags',
    'secretsmanager:DescribeSecret',
    'sns:Publish',
    'kms:Decrypt',
    'kms:GenerateDataKey',
    'dynamodb:PutItem',
    'dynamodb:DeleteItem',
    // SECURITY_HUB_FINDINGS: the workflow's findings (granted only with the parameter; see the test of it).
    'securityhub:BatchImportFindings',
  ],
  // The organization scan's first and last steps.
  listAccounts: [
    'ssm:GetParameter',
    'organizations:ListRoots',
    'organizations:ListOrganizationalUnitsForParent',
    'organizations:ListAccountsForParent',
    'organizations:ListTagsForResource',
    // The selected accounts go to the ledger table in pages (orgscan#* only), never into the state.
    'dynamodb:BatchWriteItem',
  ],
  // One page of the organization scan: its accounts read, its outcomes recorded (orgscan#* only).
  orgScanPages: ['ssm:GetParameter', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'],
  reportOrgScan: [
    'ssm:GetParameter',
    'sns:Publish',
    'kms:Decrypt',
    'kms:GenerateDataKey',
    'dynamodb:PutItem',
    'dynamodb:DeleteItem',
    // Every page's accounts and outcomes (orgscan#* only).
    'dynamodb:BatchGetItem',
  ],
};

const VENDED_LOG_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
];

/** The only actions allowed on `Resource: "*"` (IAM cannot scope them); docs/permissions.md lists them with why. */
const UNSCOPED: Readonly<Record<string, readonly string[]>> = {
  scanKeys: ['iam:GenerateCredentialReport', 'iam:GetCredentialReport', 'iam:GetAccountAuthorizationDetails'],
  // Organizations' List actions have no resource-level permissions: the tree is read from the root.
  listAccounts: [
    'organizations:ListRoots',
    'organizations:ListOrganizationalUnitsForParent',
    'organizations:ListAccountsForParent',
    'organizations:ListTagsForResource',
  ],
  // One account's reads for the organization filters of an on-demand start.
  startRotation: ['organizations:DescribeAccount', 'organizations:ListParents', 'organizations:ListTagsForResource'],
  // LookupEvents has no resource-level permission (Service Authorization Reference).
  rotateContain: ['cloudtrail:LookupEvents'],
  rotateCheckConsumers: ['cloudtrail:LookupEvents'],
  rotateCheckObservation: ['cloudtrail:LookupEvents'],
  rotatePromote: ['cloudtrail:LookupEvents'],
  // Step Functions' log delivery to CloudWatch Logs (vended logs) only supports "*".
  stateMachine: VENDED_LOG_ACTIONS,
  orgScanStateMachine: VENDED_LOG_ACTIONS,
};

/**
 * IAM actions a function uses in the stack's own account only, left out of its member session: Contain
 * revokes role sessions only where it can read the leaked key's calls, and in a member account it has no
 * CloudTrail reader (step-account.ts inAccount), so the member role never needs iam:PutRolePolicy.
 */
const THIS_ACCOUNT_ONLY: Readonly<Record<string, readonly string[]>> = { rotateContain: ['iam:PutRolePolicy'] };

/** Writes on IAM users: each must carry the optional rotation:managed tag condition. */
const USER_WRITES = new Set(['iam:CreateAccessKey', 'iam:UpdateAccessKey', 'iam:DeleteAccessKey', 'iam:PutUserPolicy']);
/** Tag removal on IAM users: only the confirm/abort markers, with the same optional tag condition. */
const MARKER_KEYS = {
  'ForAllValues:StringEquals': { 'aws:TagKeys': ['rotation:confirm', 'rotation:abort'] },
  Null: { 'aws:TagKeys': 'false' },
};
const MARKER_UNTAG = {
  'Fn::If': [
    'RestrictToTaggedUsers',
    { StringEquals: { 'aws:ResourceTag/rotation:managed': { Ref: 'RotationUserTagValue' } }, ...MARKER_KEYS },
    MARKER_KEYS,
  ],
};
const LOG_ACTIONS = new Set(['logs:CreateLogStream', 'logs:CreateLogGroup', 'logs:PutLogEvents']);

const actionsOf = (statement: Statement): string[] => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);
const resourcesOf = (statement: Statement): unknown[] => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]);
const subOf = (value: unknown): string | undefined => {
  const sub = (value as { 'Fn::Sub'?: unknown } | undefined)?.['Fn::Sub'];
  return typeof sub === 'string' ? sub : undefined;
};

// `osls package` is the deploy path minus the upload: it bundles every function with esbuild and
// validates the state machine. Packaging into a temp dir keeps parallel runs from clobbering .serverless/.
describe('osls package', () => {
  let outDir: string;
  let template: Template;
  let packageOutput: string;

  beforeAll(() => {
    // Prepare
    outDir = mkdtempSync(join(tmpdir(), 'iam-key-rotator-package-'));
    // With protected users, so the template under test carries their Deny (stack/roles.cjs omits it when nothing is protected).
    const protectedParams = [`--param=protectedUsers=${PROTECTED_USERS.join(',')}`, `--param=protectedPaths=${PROTECTED_PATHS.join(',')}`];

    // Act: package the stack; the tests below check its output, its template and its zips.
    const result = spawnSync('osls', ['package', '--stage', 'ci', '--package', outDir, ...protectedParams], {
      encoding: 'utf8',
      env: process.env,
    });
    packageOutput = `${result.stdout}\n${result.stderr}`;
    if (result.status !== 0) throw new Error(`osls package failed:\n${packageOutput}`);
    template = JSON.parse(readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  }, 120_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  const ofType = (type: string): Resource[] => Object.values(template.Resources).filter((resource) => resource.Type === type);
  const entriesOfType = (type: string): [string, Resource][] =>
    Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
  const resource = (id: string): Resource => {
    const found = template.Resources[id];
    if (!found) throw new Error(`no resource ${id} in the template`);
    return found;
  };
  const policyStatementsOf = (roleId: string): Statement[] =>
    ((resource(roleId).Properties?.Policies ?? []) as RolePolicy[]).flatMap((policy) => policy.PolicyDocument.Statement);
  /** What a role grants: the allow-list tests below read these; the protected users' Deny is checked on its own. */
  const statementsOf = (roleId: string): Statement[] => policyStatementsOf(roleId).filter((statement) => statement.Effect === 'Allow');

  /** serverless.yml function key → its role's logical id, read from each function's Role GetAtt. */
  const functionRoles = (): Map<string, string> => {
    const roles = new Map<string, string>();
    for (const fn of ofType('AWS::Lambda::Function')) {
      const key = String(fn.Properties?.FunctionName).replace(/^iam-key-rotator-ci-/, '');
      const role = (fn.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
      if (!role) throw new Error(`function ${key} has no role from this template`);
      roles.set(key, role);
    }
    return roles;
  };
  /** Every role of the template as [owner, statements]: a function key, or `stateMachine`. */
  const allRoles = (): [string, Statement[]][] => [
    ...[...functionRoles()].map(([fn, role]): [string, Statement[]] => [fn, statementsOf(role)]),
    ['stateMachine', statementsOf('RotateKeyStateMachineRole')],
    ['orgScanStateMachine', statementsOf('ScanOrganizationStateMachineRole')],
  ];
  const STATE_MACHINE_ROLES = new Set(['stateMachine', 'orgScanStateMachine']);

  test('validates both state machine definitions (rotation, organization scan)', () => {
    // Assess
    expect(packageOutput).toMatch(/"rotateKey" definition is valid/);
    expect(packageOutput).toMatch(/"scanOrganization" definition is valid/);
    expect(ofType('AWS::StepFunctions::StateMachine')).toHaveLength(2);
  });

  test('every function runs on nodejs22.x and arm64', () => {
    // Assess
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      expect(fn.Properties?.Runtime).toBe('nodejs22.x');
      expect(fn.Properties?.Architectures).toEqual(['arm64']);
    }
  });

  test('the scanner runs on a daily schedule by default', () => {
    // Assess
    const rules = ofType('AWS::Events::Rule');
    expect(rules.map((rule) => rule.Properties?.ScheduleExpression)).toContain('rate(1 day)');
  });

  test('the Health and GuardDuty rules deliver the event wrapped by the rule, and the wrapped events parse as before', () => {
    // Prepare: what EventBridge makes of each rule's input template for the sample events.
    const rules = ofType('AWS::Events::Rule').filter((rule) => rule.Properties?.EventPattern !== undefined);
    const samples: Record<string, unknown> = {
      'aws.health': JSON.parse(readFileSync(repoPath('test/fixtures/health-credentials-exposed.json'), 'utf8')),
      'aws.guardduty': JSON.parse(readFileSync(repoPath('test/fixtures/guardduty-iamuser-finding.json'), 'utf8')),
    };
    const ruleArn = 'arn:aws:events:us-east-1:123456789012:rule/iam-key-rotator-ci-rule';

    // Act
    const delivered = rules.map((rule) => {
      const source = ((rule.Properties?.EventPattern as { source: string[] }).source[0] ?? '') as string;
      const targets = rule.Properties?.Targets as { InputTransformer?: { InputTemplate: string } }[];
      const template = targets[0]?.InputTransformer?.InputTemplate ?? '';
      return {
        source,
        parsed: parseTrigger(
          JSON.parse(
            template.replace('<aws.events.rule-arn>', ruleArn).replace('<aws.events.event.json>', JSON.stringify(samples[source])),
          ),
        ),
      };
    });

    // Assess
    expect(delivered.map((rule) => rule.source).sort()).toEqual(['aws.guardduty', 'aws.health']);
    for (const rule of delivered) expect(rule.parsed).toMatchObject({ type: 'requests', source: rule.source.slice(4) });
  });

  // Packaged for us-east-1 (the default), where AWS Health publishes IAM's events itself; the
  // forwarded deliveries to another Region are checked in test/integration/stack/health-forwarding.test.ts.
  test.each(healthDeliveries('us-east-1'))(
    'the Health rule matches an AWS_RISK_CREDENTIALS_EXPOSED event %s, and no other type',
    (_how, event) => {
      // Prepare
      const rules = ofType('AWS::Events::Rule').filter((rule) =>
        JSON.stringify(rule.Properties?.EventPattern ?? {}).includes('aws.health'),
      );

      // Act & Assess
      expect(rules).toHaveLength(1);
      expect(matchesPattern(rules[0]?.Properties?.EventPattern, event)).toBe(true);
      expect(matchesPattern(rules[0]?.Properties?.EventPattern, otherHealthEvent)).toBe(false);
    },
  );

  test('cfn-lint finds no errors (e.g. no circular dependencies) and no warnings but the framework’s redundant DependsOn (W3005)', () => {
    // Act
    const lint = spawnSync('cfn-lint', ['--format', 'parseable', join(outDir, 'cloudformation-template-update-stack.json')], {
      encoding: 'utf8',
    });

    // Assess
    if (lint.error) throw new Error(`cfn-lint could not run (${lint.error.message}): install it with \`pip install cfn-lint\``);
    const findings = lint.stdout.split('\n').filter((line) => /:[EW]\d{4}:/.test(line));
    expect(findings.filter((line) => /:E\d{4}:/.test(line))).toEqual([]);
    // W3005: the framework writes DependsOn on the role next to a GetAtt of it; harmless and not ours to change.
    expect(findings.filter((line) => /:W\d{4}:/.test(line) && !/:W3005:/.test(line))).toEqual([]);
  });

  test('the stack outputs what the CLI reads', () => {
    // Assess
    expect(Object.keys(template.Outputs ?? {})).toEqual(
      expect.arrayContaining([
        'RotateKeyStateMachineArn',
        'OrgScanStateMachineArn',
        'NotificationTopicArn',
        'NotificationLedgerTableName',
        'AlarmTopicArn',
        'SecretsKmsKeyArn',
        'StackSettings',
      ]),
    );
  });

  test('StackSettings holds, as JSON, the stack-only settings the functions run with, so the CLI acts with the same', () => {
    // Prepare: the functions' environment as packaged.
    const environment =
      (
        Object.values(template.Resources).find((resource) => resource.Type === 'AWS::Lambda::Function')?.Properties?.Environment as
          { Variables?: Record<string, unknown> } | undefined
      )?.Variables ?? {};
    const output = (template.Outputs?.StackSettings as { Value?: unknown } | undefined)?.Value;

    // Act
    const settings = JSON.parse(String(output)) as Record<string, string>;

    // Assess
    expect(Object.keys(settings).sort()).toEqual([...STACK_SETTINGS].sort());
    for (const [name, value] of Object.entries(settings)) expect(environment[name]).toBe(value);
  });

  test('each function ships its own bundle (package.individually), and their sizes are printed', () => {
    // Assess
    const zips = readdirSync(outDir).filter((name) => name.endsWith('.zip'));
    expect(zips.sort()).toEqual([...functionRoles().keys()].map((fn) => `${fn}.zip`).sort());
    const rows = zips.map((zip) => {
      const listing = spawnSync('unzip', ['-l', join(outDir, zip)], { encoding: 'utf8' }).stdout;
      const sizeOf = (pattern: RegExp): number =>
        listing
          .split('\n')
          .filter((line) => pattern.test(line))
          .reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[0] ?? 0), 0);
      return { fn: zip.replace(/\.zip$/, ''), zip: statSync(join(outDir, zip)).size, code: sizeOf(/\.cjs$/), map: sizeOf(/\.map$/) };
    });
    const kb = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KB`.padStart(9);
    const lines = rows.map((row) => `${row.fn.padEnd(24)}${kb(row.zip)}${kb(row.code)}${kb(row.map)}`);
    console.log(
      [
        'Function bundles (minified CommonJS + source map)',
        `${'function'.padEnd(24)}${'zip'.padStart(9)}${'code'.padStart(9)}${'map'.padStart(9)}`,
        ...lines,
      ].join('\n'),
    );
    for (const row of rows) {
      // Issue 9's budget: bench/cold-start.ts measures what each function pays for, and why.
      expect({ fn: row.fn, codeWithin500KB: row.code <= 500 * 1024 }).toEqual({ fn: row.fn, codeWithin500KB: true });
      expect(row.code).toBeGreaterThan(0);
      expect(row.map).toBeGreaterThan(0);
    }
  });

  test('each function’s zip holds the file its Handler names, and Lambda’s require() of it finds the handler', () => {
    // Lambda resolves `functions/x.handler` to functions/x.js, .mjs or .cjs in the zip; a .cjs file is
    // CommonJS whatever package.json says, and Lambda loads it with require().

    // Prepare: a temporary directory to unzip into.
    const unpacked = mkdtempSync(join(tmpdir(), 'iam-key-rotator-zips-'));

    // Act & Assess: unzip each function's zip and require() the file its Handler names.
    try {
      for (const fn of ofType('AWS::Lambda::Function')) {
        const key = String(fn.Properties?.FunctionName).replace(/^iam-key-rotator-ci-/, '');
        const [modulePath, exportName] = String(fn.Properties?.Handler).split(/\.(?=[^.]+$)/);
        const into = join(unpacked, key);
        spawnSync('unzip', ['-q', join(outDir, `${key}.zip`), '-d', into], { encoding: 'utf8' });
        const file = join(into, `${modulePath}.cjs`);
        const probe = `const m = require(${JSON.stringify(file)}); process.stdout.write(typeof m[${JSON.stringify(exportName)}]);`;
        const loaded = spawnSync(process.execPath, ['-e', probe], {
          encoding: 'utf8',
          env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' },
        });
        expect({ fn: key, handler: loaded.stdout, stderr: loaded.stderr }).toEqual({ fn: key, handler: 'function', stderr: '' });
      }
    } finally {
      rmSync(unpacked, { recursive: true, force: true });
    }
  });

  describe('least privilege', () => {
    test('every function has a role of its own, and no shared Lambda role is left in the stack', () => {
      // Assess
      const roles = functionRoles();
      expect(new Set(roles.values()).size).toBe(roles.size);
      expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
    });

    test('every function role holds exactly the reviewed actions (a new action fails here until it is reviewed)', () => {
      // Assess
      const actual: Record<string, string[]> = {};
      for (const [fn, role] of functionRoles()) {
        actual[fn] = [
          ...new Set(
            statementsOf(role)
              .flatMap(actionsOf)
              .filter((action) => !LOG_ACTIONS.has(action)),
          ),
        ].sort();
      }
      const expected = Object.fromEntries(
        Object.keys(actual).map((fn) => [fn, [...(ALLOWED_ACTIONS[fn] ?? ['<not in the allow-list>'])].sort()]),
      );
      expect(actual).toEqual(expected);
    });

    test('only Verify can read a secret value, in the tooling account and through its member-account session', () => {
      // Assess: every action pattern that covers secretsmanager:GetSecretValue, in each role and each session policy.
      const readsValues = (actions: readonly string[]): boolean =>
        actions.some((action) =>
          new RegExp(`^${action.replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i').test('secretsmanager:GetSecretValue'),
        );
      const roleReaders = [...functionRoles()].filter(([, role]) => readsValues(statementsOf(role).flatMap(actionsOf))).map(([fn]) => fn);
      const sessionReaders = Object.keys(MEMBER_SESSION_ACTIONS).filter((fn) =>
        readsValues(
          (JSON.parse(memberSessionOf(fn as MemberFunction).policy) as { Statement: Statement[] }).Statement.filter(
            (statement) => statement.Effect === 'Allow',
          ).flatMap(actionsOf),
        ),
      );
      expect({ roleReaders, sessionReaders }).toEqual({ roleReaders: ['rotateVerify'], sessionReaders: ['rotateVerify'] });
    });

    test('each function that assumes the member role has a session policy of exactly its role’s IAM, Secrets Manager, event-history and Security Hub actions', () => {
      // Assess
      const assumers = Object.entries(ALLOWED_ACTIONS)
        .filter(([, actions]) => actions.includes('sts:AssumeRole'))
        .map(([fn]) => fn)
        .sort();
      expect(Object.keys(MEMBER_SESSION_ACTIONS).sort()).toEqual(assumers);
      for (const [fn, role] of functionRoles()) {
        if (!assumers.includes(fn)) continue;
        const memberActions = [...new Set(statementsOf(role).flatMap(actionsOf))].filter(
          (action) =>
            /^(iam|secretsmanager):|^cloudtrail:LookupEvents$|^securityhub:/.test(action) &&
            !(THIS_ACCOUNT_ONLY[fn] ?? []).includes(action),
        );
        const policy = JSON.parse(memberSessionOf(fn as MemberFunction).policy) as { Statement: Statement[] };
        expect({
          fn,
          session: policy.Statement.filter((statement) => statement.Effect === 'Allow')
            .flatMap(actionsOf)
            .sort(),
        }).toEqual({ fn, session: memberActions.sort() });
      }
    });

    test('the roles of the functions that act in member accounts have the names stack/member-role.yml trusts', () => {
      // Assess
      for (const fn of Object.keys(MEMBER_SESSION_ACTIONS)) {
        const roleId = functionRoles().get(fn) ?? `<no role for ${fn}>`;
        expect({ fn, name: resource(roleId).Properties?.RoleName }).toEqual({
          fn,
          name: { 'Fn::Join': ['-', ['iam-key-rotator', 'ci', fn, { Ref: 'AWS::Region' }, 'lambdaRole']] },
        });
      }
    });

    test('the ledger’s token items (token#<user>) are written only by AwaitConfirmation; every other ledger writer is kept off them and off the organization scan’s pages, which only its steps reach; the decision records are read as nothing else', () => {
      // Assess
      const onlyTokens = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['token#*'] }, Null: { 'dynamodb:LeadingKeys': 'false' } };
      const neverTokens = {
        'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': ['token#*', 'orgscan#*'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      };
      // The organization scan's pages (shared/org/scan-store.ts): batch reads and writes of orgscan#* items and no others.
      const onlyOrgScanPages = {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['orgscan#*'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      };
      // The steps that read the CLI's confirm/abort records may read those items and no others (no token).
      const onlyDecisions = {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['confirm#*', 'abort#*'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      };
      // The LookupEvents rate counters (shared/aws/rate-gate.ts): UpdateItem of rate#* items and no others.
      const onlyRateCounters = {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['rate#*'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      };
      const writers: string[] = [];
      const counters: string[] = [];
      const pageUsers: string[] = [];
      for (const [owner, statements] of allRoles()) {
        for (const statement of statements.filter((candidate) => actionsOf(candidate).some((action) => action.startsWith('dynamodb:')))) {
          const readsDecisions = actionsOf(statement).every((action) => action === 'dynamodb:GetItem');
          const countsRate = actionsOf(statement).every((action) => action === 'dynamodb:UpdateItem');
          const usesPages = actionsOf(statement).every(
            (action) => action === 'dynamodb:BatchGetItem' || action === 'dynamodb:BatchWriteItem',
          );
          if (countsRate) counters.push(owner);
          else if (usesPages) pageUsers.push(owner);
          else if (!readsDecisions) writers.push(owner);
          const expected = countsRate
            ? onlyRateCounters
            : usesPages
              ? onlyOrgScanPages
              : readsDecisions
                ? onlyDecisions
                : owner === 'rotateAwaitConfirmation'
                  ? onlyTokens
                  : neverTokens;
          expect({ owner, condition: statement.Condition }).toEqual({ owner, condition: expected });
        }
      }
      expect(writers.sort()).toEqual(['notify', 'reportOrgScan', 'rotateAwaitConfirmation', 'scanKeys']);
      expect(counters.sort()).toEqual(['rotateCheckConsumers', 'rotateCheckObservation', 'rotateContain', 'rotatePromote']);
      expect(pageUsers.sort()).toEqual(['listAccounts', 'orgScanPages', 'reportOrgScan']);
    });

    test('no role grants a wildcard action (no "*" and no "service:*")', () => {
      // Assess
      for (const [owner, statements] of allRoles()) {
        for (const action of statements.flatMap(actionsOf)) expect(`${owner}: ${action}`).not.toMatch(/\*/);
      }
    });

    test('only the listed actions that IAM cannot scope run on Resource "*"', () => {
      // Assess
      for (const [owner, statements] of allRoles()) {
        const unscoped = statements.filter((statement) => resourcesOf(statement).includes('*')).flatMap(actionsOf);
        expect({ owner, unscoped: unscoped.sort() }).toEqual({ owner, unscoped: [...(UNSCOPED[owner] ?? [])].sort() });
      }
    });

    test('logs go only to the function’s own log group', () => {
      // Assess
      for (const [fn, role] of functionRoles()) {
        const logStatements = statementsOf(role).filter((statement) => actionsOf(statement).some((action) => LOG_ACTIONS.has(action)));
        expect(logStatements.length).toBeGreaterThan(0);
        for (const statement of logStatements) {
          for (const arn of resourcesOf(statement)) expect(subOf(arn)).toContain(`log-group:/aws/lambda/iam-key-rotator-ci-${fn}:`);
        }
      }
    });

    test('IAM user actions are scoped to users under the rotation path, and writes carry the optional tag condition', () => {
      // Assess
      const tagCondition = {
        'Fn::If': [
          'RestrictToTaggedUsers',
          { StringEquals: { 'aws:ResourceTag/rotation:managed': { Ref: 'RotationUserTagValue' } } },
          { Ref: 'AWS::NoValue' },
        ],
      };
      for (const [owner, statements] of allRoles()) {
        for (const statement of statements) {
          const actions = actionsOf(statement);
          if (!actions.some((action) => action.startsWith('iam:')) || resourcesOf(statement).includes('*')) continue;
          // Contain's one role write (AWSRevokeOlderSessions on a role the leaked key assumed): this account's roles
          // only, and only when the stack parameter CompromiseRevokeRoleSessions turns it on.
          if (actions.includes('iam:PutRolePolicy')) {
            expect({ owner, actions, resource: statement.Resource }).toEqual({
              owner: 'rotateContain',
              actions: ['iam:PutRolePolicy'],
              resource: {
                'Fn::If': [
                  'RevokesRoleSessions',
                  { 'Fn::Sub': 'arn:aws:iam::${AWS::AccountId}:role/*' },
                  { 'Fn::Sub': 'arn:aws:iam::${AWS::AccountId}:role/iam-key-rotator-role-session-revocation-is-off' },
                ],
              },
            });
            continue;
          }
          expect({ owner, resources: resourcesOf(statement).map(subOf) }).toEqual({
            owner,
            resources: ['arn:aws:iam::${AWS::AccountId}:user/*'],
          });
          if (actions.some((action) => USER_WRITES.has(action))) {
            expect({ owner, actions, condition: statement.Condition }).toEqual({ owner, actions, condition: tagCondition });
            expect(actions.every((action) => USER_WRITES.has(action))).toBe(true);
          }
          if (actions.includes('iam:UntagUser'))
            expect({ owner, actions, condition: statement.Condition }).toEqual({
              owner,
              actions: ['iam:UntagUser'],
              condition: MARKER_UNTAG,
            });
        }
      }
      expect(template.Parameters?.RotationUserTagValue).toMatchObject({ Default: '' });
    });

    test('secrets are reached only under the name prefix, KMS only through Secrets Manager or SNS, SNS and DynamoDB only on the stack’s topic and table', () => {
      // Assess
      for (const [owner, statements] of allRoles()) {
        for (const statement of statements) {
          const services = new Set(actionsOf(statement).map((action) => action.split(':')[0]));
          const resources = resourcesOf(statement);
          if (services.has('secretsmanager')) {
            // A grant that depends on a stack parameter: granted, under the prefix; not granted, on a name no secret under it can have.
            const conditional = (resources[0] as { 'Fn::If'?: [string, unknown, unknown] } | undefined)?.['Fn::If'];
            if (conditional) {
              expect({ owner, condition: conditional[0], granted: conditional[1], off: subOf(conditional[2]) }).toEqual({
                owner: 'rotateCreateAndStore',
                condition: 'SelfRefresh',
                granted: { 'Fn::Sub': 'arn:aws:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:iam-key-rotator/*' },
                off: 'arn:aws:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:iam-key-rotator-self-refresh-is-off',
              });
              expect(actionsOf(statement)).toEqual(['secretsmanager:PutResourcePolicy']);
              continue;
            }
            expect({ owner, resources: resources.map(subOf) }).toEqual({
              owner,
              resources: ['arn:aws:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:iam-key-rotator/*'],
            });
          }
          if (services.has('kms')) {
            expect(resources).toEqual([{ 'Fn::GetAtt': ['RotatorKey', 'Arn'] }]);
            const via = (statement.Condition as { StringEquals?: { 'kms:ViaService'?: unknown } } | undefined)?.StringEquals?.[
              'kms:ViaService'
            ];
            expect(subOf(via)).toMatch(/^(secretsmanager|sns)\.\$\{AWS::Region\}\.amazonaws\.com$/);
          }
          if (services.has('sns')) expect(resources).toEqual([{ Ref: 'NotificationTopic' }]);
          if (services.has('dynamodb')) expect(resources).toEqual([{ 'Fn::GetAtt': ['NotificationLedgerTable', 'Arn'] }]);
          if (services.has('ssm'))
            expect(resources.map(subOf)).toEqual(['arn:aws:ssm:${AWS::Region}:${AWS::AccountId}:parameter/iam-key-rotator/*']);
          if (services.has('states') && !STATE_MACHINE_ROLES.has(owner)) {
            // Built with Fn::Sub from the name: a Ref to the state machine from a Lambda role is a cycle.
            for (const arn of resources) {
              expect(subOf(arn)).toMatch(
                /^arn:aws:states:\$\{AWS::Region\}:\$\{AWS::AccountId\}:(stateMachine|execution):iam-key-rotator-ci-(rotate-key|scan-organization)(:\*)?$/,
              );
            }
            // Only the scanner starts the organization scan (SCAN_SCOPE=organization), and only starts it.
            if (resources.some((arn) => subOf(arn)?.includes('scan-organization')))
              expect({ owner, actions: actionsOf(statement) }).toEqual({ owner: 'scanKeys', actions: ['states:StartExecution'] });
          }
          // Member accounts are reached only through the member role, by name, in any account of the organization.
          // aws:ResourceOrgID: a role of that name in an account outside the organization cannot be assumed.
          if (services.has('sts'))
            expect({ owner, actions: actionsOf(statement), resources, condition: statement.Condition }).toEqual({
              owner,
              actions: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
              resources: ['arn:aws:iam::*:role/iam-key-rotator-member'],
              condition: { StringEquals: { 'aws:ResourceOrgID': { 'Fn::Join': ['', ['$', '{aws:PrincipalOrgID}']] } } },
            });
        }
      }
    });

    test.each([
      ['rotate-key', 'RotateKeyStateMachineRole'],
      ['scan-organization', 'ScanOrganizationStateMachineRole'],
    ])('the %s state machine may invoke exactly the functions its definition names', (file, roleId) => {
      // Assess
      const definition = readFileSync(repoPath('statemachines', `${file}.asl.json`), 'utf8');
      const named = new Set([...definition.matchAll(/"Fn::GetAtt":\s*\[\s*"(\w+)"/g)].map((match) => match[1] ?? ''));
      const logicalIds = [...named].map((fn) => `${fn.charAt(0).toUpperCase()}${fn.slice(1)}LambdaFunction`).sort();
      const invoke = statementsOf(roleId).filter((statement) => actionsOf(statement).includes('lambda:InvokeFunction'));
      expect(invoke.flatMap(actionsOf)).toEqual(['lambda:InvokeFunction']);
      const targets = new Set(
        invoke.flatMap(resourcesOf).map((arn) => {
          const getAtt = (arn as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
          const viaSub = (arn as { 'Fn::Sub'?: [string, { functionArn: { 'Fn::GetAtt': [string, string] } }] })['Fn::Sub']?.[1].functionArn[
            'Fn::GetAtt'
          ];
          return (getAtt ?? viaSub)?.[0] ?? JSON.stringify(arn);
        }),
      );
      expect([...targets].sort()).toEqual(logicalIds);
      // The Distributed Map runs each account as a child execution of the same state machine: the plugin grants exactly that.
      const others =
        file === 'scan-organization'
          ? [
              'states:StartExecution',
              'states:DescribeExecution',
              'states:StopExecution',
              'events:PutTargets',
              'events:PutRule',
              'events:DescribeRule',
            ]
          : [];
      expect(
        statementsOf(roleId)
          .flatMap(actionsOf)
          .filter((action) => !action.startsWith('logs:')),
      ).toEqual(['lambda:InvokeFunction', ...others]);
    });

    test('every role of the stack denies every IAM write on the protected users, by name and by path, and nothing else', () => {
      // Assess
      const roles = entriesOfType('AWS::IAM::Role');
      expect(roles.length).toBe(functionRoles().size + 2);
      for (const [id] of roles) {
        const denies = policyStatementsOf(id).filter((statement) => statement.Effect !== 'Allow');
        expect({ id, denies }).toEqual({
          id,
          denies: [
            {
              Sid: 'DenyProtectedUsers',
              Effect: 'Deny',
              Action: expect.arrayContaining([
                'iam:Create*',
                'iam:Update*',
                'iam:Delete*',
                'iam:Put*',
                'iam:Tag*',
                'iam:Untag*',
                'iam:Attach*',
              ]),
              Resource: [
                ...PROTECTED_USERS.flatMap((name) => [`arn:aws:iam::*:user/${name}`, `arn:aws:iam::*:user/*/${name}`]),
                ...PROTECTED_PATHS.map((path) => `arn:aws:iam::*:user${path}*`),
              ],
            },
          ],
        });
        // Every action the rotator's roles grant on users is a write the Deny covers, or a read it leaves (the scan reports protected users).
        const denied = actionsOf(denies[0] as Statement).map((pattern) => new RegExp(`^${pattern.replace('*', '.*')}$`));
        for (const action of USER_WRITES)
          expect({ id, action, denied: denied.some((pattern) => pattern.test(action)) }).toEqual({ id, action, denied: true });
        for (const read of ['iam:GetUser', 'iam:ListAccessKeys', 'iam:GetAccessKeyLastUsed', 'iam:ListUserTags', 'iam:GetCredentialReport'])
          expect({ id, read, denied: denied.some((pattern) => pattern.test(read)) }).toEqual({ id, read, denied: false });
      }
      // The functions read the same list: code and IAM cannot disagree.
      for (const fn of ofType('AWS::Lambda::Function')) {
        const variables = (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
        expect([variables.PROTECTED_USERS, variables.PROTECTED_PATHS]).toEqual([PROTECTED_USERS.join(','), PROTECTED_PATHS.join(',')]);
      }
    });

    test('every role of the stack takes the optional permissions boundary', () => {
      // Assess
      const roles = entriesOfType('AWS::IAM::Role');
      expect(roles.length).toBe(functionRoles().size + 2);
      for (const [id, role] of roles) {
        expect({ id, boundary: role.Properties?.PermissionsBoundary }).toEqual({
          id,
          boundary: { 'Fn::If': ['HasPermissionsBoundary', { Ref: 'PermissionsBoundaryArn' }, { Ref: 'AWS::NoValue' }] },
        });
      }
      expect(template.Parameters?.PermissionsBoundaryArn).toMatchObject({ Default: '' });
    });
  });

  describe('encryption and retention', () => {
    test('one customer managed key, rotated yearly and kept on stack deletion, encrypts new secrets and both topics; CloudWatch may use it to publish alarms', () => {
      // Assess
      const key = resource('RotatorKey') as Resource & { DeletionPolicy?: string };
      expect(key.DeletionPolicy).toBe('Retain');
      expect(key.Properties?.EnableKeyRotation).toBe(true);
      const keyStatements = (key.Properties?.KeyPolicy as { Statement: (Statement & { Principal: unknown })[] }).Statement;
      const cloudWatch = keyStatements.find((statement) => JSON.stringify(statement.Principal).includes('cloudwatch.amazonaws.com'));
      expect(cloudWatch?.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
      expect(cloudWatch?.Condition).toEqual({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
      for (const topic of ofType('AWS::SNS::Topic')) expect(topic.Properties?.KmsMasterKeyId).toEqual({ Ref: 'RotatorKey' });
      expect(ofType('AWS::SNS::Topic')).toHaveLength(2);
      for (const fn of ofType('AWS::Lambda::Function')) {
        expect((fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables.SECRET_KMS_KEY_ID).toEqual({
          'Fn::GetAtt': ['RotatorKey', 'Arn'],
        });
      }
    });

    test('the ledger table is encrypted and recoverable; every log group (functions and state machine) has a retention', () => {
      // Assess
      const table = resource('NotificationLedgerTable');
      expect(table.Properties?.SSESpecification).toEqual({ SSEEnabled: true });
      expect(table.Properties?.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      const groups = entriesOfType('AWS::Logs::LogGroup');
      expect(groups.length).toBe(functionRoles().size + 2);
      for (const [id, group] of groups) expect({ id, days: group.Properties?.RetentionInDays }).toEqual({ id, days: 30 });
    });

    test('the state machines log errors only, without execution data (the task token passes through the rotation)', () => {
      // Assess
      for (const machine of ofType('AWS::StepFunctions::StateMachine'))
        expect(machine.Properties?.LoggingConfiguration).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
    });
  });

  describe('alarms and dashboard', () => {
    const alarm = (id: string): Record<string, unknown> => resource(id).Properties ?? {};

    test('failed and timed-out rotations alarm on the state machine’s own metrics, to the alarm topic', () => {
      // Assess
      for (const [id, metric] of [
        ['RotationFailedAlarm', 'ExecutionsFailed'],
        ['RotationTimedOutAlarm', 'ExecutionsTimedOut'],
      ] as const) {
        expect(alarm(id)).toMatchObject({
          Namespace: 'AWS/States',
          MetricName: metric,
          Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: 'RotateKeyStateMachine' } }],
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: 'AlarmTopic' }],
        });
      }
    });

    test('NeedsAttention (an execution that ends Succeeded) alarms through a metric filter on the notify function’s log line', () => {
      // Assess
      const filter = resource('NeedsAttentionMetricFilter').Properties ?? {};
      expect(filter.LogGroupName).toEqual({ Ref: 'NotifyLogGroup' });
      expect(filter.MetricTransformations).toEqual([
        expect.objectContaining({ MetricNamespace: 'IamKeyRotator', MetricName: 'RotationsNeedingAttention' }),
      ]);
      // The filter matches the notifier's log messages verbatim: renaming one breaks the alarm, and this test.
      const notifier = readFileSync(repoPath('shared/notify/notifier.ts'), 'utf8');
      const messages = [...String(filter.FilterPattern).matchAll(/\$\.message = "([^"]+)"/g)].map((match) => match[1] ?? '');
      expect(messages).toHaveLength(3);
      for (const message of messages) expect(notifier).toContain(`'${message}'`);
      expect(String(filter.FilterPattern)).toContain('$.event = "action-needed"');
      expect(alarm('RotationNeedsAttentionAlarm')).toMatchObject({
        Namespace: 'IamKeyRotator',
        MetricName: 'RotationsNeedingAttention',
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      });
    });

    test('the scan and the trigger alarm on their Lambda errors; only CloudWatch of this account may publish to the alarm topic', () => {
      // Assess
      expect(alarm('ScanFailedAlarm')).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'ScanKeysLambdaFunction' } }],
      });
      expect(alarm('StartRotationFailedAlarm')).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'StartRotationLambdaFunction' } }],
      });
      expect(alarm('OrgScanFailedAlarm')).toMatchObject({
        Namespace: 'AWS/States',
        MetricName: 'ExecutionsFailed',
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: 'ScanOrganizationStateMachine' } }],
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      });
      const policy = JSON.stringify(resource('AlarmTopicPolicy').Properties);
      expect(policy).toContain('cloudwatch.amazonaws.com');
      expect(policy).toContain('aws:SourceAccount');
    });

    test('the dashboard is valid JSON and charts executions, keys by class, scan actions and the alarms', () => {
      // Assess
      const [body, values] = (resource('Dashboard').Properties?.DashboardBody as { 'Fn::Sub': [string, Record<string, unknown>] })[
        'Fn::Sub'
      ];
      const filled = body.replace(/\$\{([\w:]+)\}/g, (_all, name: string) => {
        if (!(name in values) && name !== 'AWS::Region') throw new Error(`dashboard placeholder \${${name}} has no value`);
        return `placeholder-${name}`;
      });
      const dashboard = JSON.parse(filled) as { widgets: { properties: { title: string } }[] };
      expect(dashboard.widgets.map((widget) => widget.properties.title)).toEqual([
        'Rotations (executions per day)',
        'Access keys by class (last scan)',
        'Scan actions per day',
        'Alarms',
      ]);
      for (const metric of [
        'ExecutionsStarted',
        'ExecutionsSucceeded',
        'ExecutionsFailed',
        'RotationsNeedingAttention',
        'KeysByClass',
        'RotationsStarted',
      ])
        expect(body).toContain(metric);
    });
  });
});
