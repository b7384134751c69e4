import { Command, CommanderError } from 'commander';
import {
  InvalidInputError,
  RotatorError,
  ConfigError,
  HistoryBoundError,
  StackOutputMissingError,
  UserNotFoundError,
  errorMessage,
} from '#shared/base/errors.ts';
import { explainAwsError } from './errors.ts';
import { consoleOutput, type Output } from '../local/terminal.ts';
import { registerCommands } from './commands.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** A rotation that ended safely but needs a person (NeedsAttention, RolledBack); `scan --detailed-exitcode`: keys are due. */
export const EXIT_NEEDS_PERSON = 3;

/** A command's result: its exit code. Commands print their own output. */
export type CommandResult = number;

/** Builds the program; `setResult` records each command's exit code. */
export function buildProgram(output: Output, setResult: (code: number) => void): Command {
  const program = new Command()
    .name('iam-key-rotator')
    .description('Safe, hands-off rotation of AWS IAM user access keys.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (text) => output.out(text.trimEnd()), writeErr: (text) => output.err(text.trimEnd()) })
    .exitOverride()
    // Global, before any AWS call: the SDK reads the profile and region when it first needs them.
    .option('--profile <name>', 'the AWS profile to use (as AWS_PROFILE)')
    .option('--region <region>', 'the AWS Region to act in (as AWS_REGION)')
    .option('--no-color', 'plain output, no colours (as NO_COLOR)')
    .option('--debug', 'log every step and print stack traces')
    .hook('preAction', (command) => {
      const options = command.opts<{ profile?: string; region?: string; debug?: boolean }>();
      if (options.profile !== undefined) process.env.AWS_PROFILE = options.profile;
      if (options.region !== undefined) process.env.AWS_REGION = options.region;
      if (options.debug) Object.assign(process.env, { DEBUG: '1', POWERTOOLS_LOG_LEVEL: 'DEBUG' });
    });
  registerCommands(program, output, setResult);
  return program;
}

/** Runs the CLI and returns its exit code: 0 success, 1 failure, 2 bad usage, 3 ended safely but a person must act. */
export async function main(argv: readonly string[], output: Output = consoleOutput): Promise<number> {
  let code = EXIT_OK;
  const program = buildProgram(output, (result) => {
    code = result;
  });
  try {
    await program.parseAsync([...argv]);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT_OK;
      return EXIT_USAGE;
    }
    const explained = explainAwsError(error);
    if (explained instanceof InvalidInputError || explained instanceof ConfigError) {
      output.err(`error: ${explained.message}`);
      return EXIT_USAGE;
    }
    // Waits the person asked for that could pass the history bound, a stack without an output the CLI needs: bad usage too.
    // So is a user name the account does not have: every command that takes one names it (consumers, usage, adopt-secret, scan --user, rotate).
    if (explained instanceof HistoryBoundError || explained instanceof StackOutputMissingError || explained instanceof UserNotFoundError) {
      output.err(`error (${explained.name}): ${explained.message}`);
      return EXIT_USAGE;
    }
    if (explained instanceof RotatorError) {
      output.err(`error (${explained.name}): ${explained.message}`);
      return EXIT_FAILURE;
    }
    output.err(`error: ${errorMessage(explained)}`);
    if (process.env.DEBUG) output.err(String((explained as Error).stack ?? ''));
    return EXIT_FAILURE;
  }
}
