import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { Command } from 'commander';
import { ACCOUNT_ID } from '#shared/base/account-id.ts';
import { ConfigError, InvalidInputError } from '#shared/base/errors.ts';
import { LOCAL_LEDGER_TABLE } from '#local/run-registry.ts';

/** How the deployed-mode commands find the stack: --stack, else --stage, else ROTATION_STATE_MACHINE_ARN, else stage dev. */
export interface StackFlags {
  readonly stage?: string;
  readonly stack?: string;
}

export interface DeployedStack {
  readonly stateMachineArn: string;
  readonly topicArn: string | undefined;
  /** Where the ARN came from, for messages. */
  readonly source: string;
}

export const STACK_HELP = `
Deployed mode finds the rotation state machine in the outputs of the CloudFormation stack
iam-key-rotator-<stage> (RotateKeyStateMachineArn, NotificationTopicArn): --stack NAME names the
stack, --stage STAGE (default dev) builds the name. Without either flag, ROTATION_STATE_MACHINE_ARN
is used when set.`;

export function addStackOptions(command: Command): Command {
  return command
    .option('--stage <stage>', 'stage of the deployed stack iam-key-rotator-<stage> (default dev)')
    .option('--stack <name>', 'name of the deployed CloudFormation stack');
}

export async function resolveStack(
  flags: StackFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
  cloudFormation: CloudFormationClient = new CloudFormationClient({}),
): Promise<DeployedStack> {
  const fromEnv = env.ROTATION_STATE_MACHINE_ARN?.trim();
  if (flags.stack === undefined && flags.stage === undefined && fromEnv) {
    return { stateMachineArn: fromEnv, topicArn: env.NOTIFICATION_TOPIC_ARN?.trim() || undefined, source: 'ROTATION_STATE_MACHINE_ARN' };
  }
  const { stackName, outputs } = await stackOutputs(flags, cloudFormation);
  if (outputs === undefined) {
    throw new ConfigError(
      `CloudFormation stack ${stackName} was not found in this account and region. Deploy it (npx osls deploy --stage ${flags.stage ?? 'dev'}), ` +
        'name another with --stack or --stage, set ROTATION_STATE_MACHINE_ARN, or run the rotation in this process with --local.',
    );
  }
  const stateMachineArn = outputs.get('RotateKeyStateMachineArn');
  if (!stateMachineArn) {
    throw new ConfigError(
      `Stack ${stackName} has no RotateKeyStateMachineArn output: it is not an iam-key-rotator stack, or an old one. Redeploy it, or set ROTATION_STATE_MACHINE_ARN.`,
    );
  }
  return { stateMachineArn, topicArn: outputs.get('NotificationTopicArn'), source: `stack ${stackName}` };
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
  | { readonly mode: 'deployed'; readonly stateMachineArn: string; readonly source: string; readonly ledger: LedgerTable }
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
    return { mode: 'deployed', stateMachineArn: machineFromEnv, source: 'ROTATION_STATE_MACHINE_ARN', ledger };
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
  const stateMachineArn = outputs.get('RotateKeyStateMachineArn');
  if (!stateMachineArn) {
    throw new ConfigError(
      `Stack ${stackName} has no RotateKeyStateMachineArn output: it is not an iam-key-rotator stack, or an old one. Redeploy it, or set ROTATION_STATE_MACHINE_ARN.`,
    );
  }
  const tableName = tableFromEnv ?? outputs.get('NotificationLedgerTableName');
  const ledger = tableFromEnv
    ? { tableName: tableFromEnv, source: 'NOTIFICATION_LEDGER_TABLE' }
    : tableName
      ? { tableName, source: `stack ${stackName}` }
      : { tableName: undefined, source: `stack ${stackName} (no NotificationLedgerTableName output)` };
  return { mode: 'deployed', stateMachineArn, source: `stack ${stackName}`, ledger };
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
