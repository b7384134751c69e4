import type { Command } from 'commander';
import type { Output } from '../local/terminal.ts';
import { registerScan } from './scan.ts';
import { registerRotate } from './rotate.ts';
import { registerDemo } from './demo.ts';
import { registerStatus } from './status.ts';
import { registerConfirm } from './confirm.ts';
import { registerAbort } from './abort.ts';
import { registerSubscribe } from './subscribe.ts';
import { registerAdoptSecret } from './adopt-secret.ts';

/** Every subcommand registers itself here; each lives in its own file under cli/. */
export function registerCommands(program: Command, output: Output, setResult: (code: number) => void): void {
  registerScan(program, output, setResult);
  registerRotate(program, output, setResult);
  registerStatus(program, output, setResult);
  registerConfirm(program, output, setResult);
  registerAbort(program, output, setResult);
  registerSubscribe(program, output, setResult);
  registerAdoptSecret(program, output, setResult);
  registerDemo(program, output, setResult);
}
