import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { Command } from 'commander';
import { ACCOUNT_ID } from '#shared/base/account-id.ts';
import { ConfigError, InvalidInputError, StackOutputMissingError } from '#shared/base/errors.ts';
import { LOCAL_LEDGER_TABLE } from '#local/run-registry.ts';

/** How the deployed-mode commands find the stack: --stack, else --stage, else ROTATION_STATE_MACHINE_ARN, else stage dev. */
export interface StackFlags {
  readonly stage?: string;
  readonly stack?: string;
}

/**
 * The stack-only settings the CLI takes from the stack's StackSettings output (serverless.yml), as
 * environment names to values: the secret prefix, the member role and its external id, the
 * organization filters. The functions run with these; a CLI acting with other values would read
 * the wrong secret, assume the wrong role or admit an account the stack excludes.
 */
export const STACK_SETTINGS = [
  'SECRET_NAME_PREFIX',
  'MEMBER_ROLE_NAME',
  'MEMBER_ROLE_EXTERNAL_ID',
  'ORG_INCLUDE_OUS',
  'ORG_EXCLUDE_OUS',
  'ORG_INCLUDE_ACCOUNTS',
  'ORG_EXCLUDE_ACCOUNTS',
  'ORG_INCLUDE_TAGS',
  'ORG_EXCLUDE_TAGS',
] as const;
export const STACK_SETTINGS_OUTPUT = 'StackSettings';

/** Setting overrides for loadConfig: what wins over the environment because the stack says so. */
export type StackSettings = Readonly<Record<string, string>>;

export interface DeployedStack {
  readonly stateMachineArn: string;
  readonly topicArn: string | undefined;
  /** The stack's NotificationLedgerTableName (or NOTIFICATION_LEDGER_TABLE when the ARN came from the environment). */
  readonly ledgerTableName: string | undefined;
  /** Where the ARN came from, for messages. */
  readonly source: string;
  /** From the stack's StackSettings output; empty when the state machine came from ROTATION_STATE_MACHINE_ARN (then the environment's apply). */
  readonly settings: StackSettings;
}

export const STACK_HELP = `
Deployed mode finds the rotation state machine in the outputs of the CloudFormation stack
iam-key-rotator-<stage> (RotateKeyStateMachineArn, NotificationTopicArn, NotificationLedgerTableName):
--stack NAME names the stack, --stage STAGE (default dev) builds the name. The settings only the
stack decides (SECRET_NAME_PREFIX, MEMBER_ROLE_NAME, MEMBER_ROLE_EXTERNAL_ID and the ORG_* filters)
come from its StackSettings output too, as its functions run with them, whatever the environment
says. Without either flag, ROTATION_STATE_MACHINE_ARN is used when set, and then every setting comes
from the environment.`;

export function addStackOptions(command: Command): Command {
  return command
    .option('--stage <stage>', 'stage of the deployed stack iam-key-rotator-<stage> (default dev)')
    .option('--stack <name>', 'name of the deployed CloudFormation stack');
}

export async function resolveStack(
  flags: StackFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
  cloudFormation: CloudFormationClient = new CloudFormationClient({}),
  /**
   * `settings: false` for a command that acts with none of them (status reads executions only);
   * `instead`: the way this command goes on without a stack, if it has one (default: rotate's --local).
   */
  options: { readonly settings?: boolean; readonly instead?: string | null } = {},
): Promise<DeployedStack> {
  const fromEnv = env.ROTATION_STATE_MACHINE_ARN?.trim();
  if (flags.stack === undefined && flags.stage === undefined && fromEnv) {
    return {
      stateMachineArn: fromEnv,
      topicArn: env.NOTIFICATION_TOPIC_ARN?.trim() || undefined,
      ledgerTableName: env.NOTIFICATION_LEDGER_TABLE?.trim() || undefined,
      source: 'ROTATION_STATE_MACHINE_ARN',
      settings: {},
    };
  }
  const { stackName, outputs } = await stackOutputs(flags, cloudFormation);
  if (outputs === undefined) {
    const stage = deployedStage(flags);
    const deploy =
      stage === undefined
        ? 'Check the name (npx osls deploy --stage <stage> makes the stack iam-key-rotator-<stage>)'
        : `Deploy it (npx osls deploy --stage ${stage})`;
    const instead = options.instead === undefined ? 'run the rotation in this process with --local' : options.instead;
    throw new ConfigError(
      `CloudFormation stack ${stackName} was not found in this account and region. ${deploy}, ` +
        `name another with --stack or --stage, ${instead === null ? 'or set ROTATION_STATE_MACHINE_ARN' : `set ROTATION_STATE_MACHINE_ARN, or ${instead}`}.`,
    );
  }
  return {
    stateMachineArn: rotationStateMachine(stackName, outputs, flags),
    topicArn: outputs.get('NotificationTopicArn'),
    ledgerTableName: outputs.get('NotificationLedgerTableName'),
    source: `stack ${stackName}`,
    settings: options.settings === false ? {} : stackSettings(stackName, outputs, flags),
  };
}

