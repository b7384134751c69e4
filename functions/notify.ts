import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/handler.ts';
import { notify, NotifyInput } from '#shared/rotation/notify.ts';

/** Notify: one SNS message to the key's owner per workflow event and execution, even when retried; never a secret. */
export const notifyStep = stepHandler('Notify', NotifyInput, notify);
export const handler = notifyStep(lambdaDeps);
