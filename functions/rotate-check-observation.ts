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
import { checkObservation } from '#shared/rotation/consumer-checks.ts';
import { ObservationStepInput } from '#shared/rotation/workflow-state.ts';

/** CheckObservation: trouble (roll back), watching, or over (delete the old key). */
export const checkObservationStep = stepHandler('CheckObservation', ObservationStepInput, ({ rotation, newKey, deactivated }, deps) =>
  checkObservation(rotation, newKey, deactivated, deps),
);
export const handler = checkObservationStep(
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
      function: 'rotateCheckObservation',
      sts,
      iam: iamWith,
      // That account's event history, read with the member session.
      keyCalls: memberKeyCalls(cloudtrailWith, dynamodb, process.env.AWS_REGION ?? 'us-east-1'),
    },
  }),
);
