import { iam, iamWith } from '#shared/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/clients/secrets-manager.ts';
import { sts } from '#shared/clients/sts.ts';
import { contain, ContainInput } from '#shared/rotation/contain.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/handler.ts';

/** Contain (compromise path, first Task): deactivate the leaked key and deny every session issued with it so far. */
export const containStep = stepHandler('Contain', ContainInput, contain);
export const handler = containStep(lambdaDeps({ iam, secretsManager, member: { sts, iam: iamWith, secretsManager: secretsManagerWith } }));
