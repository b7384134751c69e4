import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { repoPath } from '../../helpers/paths.ts';

// The package `npm pack` makes, installed as a user would into an empty folder and run from there: the compiled CLI
// alone, with nothing of this clone beside it (no sources, no tsx, no node_modules of ours). `npm test` builds the
// bundle first (scripts/test.mjs), so this packs what the sources say.

const iam = new IAMClient({});
let folder = '';
let installed = '';
let packedFiles: string[] = [];

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 120_000, ...options });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

/** The installed CLI, run from the empty folder, against moto (the environment's AWS_ENDPOINT_URL). */
function installedCli(...args: string[]) {
  return run(process.execPath, [installed, ...args], { cwd: folder, env: { ...process.env, NO_COLOR: '1' } });
}

beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'iam-key-rotator-installed-'));
  const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', folder], { cwd: repoPath() });
  if (packed.code !== 0) throw new Error(`npm pack failed: ${packed.err}`);
  const [manifest] = JSON.parse(packed.out) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!manifest) throw new Error('npm pack printed no package');
  packedFiles = manifest.files.map((file) => file.path).sort();
  writeFileSync(join(folder, 'package.json'), '{ "name": "empty-folder", "private": true }\n');
  // --offline: the package must need nothing from the registry.
  const install = run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(folder, manifest.filename)], { cwd: folder });
  if (install.code !== 0) throw new Error(`npm install of the packed tarball failed: ${install.err}`);
  installed = join(folder, 'node_modules', '.bin', 'iam-key-rotator');
}, 180_000);

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

describe('the npm package', () => {
  test('holds the compiled CLI, its definitions, licenses and the consumer helpers, and no sources, tests or dependencies', () => {
    // Assess
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'bin/iam-key-rotator.mjs',
        'dist/cli.mjs',
        'dist/rotate-key.asl.json',
        'dist/scan-organization.asl.json',
        'dist/THIRD-PARTY-LICENSES.txt',
        'consumer/credential-process.mjs',
        'consumer/python/iam_key_rotator_credentials.py',
        'package.json',
      ]),
    );
    expect(packedFiles.filter((path) => /\.ts$/.test(path) && !path.endsWith('.d.mts'))).toEqual(['consumer/rotating-credentials.ts']);
    expect(packedFiles.filter((path) => path.startsWith('test/') || path.includes('test_'))).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(folder, 'node_modules', 'iam-key-rotator', 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest.dependencies).toBeUndefined();
    expect(existsSync(join(folder, 'node_modules', 'tsx'))).toBe(false);
  });

  test('the installed CLI answers --version and --help from the bundle', () => {
    // Act
    const version = installedCli('--version');
    const help = installedCli('--help');
    const rotateHelp = installedCli('rotate', '--help');

    // Assess
    const expected = (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string }).version;
    expect(version).toMatchObject({ code: 0, out: `${expected}\n` });
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Usage: iam-key-rotator/);
    expect(help.err).toBe('');
    expect(rotateHelp.out).toContain('--local');
  });

  test('the installed CLI scans an account and runs a local rotation with the state machine it ships', async () => {
    // Prepare
    await iam.send(new CreateUserCommand({ UserName: 'packaged-user' }));
    const oldKey = (await iam.send(new CreateAccessKeyCommand({ UserName: 'packaged-user' }))).AccessKey?.AccessKeyId ?? '';

    // Act
    const scan = installedCli('scan', '--user', 'packaged-user', '--json');
    const rotation = installedCli(
      'rotate',
      'packaged-user',
      '--local',
      '--json',
      '--health-check-interval',
      '50ms',
      '--health-check-deadline',
      '300ms',
    );

    // Assess: the first rotation makes the secret, which no consumer reads yet: it ends safely, both keys kept.
    expect(scan.code).toBe(0);
    expect(
      (JSON.parse(scan.out) as Array<{ userName: string; accessKeyId: string }>).map((row) => [row.userName, row.accessKeyId]),
    ).toEqual([['packaged-user', oldKey]]);
    expect(rotation.err).toContain('Local run against http://127.0.0.1');
    expect(rotation.err).not.toMatch(/error/i);
    const result = JSON.parse(rotation.out) as { status: string; oldAccessKeyId: string; states: Array<{ name: string }> };
    expect(result.states.map((state) => state.name)).toContain('CreateAndStore');
    const keys = (await iam.send(new ListAccessKeysCommand({ UserName: 'packaged-user' }))).AccessKeyMetadata ?? [];
    expect(keys).toHaveLength(2);
    expect(keys.find((key) => key.AccessKeyId === oldKey)?.Status).toBe('Active');
    expect(result).toMatchObject({ status: 'NeedsAttention', oldAccessKeyId: oldKey });
    expect(rotation.code).toBe(3);
    expect(statSync(installed).isFile()).toBe(true);
  });
});

describe('the bin in a clone', () => {
  test('runs the bundle while it is current, and the sources through tsx once one of them is newer than it', () => {
    // Prepare
    const bundle = repoPath('dist/cli.mjs');
    const { atime, mtime } = statSync(bundle);
    const cloneCli = () => run(process.execPath, [repoPath('bin/iam-key-rotator.mjs'), '--debug', 'status', '--help']);
    const current = cloneCli();

    // Act: the bundle as if built before the last edit of a source
    utimesSync(bundle, atime, new Date(statSync(repoPath('cli/main.ts')).mtimeMs - 60_000));
    const stale = (() => {
      try {
        return cloneCli();
      } finally {
        utimesSync(bundle, atime, mtime);
      }
    })();

    // Assess
    expect(current.code).toBe(0);
    expect(current.err).toContain('debug: running the compiled CLI, dist/cli.mjs');
    expect(stale.code).toBe(0);
    expect(stale.err).toMatch(
      /debug: running the TypeScript sources through tsx: \S+ changed after dist\/cli\.mjs was built \(npm run build\)/,
    );
    expect(stale.out).toBe(current.out);
  });
});
