import { main } from '../../cli/main.ts';

/** Runs the CLI in this process, as `iam-key-rotator <args>`, and returns its exit code and output. */
export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'iam-key-rotator', ...args], { out: (text) => out.push(text), err: (text) => err.push(text) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
