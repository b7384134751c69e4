#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx iam-key-rotator` works right after `npm ci` with no build.
import { readFileSync } from 'node:fs';

// --version answers at once: nothing of the CLI (the AWS SDK, tsx) is loaded for it.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
  process.exit(0);
}
const { register } = await import('tsx/esm/api');
register();
// A reader that stops early (`iam-key-rotator … | head`) closes the pipe: end quietly, as other CLIs do.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
