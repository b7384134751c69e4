import type { Command } from 'commander';
import type { Output } from '../local/terminal.ts';
import { runDemo } from '#local/demo.ts';
import { runOrgDemo } from '#local/demo-org.ts';

export function registerDemo(program: Command, output: Output, setResult: (code: number) => void): void {
  program
    .command('demo')
    .description('Run the local end-to-end demo against an embedded moto_server (no AWS account needed; this is `npm start`).')
    .option('--org', 'the organization-wide demo: several member accounts, one OU left out, rotations through the member role')
    .addHelpText(
      'after',
      '\nStarts moto_server on a free loopback port, seeds a small account, scans it and rotates what is due with\n' +
        'compressed waits, prints what happened to every key and the notifications sent, then stops moto_server.\n' +
        'With --org: an organization of three member accounts (one in a sandbox OU that ORG_EXCLUDE_OUS leaves out),\n' +
        'scanned by the real scan-organization state machine; each due key is rotated in its own account.\n' +
        "Needs python3 with moto_server on PATH: pip install 'moto[server]'.",
    )
    .action(async (flags: { org?: boolean }) => {
      setResult(await (flags.org ? runOrgDemo(output) : runDemo(output)));
    });
}