/** The stage osls deploys the named stack with (it names stacks iam-key-rotator-<stage>); undefined for a stack it did not name. */
function deployedStage(flags: StackFlags): string | undefined {
  if (flags.stack === undefined) return flags.stage ?? 'dev';
  return /^iam-key-rotator-(.+)$/.exec(flags.stack)?.[1];
}

/** The deploy command that makes the stack the flags name: osls has no --stack flag. */
function deployCommand(flags: StackFlags): string {
  const stage = deployedStage(flags);
  return stage === undefined ? `npx osls deploy --stage <stage>, which makes iam-key-rotator-<stage>` : `npx osls deploy --stage ${stage}`;
}

function rotationStateMachine(stackName: string, outputs: ReadonlyMap<string, string>, flags: StackFlags): string {
  const stateMachineArn = outputs.get('RotateKeyStateMachineArn');
  if (!stateMachineArn) {
    throw new StackOutputMissingError(
      stackName,
      'RotateKeyStateMachineArn',
      `Stack ${stackName} has no RotateKeyStateMachineArn output: it is not an iam-key-rotator stack, or an old one. Nothing was changed. ` +
        `Redeploy it (${deployCommand(flags)}), or set ROTATION_STATE_MACHINE_ARN without --stage/--stack.`,
    );
  }
  return stateMachineArn;
}

/**
 * The stack-only settings from the StackSettings output. A stack deployed before that output existed
 * is refused rather than read with the environment's values, which may not be the ones it runs with.
 */
export function stackSettings(stackName: string, outputs: ReadonlyMap<string, string>, flags: StackFlags = {}): StackSettings {
  const fix =
    `Redeploy the stack (${deployCommand(flags)}) so the CLI can read them, or set ROTATION_STATE_MACHINE_ARN and export ` +
    `${STACK_SETTINGS.join(', ')} as the stack was deployed with, without --stage/--stack. Nothing was changed.`;
  const text = outputs.get(STACK_SETTINGS_OUTPUT);
  if (text === undefined) {
    throw new StackOutputMissingError(
      stackName,
      STACK_SETTINGS_OUTPUT,
      `Stack ${stackName} has no ${STACK_SETTINGS_OUTPUT} output, which tells the CLI the secret prefix, member role and organization filters its functions use: it was deployed by an older version. ${fix}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new StackOutputMissingError(
      stackName,
      STACK_SETTINGS_OUTPUT,
      `Stack ${stackName}'s ${STACK_SETTINGS_OUTPUT} output is not a JSON object. ${fix}`,
      {
        cause: error,
      },
    );
  }
  const record = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  const missing = STACK_SETTINGS.filter((setting) => typeof record[setting] !== 'string');
  if (missing.length > 0) {
    throw new StackOutputMissingError(
      stackName,
      STACK_SETTINGS_OUTPUT,
      `Stack ${stackName}'s ${STACK_SETTINGS_OUTPUT} output lacks ${missing.join(', ')}. ${fix}`,
    );
  }
  return Object.fromEntries(STACK_SETTINGS.map((setting) => [setting, String(record[setting])]));
}

/** Where confirm/abort look for the manual check's task token. */
export interface LedgerTable {
  /** Undefined when no table was found: confirm and abort then act through the IAM user tag only. */
  readonly tableName: string | undefined;
  readonly source: string;
}

/**
 * What `confirm` and `abort` act on. Deployed: a state machine, whose RUNNING executions say whether
 * a rotation of the user is running, and the ledger table holding AwaitConfirmation's task tokens.
 * Local: no state machine, so the local runner's records in its ledger table say it.
 */
