import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { MEMBER_SESSION_ACTIONS } from '#shared/aws/member-session-policies.ts';
import { parseCloudFormationYaml } from '../../helpers/cloudformation-yaml.ts';
import { repoPath } from '../../helpers/paths.ts';

const templateText = readFileSync(repoPath('stack/member-role.yml'), 'utf8');

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: unknown;
}
interface Template {
  Parameters: Record<string, Record<string, unknown>>;
  Conditions: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  Outputs: Record<string, { Value: unknown }>;
}

const template = parseCloudFormationYaml(templateText) as Template;
const role = template.Resources.MemberRole;
type Policy = { PolicyName: string; PolicyDocument: { Statement: Statement[] } };
const policies = role?.Properties.Policies as unknown[];
/** The grants: the plain policy. The protected users' Deny is the policy under Fn::If (checked on its own below). */
const statements = policies
  .filter((policy): policy is Policy => (policy as Partial<Policy>).PolicyDocument !== undefined)
  .flatMap((policy) => policy.PolicyDocument.Statement);
const conditionalPolicies = policies.filter((policy) => (policy as Partial<Policy>).PolicyDocument === undefined);
const trust = (role?.Properties.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;
const actionsOf = (statement: Statement): string[] => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);
const resourcesOf = (statement: Statement): unknown[] => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]);

/**
 * The reviewed allow-list of the rotator's own functions (test/integration/functions/package.test.ts), read as
 * text: importing that file would register its tests here. The member role must let the rotator do
 * in a member account exactly what its functions do in their own, no more and no less.
 */
function allowList(constant: string): string {
  const source = readFileSync(repoPath('test/integration/functions/package.test.ts'), 'utf8');
  const start = source.indexOf(`const ${constant}`);
  const end = source.indexOf('\n};', start);
  if (start === -1 || end === -1) throw new Error(`${constant} not found in test/integration/functions/package.test.ts`);
  return source.slice(start, end);
}
const actionsIn = (text: string, services: RegExp): string[] =>
  [...new Set([...text.matchAll(/'([a-z0-9-]+:[A-Za-z0-9]+)'/g)].map((match) => match[1] ?? ''))]
    .filter((action) => services.test(action))
    .sort();
const MEMBER_SERVICES = /^(iam|secretsmanager):|^cloudtrail:LookupEvents$/;
// Contain's iam:PutRolePolicy acts in the stack's own account only (THIS_ACCOUNT_ONLY in the package test):
// in a member account it names the command for the roles the key assumed there (outcome member-account).
const THIS_ACCOUNT_ONLY = ['iam:PutRolePolicy'];
const DERIVED_ACTIONS = actionsIn(allowList('ALLOWED_ACTIONS'), MEMBER_SERVICES).filter((action) => !THIS_ACCOUNT_ONLY.includes(action));
const UNSCOPED_ACTIONS = actionsIn(
  allowList('UNSCOPED')
    .split('\n')
    .filter((line) => line.includes('scanKeys') || line.includes('cloudtrail:LookupEvents'))
    .join('\n'),
  MEMBER_SERVICES,
);
/** Granted only with SelfRefresh=true (checked with the conditional policies below). */
const GRANTED_WITH_SELF_REFRESH = ['secretsmanager:PutResourcePolicy'];
const USER_WRITES = ['iam:CreateAccessKey', 'iam:DeleteAccessKey', 'iam:PutUserPolicy', 'iam:UpdateAccessKey'];

