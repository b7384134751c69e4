import type { Command } from 'commander';
import type { Output } from './output.ts';
import { runDemo } from '#local/demo.ts';

export function registerDemo(program: Command, output: Output, setResult: (code: number) => void): void {
  program
    .command('demo')
    .description('Run the local end-to-end demo against an embedded moto_server (no AWS account needed; this is `npm start`).')
    .addHelpText(
      'after',
      '\nStarts moto_server on a free loopback port, seeds a small account, scans it and rotates what is due with\n' +
        'compressed waits, prints what happened to every key and the notifications sent, then stops moto_server.\n' +
        "Needs python3 with moto_server on PATH: pip install 'moto[server]'.",
    )
    .action(async () => {
      setResult(await runDemo(output));
    });
}
