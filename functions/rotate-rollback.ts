import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/aws/clients/secrets-manager.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { rollback } from '#shared/rotation/old-key.ts';
import { stepHandler } from '#shared/rotation/step-handler.ts';
import { OldKeyStepInput } from '#shared/rotation/workflow-state.ts';

/** Rollback: old key Active and AWSCURRENT again; the new key Inactive, kept for inspection. */
export const rollbackStep = stepHandler('Rollback', OldKeyStepInput, ({ rotation, newKey, observation, gate }, deps) =>
  rollback(rotation, newKey, observation?.detail ?? gate?.detail ?? 'rollback requested', deps),
);
export const handler = rollbackStep(
  lambdaDeps({ iam, secretsManager, member: { function: 'rotateRollback', sts, iam: iamWith, secretsManager: secretsManagerWith } }),
);
