// Wall time of one run of consumer/credential-process.mjs, as the AWS CLI and the SDKs start it: with the
// key in its cache (most runs), and with no cache (a read of the secret from a local moto_server), beside
// a bare `node -e 0` (the floor) in the same loop, paired run by run like hyperfine, under each Node
// found (the machine's, and node_modules/.bin's). Medians and 90th percentiles of BENCH_RUNS (default 30).
// Run: npm run bench:credential-process
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { onFreshMoto } from './scan.ts';

const SCRIPT = fileURLToPath(new URL('../consumer/credential-process.mjs', import.meta.url));

export interface StartTimeResult {
  readonly node: string;
  readonly version: string;
  readonly case: string;
  readonly medianMs: number;
  readonly p90Ms: number;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** The Node binaries to measure: the one on the machine's PATH without node_modules/.bin, and the project's. */
function nodes(): { label: string; path: string }[] {
  const found: { label: string; path: string }[] = [];
  const local = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (existsSync(candidate)) {
      found.push({ label: 'machine', path: candidate });
      break;
    }
  }
  if (existsSync(local)) found.push({ label: 'node_modules/.bin', path: local });
  return found;
}

export async function benchCredentialProcessStart(log: (text: string) => void = console.error): Promise<StartTimeResult[]> {
  const runs = Number(process.env.BENCH_RUNS ?? 30);
  return onFreshMoto(async ({ endpoint }) => {
    const iam = new IAMClient({});
    const secrets = new SecretsManagerClient({});
    await iam.send(new CreateUserCommand({ UserName: 'start-time' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'start-time' }))).AccessKey;
    await secrets.send(
      new CreateSecretCommand({
        Name: 'iam-key-rotator/start-time',
        SecretString: JSON.stringify({ AccessKeyId: key?.AccessKeyId, SecretAccessKey: key?.SecretAccessKey }),
      }),
    );
    iam.destroy();
    secrets.destroy();
    const home = mkdtempSync(join(tmpdir(), 'credential-process-bench-'));
    const cache = join(home, 'cache.json');
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
    };
    const args = [SCRIPT, '--secret-id', 'iam-key-rotator/start-time', '--cache-file', cache];
    const results: StartTimeResult[] = [];
    try {
      for (const node of nodes()) {
        const version = execFileSync(node.path, ['--version'], { encoding: 'utf8' }).trim();
        const cases: Record<string, { before?: () => void; args: string[] }> = {
          'node -e 0 (floor)': { args: ['-e', '0'] },
          'cached key': { args },
          'no cache: reads the secret': { before: () => rmSync(cache, { force: true }), args },
        };
        const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
        // Warm the file system cache and write the key's cache before measuring.
        spawnSync(node.path, args, { env });
        for (let run = 0; run < runs; run += 1) {
          // Interleaved, so a slow moment of the machine falls on every case alike.
          for (const [name, { before, args: caseArgs }] of Object.entries(cases)) {
            before?.();
            const started = performance.now();
            const result = spawnSync(node.path, caseArgs, { env, encoding: 'utf8' });
            const ms = performance.now() - started;
            if (result.status !== 0) throw new Error(`${name} under ${node.path} failed: ${result.stderr}`);
            times[name]?.push(ms);
          }
          // The next "cached key" run finds the cache the read wrote.
        }
        for (const [name, measured] of Object.entries(times)) {
          const sorted = [...measured].sort((a, b) => a - b);
          results.push({ node: node.label, version, case: name, medianMs: quantile(sorted, 0.5), p90Ms: quantile(sorted, 0.9) });
        }
        log(`credential_process start: measured ${runs} runs under ${node.label} ${version}`);
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
    return results;
  });
}

export function startTimeTable(results: readonly StartTimeResult[]): string {
  return [
    '| node | case | median | p90 |',
    '|---|---|---:|---:|',
    ...results.map(
      (result) =>
        `| ${result.node} ${result.version} | ${result.case} | ${result.medianMs.toFixed(1)} ms | ${result.p90Ms.toFixed(1)} ms |`,
    ),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(startTimeTable(await benchCredentialProcessStart()));
}
