import { Option, type Command } from 'commander';
import { InvalidInputError } from '#shared/base/errors.ts';

/** What a command prints on stdout: its table (or text) for people, or the same result as JSON or CSV for programs. */
export type OutputFormat = 'table' | 'json' | 'csv';

export interface OutputFlags {
  readonly output?: OutputFormat;
  readonly json?: boolean;
}

/**
 * `--output table|json|csv` and `--json` (short for `--output json`, as it always was). `csvRows` says what the CSV holds,
 * for the help; a command whose result is no list leaves it out, and `--output csv` is refused with the way out.
 */
export function addOutputOptions(command: Command, json: string, csvRows?: string): Command {
  const formats: OutputFormat[] = csvRows === undefined ? ['table', 'json'] : ['table', 'json', 'csv'];
  const csvHelp = csvRows === undefined ? '' : `; csv: ${csvRows}`;
  return command
    .addOption(new Option('--output <format>', `what stdout gets (default: table)${csvHelp}`).choices(formats))
    .option('--json', `${json} (as --output json)`);
}

/** The format asked for; `--json` with another `--output` is a contradiction, refused. */
export function outputFormat(flags: OutputFlags): OutputFormat {
  if (flags.json === true && flags.output !== undefined && flags.output !== 'json') {
    throw new InvalidInputError(`--json asks for JSON and --output ${flags.output} for ${flags.output}: give one of them.`);
  }
  return flags.json === true ? 'json' : (flags.output ?? 'table');
}
