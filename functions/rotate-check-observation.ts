import { dynamodb } from '#shared/aws/clients/dynamodb.ts';
import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { dynamoDecisionStore } from '#shared/rotation/decision-records.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/step-handler.ts';
import { checkObservation } from '#shared/rotation/consumer-checks.ts';
import { AfterDeactivate } from '#shared/rotation/workflow-state.ts';

/** CheckObservation: trouble (roll back), watching, or over (delete the old key). */
export const checkObservationStep = stepHandler('CheckObservation', AfterDeactivate, ({ rotation, newKey, deactivated }, deps) =>
  checkObservation(rotation, newKey, deactivated, deps),
);
export const handler = checkObservationStep(
  lambdaDeps({
    iam,
    decisions: (config) => dynamoDecisionStore(dynamodb, () => config.notificationLedgerTable),
    member: { function: 'rotateCheckObservation', sts, iam: iamWith },
  }),
);
