import { dynamodb } from '#shared/aws/clients/dynamodb.ts';
import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { awaitConfirmation } from '#shared/rotation/confirmation.ts';
import { dynamoTokenStore } from '#shared/rotation/confirmation-tokens.ts';
import { dynamoDecisionStore } from '#shared/rotation/decision-records.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/step-handler.ts';
import { AwaitConfirmationInput } from '#shared/rotation/workflow-state.ts';

/** AwaitConfirmation (.waitForTaskToken): stores the task token for `confirm`/`abort` and returns at once; never logs it. */
export const awaitConfirmationStep = stepHandler('AwaitConfirmation', AwaitConfirmationInput, awaitConfirmation);
export const handler = awaitConfirmationStep(
  lambdaDeps({
    iam,
    confirmationTokens: (config) => dynamoTokenStore(dynamodb, () => config.notificationLedgerTable),
    decisions: (config) => dynamoDecisionStore(dynamodb, () => config.notificationLedgerTable),
    member: { function: 'rotateAwaitConfirmation', sts, iam: iamWith },
  }),
);
