import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { basename } from 'node:path';
import { aslJson } from '#statemachines/asl.ts';
import { WORKFLOWS } from '#statemachines/definitions.ts';

// serverless.yml deploys the committed JSON, not the builders: a builder edited without
// `npm run build:asl` (or the JSON edited by hand) would deploy something else than the source says.
describe.each(WORKFLOWS.map((workflow) => [basename(fileURLToPath(workflow.path)), workflow] as const))('%s', (_file, { path, build }) => {
  const text = readFileSync(path, 'utf8');

  test('is what its builder generates (npm run build:asl)', () => {
    // Act & Assess
    expect(JSON.parse(aslJson(build()))).toEqual(JSON.parse(text));
  });

  // Key order and layout too: serverless-step-functions deploys JSON.stringify of the parsed file, so a
  // reordered key changes the deployed definition string even where the meaning is the same.
  test('has the layout the builder writes', () => {
    // Act & Assess
    expect(text).toBe(aslJson(build()));
  });
});
