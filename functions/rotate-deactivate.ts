import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/aws/clients/secrets-manager.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { deactivate } from '#shared/rotation/old-key.ts';
import { stepHandler } from '#shared/rotation/step-handler.ts';
import { OldKeyStepInput } from '#shared/rotation/workflow-state.ts';

/** Deactivate: the old key becomes Inactive, once AWSCURRENT holds the Active new key. */
export const deactivateStep = stepHandler('Deactivate', OldKeyStepInput, ({ rotation, newKey }, deps) =>
  deactivate(rotation, newKey, deps),
);
export const handler = deactivateStep(
  lambdaDeps({ iam, secretsManager, member: { function: 'rotateDeactivate', sts, iam: iamWith, secretsManager: secretsManagerWith } }),
);
