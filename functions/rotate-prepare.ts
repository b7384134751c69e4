import { iam, iamWith } from '#shared/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/clients/secrets-manager.ts';
import { sts } from '#shared/clients/sts.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/handler.ts';
import { prepare } from '#shared/rotation/prepare.ts';
import { RotationInput } from '#shared/rotation/state.ts';

/** Prepare: live read of the user and key, settings from tags, room under the two-key limit. */
export const prepareStep = stepHandler('Prepare', RotationInput, prepare);
export const handler = prepareStep(lambdaDeps({ iam, secretsManager, member: { sts, iam: iamWith, secretsManager: secretsManagerWith } }));
