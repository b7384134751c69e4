import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { MotoUnavailableError } from '#shared/base/errors.ts';

/**
 * Which moto_server local runs use, so that `npm ci && npm start` is the whole set-up on a machine
 * with Python 3 but no moto: MOTO_SERVER_COMMAND when set, else `moto_server` on PATH, else the one
 * installed into the project's own virtual environment (MOTO_VENV, ignored by git), else, where
 * Python 3 is present, that environment is made and the tested moto installed into it, once.
 */

/** The moto the tests are known to pass with (README: Requirements). */
export const TESTED_MOTO = 'moto[server]==5.2.1';
export const MOTO_VENV = '.moto-venv';

export interface MotoFacts {
  readonly envCommand: string | undefined;
  readonly onPath: boolean;
  readonly venvCommand: string;
  readonly venvReady: boolean;
  /** `python3 --version`'s answer, undefined when there is no python3. */
  readonly python: string | undefined;
}

export type MotoPlan =
  | { readonly kind: 'use'; readonly command: string }
  | { readonly kind: 'install'; readonly python: string }
  | { readonly kind: 'missing'; readonly message: string };

const HOW_TO = `pip install '${TESTED_MOTO}' (then moto_server is on PATH), or point MOTO_SERVER_COMMAND at a moto_server`;

export function planMoto(facts: MotoFacts): MotoPlan {
  if (facts.envCommand !== undefined && facts.envCommand !== '') return { kind: 'use', command: facts.envCommand };
  if (facts.onPath) return { kind: 'use', command: 'moto_server' };
  if (facts.venvReady) return { kind: 'use', command: facts.venvCommand };
  if (facts.python !== undefined) return { kind: 'install', python: facts.python };
  return {
    kind: 'missing',
    message:
      'Local runs, the demo and the integration tests need moto_server, and this machine has neither moto nor Python 3 to install it with. ' +
      `Install Python 3.9 or later (Debian/Ubuntu: apt install python3 python3-venv), then run npm start again (it installs moto into ${MOTO_VENV}/), or ${HOW_TO}.`,
  };
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The facts of this machine, read without changing anything. */
export function motoFacts(root: string = process.cwd()): MotoFacts {
  const venvCommand = join(root, MOTO_VENV, 'bin', 'moto_server');
  const version = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  return {
    envCommand: process.env.MOTO_SERVER_COMMAND,
    onPath: onPath('moto_server'),
    venvCommand,
    venvReady: executable(venvCommand),
    python: version.status === 0 ? (version.stdout || version.stderr).trim() : undefined,
  };
}

/**
 * The moto_server command to start, installing moto first when the plan says so. `progress` hears
 * each step of an install (it takes a minute: moto and its dependencies from the package index).
 */
export function motoCommand(progress: (text: string) => void, root: string = process.cwd()): string {
  const facts = motoFacts(root);
  const plan = planMoto(facts);
  if (plan.kind === 'use') return plan.command;
  if (plan.kind === 'missing') throw new MotoUnavailableError(plan.message);
  const venv = join(root, MOTO_VENV);
  progress(`moto_server is not installed: installing ${TESTED_MOTO} into ${MOTO_VENV}/ with ${plan.python} (once; about a minute)…`);
  const made = spawnSync('python3', ['-m', 'venv', venv], { encoding: 'utf8' });
  if (made.status !== 0) {
    throw new MotoUnavailableError(
      `Could not make a Python virtual environment in ${MOTO_VENV}/ (${(made.stderr || made.stdout).trim().split('\n').at(-1) ?? 'python3 -m venv failed'}). ` +
        `Install Python's venv module (Debian/Ubuntu: apt install python3-venv) and run again, or ${HOW_TO}.`,
    );
  }
  progress(`  made ${MOTO_VENV}/; downloading moto and its dependencies…`);
  const installed = spawnSync(join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', '--quiet', TESTED_MOTO], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (installed.status !== 0 || !executable(facts.venvCommand)) {
    throw new MotoUnavailableError(
      `Could not install ${TESTED_MOTO} into ${MOTO_VENV}/ (${(installed.stderr || installed.stdout).trim().split('\n').at(-1) ?? 'pip failed'}): ` +
        `is the Python package index reachable from here? Otherwise ${HOW_TO}.`,
    );
  }
  progress(`  installed: ${facts.venvCommand}`);
  return facts.venvCommand;
}
