import type { Command } from 'commander';
import type { Output } from './output.ts';

/** Every subcommand registers itself here; each lives in its own file under cli/. */
export function registerCommands(program: Command, output: Output, setResult: (code: number) => void): void {
  void program;
  void output;
  void setResult;
}
