import { iam, iamWith } from '#shared/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/clients/secrets-manager.ts';
import { sts } from '#shared/clients/sts.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/handler.ts';
import { AfterCreate } from '#shared/rotation/state.ts';
import { promote } from '#shared/rotation/store.ts';

/** Promote: the new key's version becomes AWSCURRENT; the old one AWSPREVIOUS. */
export const promoteStep = stepHandler('Promote', AfterCreate, ({ rotation, newKey }, deps) => promote(rotation, newKey, deps));
export const handler = promoteStep(lambdaDeps({ iam, secretsManager, member: { sts, iam: iamWith, secretsManager: secretsManagerWith } }));
