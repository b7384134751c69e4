#!/usr/bin/env node
// `npm run build` (and `npm ci`, `npm pack` through "prepare"): the CLI as one ES module, dist/cli.mjs, so the CLI that
// ships starts without tsx and installs with no dependencies. The state machine definitions it executes locally sit
// beside it, where statemachines/definitions.ts finds them (`new URL('./rotate-key.asl.json', import.meta.url)`).
// dist/cli-inputs.json lists the project files it was built from: bin/iam-key-rotator.mjs runs the sources through
// tsx instead whenever one of them is newer than the bundle, so an edit in a clone is never hidden by an old build.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const started = Date.now();

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);
const result = await build({
  absWorkingDir: root,
  entryPoints: { cli: 'cli/main.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  // What a command imports lazily (Vega, to draw the report) is a chunk of its own, read only by that command. Chunks
  // sit beside cli.mjs: a module that finds a file by its own import.meta.url (the definitions) may end up in one.
  splitting: true,
  chunkNames: '[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // The SDK's ES modules, which esbuild tree-shakes (as in the Lambda bundles, serverless.yml).
  mainFields: ['module', 'main'],
  // A few bundled packages are CommonJS and call require() for Node's own modules.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  minify: true,
  // Stack traces under --debug name the source file and line; the sources themselves stay out of the package.
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
for (const file of readdirSync(join(root, 'statemachines')).filter((name) => name.endsWith('.asl.json'))) {
  copyFileSync(join(root, 'statemachines', file), join(dist, file));
}
writeFileSync(join(dist, 'THIRD-PARTY-LICENSES.txt'), thirdPartyLicenses(Object.keys(result.metafile.inputs)));
const projectInputs = Object.keys(result.metafile.inputs)
  .filter((path) => !path.startsWith('node_modules/'))
  .sort();
writeFileSync(join(dist, 'cli-inputs.json'), `${JSON.stringify([...projectInputs, 'package.json'], null, 1)}\n`);
const bytes = Object.entries(result.metafile.outputs)
  .filter(([path]) => path.endsWith('.mjs'))
  .reduce((sum, [, output]) => sum + output.bytes, 0);
console.log(
  `built dist/cli.mjs (${(bytes / 1024 / 1024).toFixed(1)} MiB from ${projectInputs.length} project files) in ${Date.now() - started} ms`,
);

/** The license of every package the bundle holds code of: the bundle redistributes them, so it carries their terms. */
function thirdPartyLicenses(inputs) {
  const packageDirs = new Set();
  for (const input of inputs) {
    const match = /^(node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input.replace(/^.*?(node_modules\/(?!.*node_modules\/))/, '$1'));
    if (match?.[1]) packageDirs.add(match[1]);
  }
  const sections = [...packageDirs].sort().map((dir) => {
    const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    const licenseFile = readdirSync(join(root, dir)).find((name) => /^(licen[cs]e|copying)(\.|$)/i.test(name));
    const text =
      licenseFile && existsSync(join(root, dir, licenseFile))
        ? readFileSync(join(root, dir, licenseFile), 'utf8').trim()
        : `License: ${manifest.license ?? 'see the package'}`;
    return `${manifest.name}@${manifest.version} (${manifest.license ?? 'unknown'})\n\n${text}`;
  });
  return `The CLI bundle (cli.mjs) includes code from these packages, under these terms.\n\n${sections.join('\n\n' + '-'.repeat(72) + '\n\n')}\n`;
}
