import { iam, iamWith } from '#shared/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/clients/secrets-manager.ts';
import { sts } from '#shared/clients/sts.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { deactivate } from '#shared/rotation/finish.ts';
import { stepHandler } from '#shared/rotation/handler.ts';
import { AfterPromote } from '#shared/rotation/state.ts';

/** Deactivate: the old key becomes Inactive, once AWSCURRENT holds the Active new key. */
export const deactivateStep = stepHandler('Deactivate', AfterPromote, ({ rotation, newKey }, deps) => deactivate(rotation, newKey, deps));
export const handler = deactivateStep(lambdaDeps({ iam, secretsManager, member: { sts, iam: iamWith, secretsManager: secretsManagerWith } }));
