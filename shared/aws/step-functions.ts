import { DescribeExecutionCommand, type DescribeExecutionCommandOutput, type SFNClient } from '@aws-sdk/client-sfn';

/**
 * One execution by its ARN; undefined when it never started, or ended more than 90 days ago (Step
 * Functions then accepts its name again). What the deterministic execution names are looked up with.
 */
export async function describeExecutionIfExists(sfn: SFNClient, executionArn: string): Promise<DescribeExecutionCommandOutput | undefined> {
  try {
    return await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return undefined;
    throw error;
  }
}
