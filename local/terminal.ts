import pc from 'picocolors';

/** Where the CLI writes: injectable so tests can capture output without spawning a process. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const consoleOutput: Output = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

export const colors = pc;
