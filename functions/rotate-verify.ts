import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/aws/clients/secrets-manager.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { lambdaDeps, stsWith } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/step-handler.ts';
import { AfterCreate } from '#shared/rotation/workflow-state.ts';
import { verify } from '#shared/rotation/new-key.ts';

/** Verify: STS GetCallerIdentity signed with the pending key must name the user. */
export const verifyStep = stepHandler('Verify', AfterCreate, ({ rotation, newKey }, deps) => verify(rotation, newKey, deps));
export const handler = verifyStep(
  lambdaDeps({ iam, secretsManager, stsWith, member: { function: 'rotateVerify', sts, iam: iamWith, secretsManager: secretsManagerWith } }),
);