const USERS = { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:user${RotationUserPath}*' };
const SECRETS = { 'Fn::Sub': 'arn:${AWS::Partition}:secretsmanager:*:${AWS::AccountId}:secret:${SecretNamePrefix}*' };
/** The role of each function that acts in member accounts, of the one stage the parameters name. */
const ROTATOR_ROLES = Object.keys(MEMBER_SESSION_ACTIONS).map((fn) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:iam::\${ToolingAccountId}:role/iam-key-rotator-\${RotatorStage}-${fn}-\${RotatorRegion}-lambdaRole`,
}));

describe('stack/member-role.yml', () => {
  test('the allow-list it is checked against was read (the rotator’s IAM, Secrets Manager and event-history actions)', () => {
    // Assess: the actions read from the allow-list when this file loaded.
    expect(DERIVED_ACTIONS).toEqual(
      expect.arrayContaining(['iam:CreateAccessKey', 'iam:GetCredentialReport', 'secretsmanager:PutSecretValue']),
    );
    expect(UNSCOPED_ACTIONS).toEqual([
      'cloudtrail:LookupEvents',
      'iam:GenerateCredentialReport',
      'iam:GetAccountAuthorizationDetails',
      'iam:GetCredentialReport',
    ]);
  });

  test('the role holds exactly the IAM, Secrets Manager and event-history actions of the rotator’s own functions (self-refresh’s with its parameter)', () => {
    // Assess
    expect([...new Set(statements.flatMap(actionsOf))].sort()).toEqual(
      DERIVED_ACTIONS.filter((action) => !GRANTED_WITH_SELF_REFRESH.includes(action)),
    );
  });

  test('no wildcard action, no Deny, no KMS: secrets use the account’s aws/secretsmanager key', () => {
    // Assess
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      for (const action of actionsOf(statement)) expect(action).not.toMatch(/\*/);
    }
    expect(statements.flatMap(actionsOf).filter((action) => action.startsWith('kms:'))).toEqual([]);
    expect(templateText).toMatch(/aws\/secretsmanager/);
  });

  test('only the actions IAM cannot scope run on Resource "*"', () => {
    // Assess
    const unscoped = statements.filter((statement) => resourcesOf(statement).includes('*')).flatMap(actionsOf);

    expect(unscoped.sort()).toEqual(UNSCOPED_ACTIONS);
  });

  test('user actions reach only users under the rotation path, secrets only under the name prefix', () => {
    // Assess
    for (const statement of statements.filter((s) => !resourcesOf(s).includes('*'))) {
      const services = new Set(actionsOf(statement).map((action) => action.split(':')[0]));
      expect(services.size).toBe(1);
      expect({ sid: statement.Sid, resources: resourcesOf(statement) }).toEqual({
        sid: statement.Sid,
        resources: [services.has('iam') ? USERS : SECRETS],
      });
    }
    expect(template.Parameters.RotationUserPath?.Default).toBe('/');
    expect(template.Parameters.SecretNamePrefix?.Default).toBe('iam-key-rotator/');
  });

  test('writes on users carry the optional rotation:managed tag condition, as the tooling stack’s do', () => {
    // Assess
    const writes = statements.filter((statement) => actionsOf(statement).some((action) => USER_WRITES.includes(action)));

    expect(writes.flatMap(actionsOf).sort()).toEqual(USER_WRITES);
    for (const statement of writes) {
      expect(statement.Condition).toEqual({
        'Fn::If': [
          'RestrictToTaggedUsers',
          { StringEquals: { 'aws:ResourceTag/rotation:managed': { Ref: 'RotationUserTagValue' } } },
          { Ref: 'AWS::NoValue' },
        ],
      });
    }
    expect(template.Conditions.RestrictToTaggedUsers).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'RotationUserTagValue' }, ''] }] });
    expect(template.Parameters.RotationUserTagValue?.Default).toBe('');
  });

  test('tags are removed only from the rotation:confirm/abort markers, under the same optional tag condition', () => {
    // Assess
    const untags = statements.filter((statement) => actionsOf(statement).includes('iam:UntagUser'));
    const markers = {
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['rotation:confirm', 'rotation:abort'] },
      Null: { 'aws:TagKeys': 'false' },
    };

    expect(untags).toHaveLength(1);
    expect(actionsOf(untags[0] as Statement)).toEqual(['iam:UntagUser']);
    expect(untags[0]?.Condition).toEqual({
      'Fn::If': [
        'RestrictToTaggedUsers',
        { StringEquals: { 'aws:ResourceTag/rotation:managed': { Ref: 'RotationUserTagValue' } }, ...markers },
        markers,
      ],
    });
  });

  describe('trust', () => {
    test('only the tooling account’s rotator roles may assume it, with sts:AssumeRole and sts:SetSourceIdentity', () => {
      // Assess
      expect(trust).toHaveLength(1);
      const [statement] = trust;
      expect(statement).toMatchObject({
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${ToolingAccountId}:root' } },
      });
    });

    test('the trust names each member-acting function role of one stage (no wildcard); the ExternalId condition only when one is given', () => {
      // Assess
      const condition = trust[0]?.Condition;

      expect(condition).toEqual({
        ArnEquals: { 'aws:PrincipalArn': ROTATOR_ROLES },
        StringEquals: { 'Fn::If': ['HasExternalId', { 'sts:ExternalId': { Ref: 'ExternalId' } }, { Ref: 'AWS::NoValue' }] },
      });
      expect(JSON.stringify(condition)).not.toContain('*');
      expect(template.Conditions.HasExternalId).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ExternalId' }, ''] }] });
    });
  });

  describe('parameters', () => {
    const pattern = (name: string): RegExp => new RegExp(String(template.Parameters[name]?.AllowedPattern));

    test('the names and defaults the README and the StackSet commands use', () => {
      // Assess
      expect(Object.keys(template.Parameters).sort()).toEqual(
        [
          'ExternalId',
          'PermissionsBoundaryArn',
          'ProtectedPaths',
          'ProtectedUsers',
          'RoleName',
          'RotationUserPath',
          'RotationUserTagValue',
          'RotatorRegion',
          'RotatorStage',
          'SecretNamePrefix',
          'SecurityHubFindings',
          'SelfRefresh',
          'ToolingAccountId',
        ].sort(),
      );
      expect(template.Parameters.RoleName?.Default).toBe('iam-key-rotator-member');
      expect(template.Parameters.RotatorStage?.Default).toBeUndefined();
      expect(template.Parameters.RotatorRegion?.Default).toBe('us-east-1');
      expect(template.Parameters.ToolingAccountId?.Default).toBeUndefined();
    });

    test('the ExternalId is never echoed and may be empty', () => {
      // Act & Assess
      expect(template.Parameters.ExternalId).toMatchObject({ NoEcho: true, MinLength: 0, Default: '' });
      expect(pattern('ExternalId').test('')).toBe(true);
      expect(pattern('ExternalId').test('a')).toBe(false);
      expect(pattern('ExternalId').test('rotator-7f3e2c1a')).toBe(true);
    });

    test.each<[string, string, boolean]>([
      ['ToolingAccountId', '123456789012', true],
      ['ToolingAccountId', '12345678901', false],
      ['ToolingAccountId', '1234567890123', false],
      ['RotationUserPath', '/', true],
      ['RotationUserPath', '/service-accounts/', true],
      ['RotationUserPath', '/a/b/', true],
      ['RotationUserPath', 'service-accounts/', false],
      ['RotationUserPath', '/service-accounts', false],
      ['SecretNamePrefix', 'iam-key-rotator/', true],
      ['SecretNamePrefix', 'has space', false],
      ['RotatorStage', 'prod', true],
      ['RotatorStage', 'prod-*', false],
      ['RotatorStage', '*', false],
      ['RotatorRegion', 'eu-west-1', true],
      ['RotatorRegion', 'us-gov-west-1', true],
      ['RotatorRegion', '*', false],
      ['PermissionsBoundaryArn', '', true],
      ['PermissionsBoundaryArn', 'arn:aws:iam::123456789012:policy/boundary', true],
      ['PermissionsBoundaryArn', 'boundary', false],
    ])('%s "%s" is allowed: %s', (name, value, allowed) => {
      // Act & Assess
      expect(pattern(name).test(value)).toBe(allowed);
    });
  });

  test('the permissions boundary is optional, and the role ARN is an output', () => {
    // Assess
    expect(role?.Properties.PermissionsBoundary).toEqual({
      'Fn::If': ['HasPermissionsBoundary', { Ref: 'PermissionsBoundaryArn' }, { Ref: 'AWS::NoValue' }],
    });
    expect(role?.Properties.RoleName).toEqual({ Ref: 'RoleName' });
    expect(template.Outputs.MemberRoleArn?.Value).toEqual({ 'Fn::GetAtt': ['MemberRole', 'Arn'] });
    expect(Object.keys(template.Resources)).toEqual(['MemberRole']);
  });
  describe('the protected users (ProtectedUsers, ProtectedPaths)', () => {
    // The tooling stack's plugin: its Deny is what the member role must match.
    const roles = createRequire(repoPath('stack/roles.cjs'))(repoPath('stack/roles.cjs')) as {
      protectedUsersPolicy: (environment: Record<string, string>) => Policy | undefined;
    };

    /** CloudFormation's evaluation of the few intrinsics the Deny uses, for given parameter values. */
    function evaluate(node: unknown, parameters: Record<string, string>): unknown {
      if (Array.isArray(node)) return node.map((item) => evaluate(item, parameters)).filter((item) => item !== NO_VALUE);
      if (node === null || typeof node !== 'object') return node;
      const entries = Object.entries(node as Record<string, unknown>);
      const [name, argument] = entries[0] ?? [];
      if (entries.length === 1 && name === 'Ref') return argument === 'AWS::NoValue' ? NO_VALUE : parameters[String(argument)];
      if (entries.length === 1 && name === 'Condition') return condition(String(argument), parameters);
      if (entries.length === 1 && name === 'Fn::Not') return !(evaluate((argument as unknown[])[0], parameters) as boolean);
      if (entries.length === 1 && name === 'Fn::Or') return (argument as unknown[]).some((item) => evaluate(item, parameters) === true);
      if (entries.length === 1 && name === 'Fn::Equals') {
        const [a, b] = (argument as unknown[]).map((item) => evaluate(item, parameters));
        return a === b;
      }
      if (entries.length === 1 && name === 'Fn::If') {
        const [test, yes, no] = argument as [string, unknown, unknown];
        return evaluate(condition(test, parameters) ? yes : no, parameters);
      }
      if (entries.length === 1 && name === 'Fn::Split') {
        const [separator, text] = argument as [string, unknown];
        return String(evaluate(text, parameters)).split(separator);
      }
      if (entries.length === 1 && name === 'Fn::Join') {
        const [separator, items] = argument as [string, unknown];
        return (evaluate(items, parameters) as unknown[]).join(separator);
      }
      return Object.fromEntries(entries.map(([key, value]) => [key, evaluate(value, parameters)]));
    }
    const NO_VALUE = Symbol('AWS::NoValue');
    const condition = (name: string, parameters: Record<string, string>): boolean =>
      evaluate(template.Conditions[name], parameters) === true;
    const denyFor = (users: string, paths: string): unknown =>
      evaluate(conditionalPolicies, { ProtectedUsers: users, ProtectedPaths: paths });

    test('Security Hub: no grant by default; with SecurityHubFindings=true exactly the actions the scan and Notify sessions ask for, on this account’s own product and hub', () => {
      // Act
      const off = evaluate(conditionalPolicies, { SecurityHubFindings: 'false' }) as Policy[];
      const on = (evaluate(conditionalPolicies, { SecurityHubFindings: 'true' }) as Policy[]).find(
        (policy) => policy.PolicyName === 'keep-key-findings',
      );

      // Assess
      expect(template.Parameters.SecurityHubFindings?.Default).toBe('false');
      expect(off.map((policy) => policy.PolicyName)).not.toContain('keep-key-findings');
      const sessionActions = [
        ...new Set(
          Object.values(MEMBER_SESSION_ACTIONS)
            .flat()
            .filter((action) => action.startsWith('securityhub:')),
        ),
      ].sort();
      expect((on?.PolicyDocument.Statement ?? []).flatMap(actionsOf).sort()).toEqual(sessionActions);
      expect((on?.PolicyDocument.Statement ?? []).flatMap(resourcesOf)).toEqual([
        { 'Fn::Sub': 'arn:${AWS::Partition}:securityhub:${RotatorRegion}:${AWS::AccountId}:product/${AWS::AccountId}/default' },
        { 'Fn::Sub': 'arn:${AWS::Partition}:securityhub:${RotatorRegion}:${AWS::AccountId}:hub/default' },
      ]);
    });

    test('self-refresh: no grant by default; with SelfRefresh=true only PutResourcePolicy, on the secrets under the prefix', () => {
      // Act
      const off = evaluate(conditionalPolicies, { SelfRefresh: 'false' }) as Policy[];
      const on = (evaluate(conditionalPolicies, { SelfRefresh: 'true' }) as Policy[]).find(
        (policy) => policy.PolicyName === 'let-users-read-own-secret',
      );

      // Assess
      expect(template.Parameters.SelfRefresh?.Default).toBe('false');
      expect(off.map((policy) => policy.PolicyName)).not.toContain('let-users-read-own-secret');
      expect((on?.PolicyDocument.Statement ?? []).flatMap(actionsOf)).toEqual(GRANTED_WITH_SELF_REFRESH);
      expect((on?.PolicyDocument.Statement ?? []).flatMap(resourcesOf)).toEqual([SECRETS]);
      expect(MEMBER_SESSION_ACTIONS.rotateCreateAndStore).toContain('secretsmanager:PutResourcePolicy');
    });

    test('nothing protected: no Deny policy (a statement needs a resource)', () => {
      // Act & Assess
      expect(template.Parameters.ProtectedUsers?.Default).toBe('');
      expect(template.Parameters.ProtectedPaths?.Default).toBe('');
      expect(denyFor('', '')).toEqual([]);
    });

    test.each([
      ['break-glass,deployer', '/break-glass/'],
      ['break-glass', ''],
      ['', '/break-glass/,/ops/admins/'],
    ])('users %j, paths %j: the same Deny of every IAM write on them as every role of the tooling stack', (users, paths) => {
      // Act: the Deny the template yields for these parameter values.
      const [policy] = denyFor(users, paths) as Policy[];
      const denies = policy?.PolicyDocument.Statement ?? [];

      // Assess
      expect(denies.every((statement) => statement.Effect === 'Deny')).toBe(true);
      const tooling = roles.protectedUsersPolicy({ PROTECTED_USERS: users, PROTECTED_PATHS: paths });
      const [toolingDeny] = tooling?.PolicyDocument.Statement ?? [];
      for (const statement of denies) expect(statement.Action).toEqual(toolingDeny?.Action);
      expect(denies.flatMap(resourcesOf).sort()).toEqual([...resourcesOf(toolingDeny as Statement)].sort());
    });

    test.each([
      ['ProtectedUsers', 'break-glass,deployer', true],
      ['ProtectedUsers', 'break-glass, deployer', false],
      ['ProtectedUsers', 'a/b', false],
      ['ProtectedPaths', '/break-glass/,/ops/admins/', true],
      ['ProtectedPaths', '/break-glass', false],
      ['ProtectedPaths', '/', false],
    ])('%s accepts %j: %s', (parameter, value, accepted) => {
      // Act & Assess
      expect(new RegExp(String(template.Parameters[parameter]?.AllowedPattern)).test(value)).toBe(accepted);
    });
  });
});
