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
