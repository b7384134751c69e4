import { iam, iamWith } from '#shared/clients/iam.ts';
import { sts } from '#shared/clients/sts.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/handler.ts';
import { checkObservation } from '#shared/rotation/health.ts';
import { AfterDeactivate } from '#shared/rotation/state.ts';

/** CheckObservation: trouble (roll back), watching, or over (delete the old key). */
export const checkObservationStep = stepHandler('CheckObservation', AfterDeactivate, ({ rotation, newKey, deactivated }, deps) =>
  checkObservation(rotation, newKey, deactivated, deps),
);
export const handler = checkObservationStep(lambdaDeps({ iam, member: { sts, iam: iamWith } }));
