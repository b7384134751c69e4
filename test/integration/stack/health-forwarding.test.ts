import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrigger } from '#shared/start/triggers.ts';
import { parseCloudFormationYaml } from '../../helpers/cloudformation-yaml.ts';
import { matchesPattern } from '../../helpers/event-pattern.ts';
import { healthDeliveries, otherHealthEvent } from '../../helpers/health-events.ts';
import { repoPath } from '../../helpers/paths.ts';

// AWS Health publishes IAM's events (AWS_RISK_CREDENTIALS_EXPOSED) only in us-east-1, us-west-2 as its
// backup (AWS Health user guide). The stack is packaged here for eu-west-1, as the README deploys it,
// and stack/health-forwarding.yml must bring those events to that Region's bus, where the stack's
// rule matches them. moto implements neither TestEventPattern nor cross-Region delivery, so the
// rule's pattern is checked as data (helpers/event-pattern.ts); cfn-lint is a Python tool, hence
// the integration tier. The us-east-1 package is checked in test/integration/functions/package.test.ts.

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
}
interface Template {
  Resources: Record<string, Resource>;
  Rules?: Record<string, unknown>;
}

const STACK_REGION = 'eu-west-1';
const forwardingPath = repoPath('stack/health-forwarding.yml');
const forwarding = parseCloudFormationYaml(readFileSync(forwardingPath, 'utf8')) as Template;
const resourceOf = (template: Template, type: string): Resource => {
  const found = Object.values(template.Resources).filter((resource) => resource.Type === type);
  if (found.length !== 1 || !found[0]) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
};
const BUS_ARN = { 'Fn::Sub': 'arn:${AWS::Partition}:events:${RotatorRegion}:${AWS::AccountId}:event-bus/default' };

test('cfn-lint finds nothing in stack/health-forwarding.yml, informational checks included', () => {
  // Act
  const lint = spawnSync('cfn-lint', ['--format', 'parseable', '--include-checks', 'I', '--', forwardingPath], { encoding: 'utf8' });

  // Assess
  if (lint.error) throw new Error(`cfn-lint could not run (${lint.error.message}): install it with \`pip install cfn-lint\``);
  expect(lint.stdout.split('\n').filter((line) => /:[EWI]\d{4}:/.test(line))).toEqual([]);
  expect(lint.status).toBe(0);
});

test("the forwarding rule targets the rotator Region's default bus, with a role that may put events there and nowhere else", () => {
  // Prepare
  const rule = resourceOf(forwarding, 'AWS::Events::Rule');
  const role = resourceOf(forwarding, 'AWS::IAM::Role');

  // Act
  const targets = rule.Properties?.Targets as { Arn: unknown; RoleArn: unknown }[];
  const policies = role.Properties?.Policies as {
    PolicyDocument: { Statement: { Effect: string; Action: unknown; Resource: unknown }[] };
  }[];

  // Assess
  expect(targets).toEqual([{ Id: 'rotator-region-default-bus', Arn: BUS_ARN, RoleArn: { 'Fn::GetAtt': ['ForwardingRole', 'Arn'] } }]);
  expect(policies.flatMap((policy) => policy.PolicyDocument.Statement)).toEqual([
    { Effect: 'Allow', Action: 'events:PutEvents', Resource: BUS_ARN },
  ]);
  expect(role.Properties?.AssumeRolePolicyDocument).toMatchObject({
    Statement: [
      { Principal: { Service: 'events.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } },
    ],
  });
  // Deployed in the rotator's own Region it would feed the bus its own events: the template refuses.
  expect(JSON.stringify(forwarding.Rules)).toContain('"Fn::Not":[{"Fn::Equals":[{"Ref":"RotatorRegion"},{"Ref":"AWS::Region"}]}]');
});

describe(`the stack packaged for ${STACK_REGION}`, () => {
  let outDir: string;
  let healthRule: Resource;

  beforeAll(() => {
    // Prepare
    outDir = mkdtempSync(join(tmpdir(), 'iam-key-rotator-package-eu-'));

    // Act
    const result = spawnSync('osls', ['package', '--stage', 'ci', '--region', STACK_REGION, '--package', outDir], {
      encoding: 'utf8',
      env: process.env,
      timeout: 170_000,
    });
    if (result.status !== 0) throw new Error(`osls package failed:\n${result.stdout}\n${result.stderr}`);
    const template = JSON.parse(readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
    const rules = Object.values(template.Resources).filter(
      (resource) => resource.Type === 'AWS::Events::Rule' && JSON.stringify(resource.Properties?.EventPattern ?? {}).includes('aws.health'),
    );
    if (rules.length !== 1 || !rules[0]) throw new Error(`expected one Health rule, found ${rules.length}`);
    healthRule = rules[0];
  }, 180_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  test('its Health rule matches exactly what the forwarding template forwards', () => {
    // Assess
    expect(resourceOf(forwarding, 'AWS::Events::Rule').Properties?.EventPattern).toEqual(healthRule.Properties?.EventPattern);
  });

  test.each(healthDeliveries(STACK_REGION))('its Health rule matches an event %s, and the delivered event parses', (_how, event) => {
    // Prepare
    const template =
      (healthRule.Properties?.Targets as { InputTransformer: { InputTemplate: string } }[])[0]?.InputTransformer.InputTemplate ?? '';
    const ruleArn = `arn:aws:events:${STACK_REGION}:123456789012:rule/iam-key-rotator-ci-health`;

    // Act
    const delivered: unknown = JSON.parse(
      template.replace('<aws.events.rule-arn>', ruleArn).replace('<aws.events.event.json>', JSON.stringify(event)),
    );

    // Assess
    expect(matchesPattern(healthRule.Properties?.EventPattern, event)).toBe(true);
    expect(parseTrigger(delivered)).toMatchObject({ type: 'requests', source: 'health' });
  });

  test('its Health rule does not match another Health event type', () => {
    // Act & Assess
    expect(matchesPattern(healthRule.Properties?.EventPattern, otherHealthEvent)).toBe(false);
  });
});
