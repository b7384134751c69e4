import type { BuildOptions } from 'esbuild';
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';

/** serverless-esbuild's own keys, which are not esbuild options. */
const PLUGIN_ONLY = new Set(['outputFileExtension', 'packager', 'exclude', 'concurrency', 'zipConcurrency', 'keepOutputDirectory']);

/**
 * The esbuild options the deployed bundles are built with, read from `custom.esbuild` in
 * serverless.yml so the benchmarks and tests build exactly what `osls package` ships.
 * (CloudFormation tags such as !Ref elsewhere in the file only raise parser warnings.)
 */
export function lambdaBuildOptions(serverlessYml = 'serverless.yml'): BuildOptions {
  const custom = (parseDocument(readFileSync(serverlessYml, 'utf8')).toJS() as { custom?: { esbuild?: Record<string, unknown> } }).custom;
  if (!custom?.esbuild) throw new Error(`${serverlessYml} has no custom.esbuild section`);
  return Object.fromEntries(Object.entries(custom.esbuild).filter(([key]) => !PLUGIN_ONLY.has(key))) as BuildOptions;
}
