// `npm run build:asl`: writes the committed statemachines/*.asl.json from their TypeScript builders.
// serverless.yml deploys those files and asl-validator reads them; test/unit/statemachines/builders.test.ts
// fails when a file and its builder disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aslJson } from '../statemachines/asl.ts';
import { WORKFLOWS } from '../statemachines/definitions.ts';

for (const { path, build } of WORKFLOWS) {
  const text = aslJson(build());
  const name = relative(process.cwd(), fileURLToPath(path));
  if (readFileSync(path, 'utf8') === text) {
    console.log(`${name}: unchanged`);
    continue;
  }
  writeFileSync(path, text);
  console.log(`${name}: written`);
}
