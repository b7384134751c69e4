import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/aws/clients/secrets-manager.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/step-handler.ts';
import { AfterCreate } from '#shared/rotation/workflow-state.ts';
import { promote } from '#shared/rotation/new-key.ts';

/** Promote: the new key's version becomes AWSCURRENT; the old one AWSPREVIOUS. */
export const promoteStep = stepHandler('Promote', AfterCreate, ({ rotation, newKey }, deps) => promote(rotation, newKey, deps));
export const handler = promoteStep(
  lambdaDeps({ iam, secretsManager, member: { function: 'rotatePromote', sts, iam: iamWith, secretsManager: secretsManagerWith } }),
);
