import type { Command } from 'commander';
import type { Output } from './output.ts';

export function registerScan(program: Command, output: Output, setResult: (code: number) => void): void {
  void program;
  void output;
  void setResult;
}
