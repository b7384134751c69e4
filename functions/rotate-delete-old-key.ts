import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/aws/clients/secrets-manager.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { deleteOldKey } from '#shared/rotation/old-key.ts';
import { stepHandler } from '#shared/rotation/step-handler.ts';
import { OldKeyStepInput } from '#shared/rotation/workflow-state.ts';

/** DeleteOldKey: the observation period passed without trouble. */
export const deleteOldKeyStep = stepHandler('DeleteOldKey', OldKeyStepInput, ({ rotation, newKey }, deps) =>
  deleteOldKey(rotation, newKey, deps),
);
export const handler = deleteOldKeyStep(
  lambdaDeps({ iam, secretsManager, member: { function: 'rotateDeleteOldKey', sts, iam: iamWith, secretsManager: secretsManagerWith } }),
);
