#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx iam-key-rotator` works right after `npm ci` with no build.
import { register } from 'tsx/esm/api';

register();
// A reader that stops early (`iam-key-rotator … | head`) closes the pipe: end quietly, as other CLIs do.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
