import { iam } from '#shared/clients/iam.ts';
import { secretsManager } from '#shared/clients/secrets-manager.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/handler.ts';
import { AfterCreate } from '#shared/rotation/state.ts';
import { promote } from '#shared/rotation/store.ts';

/** Promote: the new key's version becomes AWSCURRENT; the old one AWSPREVIOUS. */
export const promoteStep = stepHandler('Promote', AfterCreate, ({ rotation, newKey }, deps) => promote(rotation, newKey, deps));
export const handler = promoteStep(lambdaDeps({ iam, secretsManager }));
