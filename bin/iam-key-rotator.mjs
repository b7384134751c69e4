#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx iam-key-rotator` works right after `npm ci` with no build.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
