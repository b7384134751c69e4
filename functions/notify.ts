import { dynamodb } from '#shared/clients/dynamodb.ts';
import { iam, iamWith } from '#shared/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/clients/secrets-manager.ts';
import { sns } from '#shared/clients/sns.ts';
import { sts } from '#shared/clients/sts.ts';
import { systemClock } from '#shared/clock.ts';
import { logger } from '#shared/logger.ts';
import { lambdaNotifier } from '#shared/notifier.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/handler.ts';
import { notify, NotifyInput } from '#shared/rotation/notify.ts';

/** Notify: one SNS message to the key's owner per workflow event and execution, even when retried; never a secret. */
export const notifyStep = stepHandler('Notify', NotifyInput, notify, { runWhenAccountUnreachable: true });
export const handler = notifyStep(lambdaDeps({ iam, secretsManager, notifier: lambdaNotifier({ sns, dynamodb }, logger, systemClock), member: { sts, iam: iamWith, secretsManager: secretsManagerWith } }));
