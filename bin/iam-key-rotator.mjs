#!/usr/bin/env node
// The CLI. What ships is the compiled bundle, dist/cli.mjs (`npm run build`). In a clone the TypeScript sources run
// through tsx instead whenever the bundle is missing or older than one of them, so an edit is never hidden by an old build.
import { existsSync, readFileSync, statSync } from 'node:fs';

// --version answers at once: nothing of the CLI (the AWS SDK, tsx) is loaded for it.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
  process.exit(0);
}

// The AWS SDK ships inside this CLI, so its notice that later SDK releases need a newer Node is ours to act on (by
// releasing), not the person's: it would print on every command, `--help` included.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const bundle = new URL('../dist/cli.mjs', import.meta.url);

/**
 * Why the bundle cannot run, or undefined when it holds what the sources say: always so in a package (which has no
 * sources), in a clone when no source it was built from is newer.
 */
function bundleIsStale() {
  if (!existsSync(bundle)) return 'there is no dist/cli.mjs (npm run build makes it)';
  if (!existsSync(new URL('../cli/main.ts', import.meta.url))) return undefined;
  const built = statSync(bundle).mtimeMs;
  const inputs = JSON.parse(readFileSync(new URL('../dist/cli-inputs.json', import.meta.url), 'utf8'));
  const changed = inputs.find((input) => {
    const source = new URL(`../${input}`, import.meta.url);
    return !existsSync(source) || statSync(source).mtimeMs > built;
  });
  return changed === undefined ? undefined : `${changed} changed after dist/cli.mjs was built (npm run build)`;
}

// A reader that stops early (`iam-key-rotator … | head`) closes the pipe: end quietly, as other CLIs do.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
const debug = args.includes('--debug');
const stale = bundleIsStale();
let main;
if (stale === undefined) {
  if (debug) {
    process.stderr.write('debug: running the compiled CLI, dist/cli.mjs\n');
    // Stack traces point at the sources, through the bundle's source map.
    process.setSourceMapsEnabled(true);
  }
  ({ main } = await import(bundle.href));
} else {
  if (debug) process.stderr.write(`debug: running the TypeScript sources through tsx: ${stale}\n`);
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv);
