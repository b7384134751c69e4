// Wall time of `iam-key-rotator --help` as it ships (the compiled bundle, dist/cli.mjs) against the same CLI run
// from its TypeScript sources through tsx (what a clone falls back to while the bundle is older than a source), beside
// `--version` (answered before anything loads) and a bare `node -e 0` (the floor), paired run by run in one loop.
// Medians and 90th percentiles of BENCH_RUNS (default 15). Run: npm run bench:cli-start
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const BIN = 'bin/iam-key-rotator.mjs';
const FROM_SOURCES =
  "const { register } = await import('tsx/esm/api'); register(); const { main } = await import('./cli/main.ts'); process.exitCode = await main(['node', 'iam-key-rotator', '--help']);";

export interface CliStartResult {
  readonly case: string;
  readonly medianMs: number;
  readonly p90Ms: number;
}

const CASES: Record<string, readonly string[]> = {
  'node -e 0 (floor)': ['-e', '0'],
  '--version': [BIN, '--version'],
  '--help, compiled (dist/cli.mjs)': [BIN, '--help'],
  '--help, from the sources through tsx': ['--input-type=module', '-e', FROM_SOURCES],
};

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

export function benchCliStart(runs = Number(process.env.BENCH_RUNS ?? 15)): CliStartResult[] {
  execFileSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: root, stdio: 'ignore' });
  const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(CASES).map((name) => [name, []]));
  for (let run = -1; run < runs; run += 1) {
    for (const [name, args] of Object.entries(CASES)) {
      const started = process.hrtime.bigint();
      const result = spawnSync(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (result.status !== 0) throw new Error(`${name} exited ${String(result.status)}: ${result.stderr.toString()}`);
      // The first round warms the file system cache.
      if (run >= 0) times[name]?.push(ms);
    }
  }
  return Object.entries(times).map(([name, values]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return { case: name, medianMs: quantile(sorted, 0.5), p90Ms: quantile(sorted, 0.9) };
  });
}

export function cliStartTable(results: readonly CliStartResult[]): string {
  const floor = results[0]?.medianMs ?? 0;
  const compiled = results.find((result) => result.case.includes('compiled'))?.medianMs ?? Number.NaN;
  const lines = ['| command | median | p90 | over the floor |', '|---|---:|---:|---:|'];
  for (const result of results) {
    lines.push(
      `| ${result.case} | ${result.medianMs.toFixed(0)} ms | ${result.p90Ms.toFixed(0)} ms | ${(result.medianMs - floor).toFixed(0)} ms |`,
    );
  }
  const sources = results.find((result) => result.case.includes('tsx'))?.medianMs ?? Number.NaN;
  lines.push(
    '',
    `The compiled --help takes ${((compiled / sources) * 100).toFixed(0)}% of the time the sources take through tsx, in the same runs.`,
  );
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`${process.version}, ${Number(process.env.BENCH_RUNS ?? 15)} paired runs\n`);
  console.log(cliStartTable(benchCliStart()));
}
