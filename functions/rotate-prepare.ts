import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/aws/clients/secrets-manager.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/step-handler.ts';
import { prepare } from '#shared/rotation/prepare.ts';
import { RotationInput } from '#shared/rotation/workflow-state.ts';

/** Prepare: live read of the user and key, settings from tags, room under the two-key limit. */
export const prepareStep = stepHandler('Prepare', RotationInput, prepare);
export const handler = prepareStep(
  lambdaDeps({ iam, secretsManager, member: { function: 'rotatePrepare', sts, iam: iamWith, secretsManager: secretsManagerWith } }),
);
