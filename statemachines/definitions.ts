import { readFileSync } from 'node:fs';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import type { StateMachine } from './asl.ts';
import { rotateKeyDefinition } from './rotate-key.ts';
import { scanOrganizationDefinition } from './scan-organization.ts';

/**
 * The committed definitions, which serverless.yml deploys (`${file(...)}`) and local runs execute,
 * and the builders they are generated from (`npm run build:asl`; a unit test fails when they drift).
 */

export const ASL_PATH = new URL('./rotate-key.asl.json', import.meta.url);
export const ORG_ASL_PATH = new URL('./scan-organization.asl.json', import.meta.url);

export const WORKFLOWS: readonly { readonly path: URL; readonly build: () => StateMachine<string> }[] = [
  { path: ASL_PATH, build: rotateKeyDefinition },
  { path: ORG_ASL_PATH, build: scanOrganizationDefinition },
];

const REGION_FALLBACK = 'us-east-1';

/**
 * A committed definition as AWS would see it after deployment: `{"Fn::GetAtt": [fn, "Arn"]}`, which
 * serverless-step-functions resolves at deploy time, becomes a plain Lambda ARN, as
 * aws-local-stepfunctions and asl-validator need.
 */
function resolvedDefinition(path: URL, region: string, accountId: string): StateMachineDefinition {
  const reviver = (_key: string, value: unknown): unknown => {
    if (value && typeof value === 'object' && !Array.isArray(value) && 'Fn::GetAtt' in value) {
      const [functionKey, attribute] = (value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
      if (attribute !== 'Arn') throw new Error(`Unsupported Fn::GetAtt attribute ${attribute} in the state machine`);
      return `arn:aws:lambda:${region}:${accountId}:function:${functionKey}`;
    }
    return value;
  };
  return JSON.parse(readFileSync(path, 'utf8'), reviver) as StateMachineDefinition;
}

/** The rotation workflow (statemachines/rotate-key.asl.json), its Lambdas as ARNs in the given account. */
export function loadDefinition(region = process.env.AWS_REGION ?? REGION_FALLBACK, accountId = '000000000000'): StateMachineDefinition {
  return resolvedDefinition(ASL_PATH, region, accountId);
}

/** The organization scan (statemachines/scan-organization.asl.json), its Lambdas as ARNs. */
export function loadOrgScanDefinition(region = process.env.AWS_REGION ?? REGION_FALLBACK): StateMachineDefinition {
  return resolvedDefinition(ORG_ASL_PATH, region, '000000000000');
}
