import { iam, iamWith } from '#shared/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/clients/secrets-manager.ts';
import { sts } from '#shared/clients/sts.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { rollback } from '#shared/rotation/finish.ts';
import { stepHandler } from '#shared/rotation/handler.ts';
import { RollbackInput } from '#shared/rotation/state.ts';

/** Rollback: old key Active and AWSCURRENT again; the new key Inactive, kept for inspection. */
export const rollbackStep = stepHandler('Rollback', RollbackInput, ({ rotation, newKey, observation, gate }, deps) =>
  rollback(rotation, newKey, observation?.detail ?? gate?.detail ?? 'rollback requested', deps),
);
export const handler = rollbackStep(lambdaDeps({ iam, secretsManager, member: { sts, iam: iamWith, secretsManager: secretsManagerWith } }));
