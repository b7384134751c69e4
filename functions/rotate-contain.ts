import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/aws/clients/secrets-manager.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { contain, ContainInput } from '#shared/rotation/contain.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/step-handler.ts';

/** Contain (compromise path, first Task): deactivate the leaked key and deny every session issued with it so far. */
export const containStep = stepHandler('Contain', ContainInput, contain);
export const handler = containStep(
  lambdaDeps({ iam, secretsManager, member: { function: 'rotateContain', sts, iam: iamWith, secretsManager: secretsManagerWith } }),
);
