import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/aws/clients/secrets-manager.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/step-handler.ts';
import { AfterPrepare } from '#shared/rotation/workflow-state.ts';
import { createAndStore } from '#shared/rotation/new-key.ts';

/** CreateAndStore: a new key, written to the user's secret as AWSPENDING; safe to repeat. */
export const createAndStoreStep = stepHandler('CreateAndStore', AfterPrepare, ({ rotation }, deps) => createAndStore(rotation, deps));
export const handler = createAndStoreStep(
  lambdaDeps({ iam, secretsManager, member: { function: 'rotateCreateAndStore', sts, iam: iamWith, secretsManager: secretsManagerWith } }),
);