export type DecisionTarget =
  | {
      readonly mode: 'deployed';
      readonly stateMachineArn: string;
      readonly source: string;
      readonly ledger: LedgerTable;
      /** The stack's StackSettings (its secret prefix above all); empty when the state machine came from the environment. */
      readonly settings: StackSettings;
    }
  | { readonly mode: 'local'; readonly ledgerTableName: string; readonly source: string };

/**
 * --stack/--stage name a deployed stack, which must exist. Without them, ROTATION_STATE_MACHINE_ARN
 * when set, else the stack iam-key-rotator-dev if it exists, else local runs (their records are in
 * NOTIFICATION_LEDGER_TABLE, or the table the local runner creates). The ledger table for task tokens
 * is NOTIFICATION_LEDGER_TABLE when set and no flag is given, else the stack's NotificationLedgerTableName.
 */
export async function resolveDecisionTarget(
  flags: StackFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
  cloudFormation: CloudFormationClient = new CloudFormationClient({}),
): Promise<DecisionTarget> {
  const explicit = flags.stack !== undefined || flags.stage !== undefined;
  const tableFromEnv = explicit ? undefined : env.NOTIFICATION_LEDGER_TABLE?.trim() || undefined;
  const machineFromEnv = env.ROTATION_STATE_MACHINE_ARN?.trim();
  if (!explicit && machineFromEnv) {
    const ledger = tableFromEnv
      ? { tableName: tableFromEnv, source: 'NOTIFICATION_LEDGER_TABLE' }
      : { tableName: undefined, source: 'NOTIFICATION_LEDGER_TABLE is not set' };
    return { mode: 'deployed', stateMachineArn: machineFromEnv, source: 'ROTATION_STATE_MACHINE_ARN', ledger, settings: {} };
  }
  const { stackName, outputs } = await stackOutputs(flags, cloudFormation);
  if (outputs === undefined) {
    if (explicit) {
      throw new ConfigError(
        `CloudFormation stack ${stackName} was not found in this account and region. Name another with --stack or --stage, set ROTATION_STATE_MACHINE_ARN, ` +
          'or, for a rotation running in another process with rotate --local, leave out --stage and --stack.',
      );
    }
    return {
      mode: 'local',
      ledgerTableName: tableFromEnv ?? LOCAL_LEDGER_TABLE,
      source: `no stack ${stackName} and no ROTATION_STATE_MACHINE_ARN`,
    };
  }
  const stateMachineArn = rotationStateMachine(stackName, outputs, flags);
  const settings = stackSettings(stackName, outputs, flags);
  const tableName = tableFromEnv ?? outputs.get('NotificationLedgerTableName');
  const ledger = tableFromEnv
    ? { tableName: tableFromEnv, source: 'NOTIFICATION_LEDGER_TABLE' }
    : tableName
      ? { tableName, source: `stack ${stackName}` }
      : { tableName: undefined, source: `stack ${stackName} (no NotificationLedgerTableName output)` };
  return { mode: 'deployed', stateMachineArn, source: `stack ${stackName}`, ledger, settings };
}

/** The stack named by the flags and its outputs; `outputs` is undefined when no such stack exists. */
async function stackOutputs(
  flags: StackFlags,
  cloudFormation: CloudFormationClient,
): Promise<{ stackName: string; outputs: Map<string, string> | undefined }> {
  const stackName = flags.stack ?? `iam-key-rotator-${flags.stage ?? 'dev'}`;
  try {
    const response = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    return {
      stackName,
      outputs: new Map((response.Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? ''])),
    };
  } catch (error) {
    if (error instanceof Error && error.name === 'ValidationError') return { stackName, outputs: undefined };
    throw error;
  }
}

/** A link to the execution in the Step Functions console. */
export function consoleUrl(executionArn: string): string {
  const region = executionArn.split(':')[3] ?? 'us-east-1';
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/** The account of the deployed stack: the one in its state machine's ARN (arn:aws:states:region:ACCOUNT:…). */
export function stackAccountId(stateMachineArn: string): string {
  return stateMachineArn.split(':')[4] ?? '';
}

/** `--account <id>` of the deployed-mode commands (organization-wide deployments). */
export function parseAccountFlag(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (!ACCOUNT_ID.test(text)) throw new InvalidInputError(`--account must be a 12-digit AWS account id like 111122223333 (got "${text}")`);
  return text;
}
