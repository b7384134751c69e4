import { iam, iamWith } from '#shared/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/clients/secrets-manager.ts';
import { sts } from '#shared/clients/sts.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { deleteOldKey } from '#shared/rotation/finish.ts';
import { stepHandler } from '#shared/rotation/handler.ts';
import { AfterPromote } from '#shared/rotation/state.ts';

/** DeleteOldKey: the observation period passed without trouble. */
export const deleteOldKeyStep = stepHandler('DeleteOldKey', AfterPromote, ({ rotation, newKey }, deps) => deleteOldKey(rotation, newKey, deps));
export const handler = deleteOldKeyStep(lambdaDeps({ iam, secretsManager, member: { sts, iam: iamWith, secretsManager: secretsManagerWith } }));
