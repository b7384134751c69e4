import type { Logger } from '@aws-lambda-powertools/logger';
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { Clock } from '../base/clock.ts';
import { ConfigError, errorName } from '../base/errors.ts';
import { executionArnFor } from '../base/execution-name.ts';
import type { Config } from '../config/settings.ts';

export interface OrganizationScanStart {
  readonly scope: 'organization';
  readonly executionName: string;
  readonly executionArn: string;
  /** The scheduled event was delivered again after its scan had ended. */
  readonly alreadyStarted: boolean;
}

/**
 * SCAN_SCOPE=organization: the schedule only starts the scan-organization state machine, which fans
 * out over the accounts (one Lambda per account, bounded concurrency). The execution is named after
 * the schedule's slot (the event's `time`, equal in every delivery of one scheduled event; else
 * now, to the minute) with a constant input: a duplicate delivery gets the running execution back
 * (StartExecution is idempotent for an equal name and input) or, once it has ended, is told so
 * (ExecutionAlreadyExists), and never scans twice.
 */
export async function startOrganizationScan(
  sfnClient: SFNClient,
  config: Config,
  clock: Clock,
  log: Logger,
  scheduledAt?: string,
): Promise<OrganizationScanStart> {
  if (config.orgScanStateMachineArn === '') {
    throw new ConfigError(
      'SCAN_SCOPE=organization but ORG_SCAN_STATE_MACHINE_ARN is not set: set it to the stack output OrgScanStateMachineArn, or set SCAN_SCOPE=account.',
    );
  }
  const slot = scheduledAt !== undefined && !Number.isNaN(Date.parse(scheduledAt)) ? new Date(scheduledAt) : clock();
  const executionName = `scan-${slot.toISOString().slice(0, 16).replace(':', '-')}`;
  const executionArn = executionArnFor(config.orgScanStateMachineArn, executionName);
  try {
    const response = await sfnClient.send(
      new StartExecutionCommand({ stateMachineArn: config.orgScanStateMachineArn, name: executionName, input: '{}' }),
    );
    log.info('organization scan started', { executionName, executionArn: response.executionArn });
    return { scope: 'organization', executionName, executionArn: response.executionArn ?? executionArn, alreadyStarted: false };
  } catch (error) {
    if (errorName(error) !== 'ExecutionAlreadyExists') throw error;
    log.info('organization scan of this schedule slot already ran; not started again', { executionName, executionArn });
    return { scope: 'organization', executionName, executionArn, alreadyStarted: true };
  }
}
