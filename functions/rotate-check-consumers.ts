import { cloudtrailFor, cloudtrailWith } from '#shared/aws/clients/cloudtrail.ts';
import { logs } from '#shared/aws/clients/cloudwatch-logs.ts';
import { deployedKeyCallReader, memberKeyCalls } from '#shared/consumers/reader.ts';
import { trailLogGroupSource } from '#shared/aws/trail-log-group.ts';
import { dynamodb } from '#shared/aws/clients/dynamodb.ts';
import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { dynamoDecisionStore } from '#shared/rotation/decision-records.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/step-handler.ts';
import { checkConsumers } from '#shared/rotation/consumer-checks.ts';
import { OldKeyStepInput, promotedOf } from '#shared/rotation/workflow-state.ts';
import { checkRetirement } from '#shared/rotation/retirement.ts';

/** CheckConsumers: one pass of the user's health checks; healthy, waiting, overdue or aborted. */
export const checkConsumersStep = stepHandler('CheckConsumers', OldKeyStepInput, (input, deps) => {
  // A retirement's gate (CheckQuiet) runs this Lambda too: it waits for the key to fall quiet, not for a move.
  if (input.rotation.kind === 'retire') return checkRetirement(input.rotation, deps);
  const { newKey, promoted } = promotedOf(input);
  return checkConsumers(input.rotation, newKey, promoted, deps, input.gate);
});
export const handler = checkConsumersStep(
  lambdaDeps({
    iam,
    keyCalls: (config) =>
      deployedKeyCallReader(
        config,
        { cloudtrailFor, dynamodb, trailLogGroup: (logGroupName) => trailLogGroupSource({ logs, logGroupName }) },
        process.env.AWS_REGION ?? 'us-east-1',
      ),
    decisions: (config) => dynamoDecisionStore(dynamodb, () => config.notificationLedgerTable),
    member: {
      function: 'rotateCheckConsumers',
      sts,
      iam: iamWith,
      // That account's event history, read with the member session.
      keyCalls: memberKeyCalls(cloudtrailWith, dynamodb, process.env.AWS_REGION ?? 'us-east-1'),
    },
  }),
);
