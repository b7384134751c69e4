import { iam, iamWith } from '#shared/clients/iam.ts';
import { sts } from '#shared/clients/sts.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/handler.ts';
import { checkConsumers } from '#shared/rotation/health.ts';
import { AfterPromote } from '#shared/rotation/state.ts';

/** CheckConsumers: one pass of the user's health checks; healthy, waiting, overdue or aborted. */
export const checkConsumersStep = stepHandler('CheckConsumers', AfterPromote, ({ rotation, newKey, promoted }, deps) =>
  checkConsumers(rotation, newKey, promoted, deps),
);
export const handler = checkConsumersStep(lambdaDeps({ iam, member: { sts, iam: iamWith } }));
