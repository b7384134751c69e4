import { motoCommand } from './moto-install.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { MotoUnavailableError } from '#shared/base/errors.ts';

export interface MotoServer {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number | undefined;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const START_DEADLINE_MS = 20_000;

/** Asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('Could not determine a free port'));
      });
    });
  });
}

export async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`moto reset failed with HTTP ${response.status}`);
}

async function waitUntilUp(endpoint: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + START_DEADLINE_MS;
  let delay = 50;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new MotoUnavailableError(`moto_server exited with code ${child.exitCode} before it was ready: ${stderr().slice(-500)}`);
    }
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 500);
  }
  child.kill('SIGKILL');
  throw new MotoUnavailableError(`moto_server did not answer on ${endpoint} within ${START_DEADLINE_MS / 1000}s.`);
}

/**
 * Starts the machine's `moto_server` on a free loopback port. The process is killed when this
 * process exits, so a crashed test run or demo never leaves it behind.
 */
export async function startMoto(options: { command?: string } = {}): Promise<MotoServer> {
  const command = options.command ?? motoCommand((text) => process.stderr.write(`${text}\n`));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let stderrText = '';
  const child = spawn(command, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrText = (stderrText + chunk.toString()).slice(-4000);
  });
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new MotoUnavailableError(
              `'${command}' was not found on PATH. Local runs and integration tests need moto's server: ` +
                `install it with \`pip install 'moto[server]'\` (Python 3.9+), or point MOTO_SERVER_COMMAND at it.`,
              { cause: error },
            )
          : new MotoUnavailableError(`Could not start '${command}': ${error.message}`, { cause: error }),
      );
    });
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  await Promise.race([waitUntilUp(endpoint, child, () => stderrText), spawnError]);
  return {
    endpoint,
    port,
    pid: child.pid,
    reset: () => resetMoto(endpoint),
    stop: async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
