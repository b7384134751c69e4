import { describe, expect, test, beforeAll, afterAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
}
interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, unknown>;
}

// `osls package` is the deploy path minus the upload: it bundles every function with esbuild and
// validates the state machine. Packaging into a temp dir keeps parallel runs from clobbering .serverless/.
describe('osls package', () => {
  let outDir: string;
  let template: Template;
  let packageOutput: string;

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'iam-key-rotator-package-'));
    const result = spawnSync('osls', ['package', '--stage', 'ci', '--package', outDir], { encoding: 'utf8', env: process.env });
    packageOutput = `${result.stdout}\n${result.stderr}`;
    if (result.status !== 0) throw new Error(`osls package failed:\n${packageOutput}`);
    template = JSON.parse(readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  }, 120_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  const ofType = (type: string): Resource[] => Object.values(template.Resources).filter((resource) => resource.Type === type);

  test('validates the rotation state machine definition', () => {
    expect(packageOutput).toMatch(/definition is valid/);
    expect(ofType('AWS::StepFunctions::StateMachine')).not.toHaveLength(0);
  });

  test('every function runs on nodejs22.x and arm64', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      expect(fn.Properties?.Runtime).toBe('nodejs22.x');
      expect(fn.Properties?.Architectures).toEqual(['arm64']);
    }
  });

  test('the scanner runs on a daily schedule by default', () => {
    const rules = ofType('AWS::Events::Rule');
    expect(rules.map((rule) => rule.Properties?.ScheduleExpression)).toContain('rate(1 day)');
  });

  test('cfn-lint finds no errors in the template (e.g. no circular dependencies)', () => {
    const lint = spawnSync('cfn-lint', ['--format', 'parseable', join(outDir, 'cloudformation-template-update-stack.json')], { encoding: 'utf8' });
    if (lint.error) throw new Error(`cfn-lint could not run (${lint.error.message}): install it with \`pip install cfn-lint\``);
    const errors = lint.stdout.split('\n').filter((line) => /:E\d{4}:/.test(line));
    expect(errors).toEqual([]);
  });

  test('the stack outputs what the CLI reads', () => {
    expect(Object.keys(template.Outputs ?? {})).toEqual(expect.arrayContaining(['RotateKeyStateMachineArn', 'NotificationTopicArn']));
  });
});
