import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/aws/clients/secrets-manager.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { makeSafe } from '#shared/rotation/old-key.ts';
import { stepHandler } from '#shared/rotation/step-handler.ts';
import { FailureInput } from '#shared/rotation/workflow-state.ts';

/** MakeSafe: after any failure, the user keeps no fewer working keys than it had at the start. */
export const makeSafeStep = stepHandler('MakeSafe', FailureInput, makeSafe);
export const handler = makeSafeStep(
  lambdaDeps({ iam, secretsManager, member: { function: 'rotateMakeSafe', sts, iam: iamWith, secretsManager: secretsManagerWith } }),
);
