import { dynamodb } from '#shared/clients/dynamodb.ts';
import { iam, iamWith } from '#shared/clients/iam.ts';
import { sts } from '#shared/clients/sts.ts';
import { awaitConfirmation, dynamoTokenStore } from '#shared/rotation/confirmation.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/handler.ts';
import { AwaitConfirmationInput } from '#shared/rotation/state.ts';

/** AwaitConfirmation (.waitForTaskToken): stores the task token for `confirm`/`abort` and returns at once; never logs it. */
export const awaitConfirmationStep = stepHandler('AwaitConfirmation', AwaitConfirmationInput, awaitConfirmation);
export const handler = awaitConfirmationStep(lambdaDeps({ iam, confirmationTokens: (config) => dynamoTokenStore(dynamodb, () => config.notificationLedgerTable), member: { sts, iam: iamWith } }));
