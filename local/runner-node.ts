import { ConfigError } from '#shared/base/errors.ts';

/**
 * aws-local-stepfunctions 3 needs Node.js 22 (Promise.withResolvers). The deployed commands run on
 * Node 20, so the check is made where a local run starts, with advice for a clone and for an
 * installed package alike: only a clone has the Node 22 that `npm ci` puts in node_modules/.bin.
 */
export function requireLocalRunnerNode(): void {
  if (typeof (Promise as { withResolvers?: unknown }).withResolvers === 'function') return;
  throw new ConfigError(
    `The local runner (--local, demo, scan --org) needs Node.js 22 or later (aws-local-stepfunctions 3); this is ${process.version}. ` +
      'In a clone, run it through npm (npm start, npx iam-key-rotator): `npm ci` installs Node 22 in node_modules/.bin. ' +
      'Where the package is installed, install Node.js 22 (for example `nvm install 22`) and run the command again. Nothing was changed.',
  );
}
