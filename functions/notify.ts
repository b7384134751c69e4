import { dynamodb } from '#shared/aws/clients/dynamodb.ts';
import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/aws/clients/secrets-manager.ts';
import { securityHubApi } from '#shared/aws/clients/security-hub.ts';
import { securityHub } from '#shared/aws/security-hub.ts';
import { sns } from '#shared/aws/clients/sns.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { systemClock } from '#shared/base/clock.ts';
import { logger } from '#shared/base/logger.ts';
import { lambdaNotifier } from '#shared/notify/notifier.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/step-handler.ts';
import { notify, NotifyInput } from '#shared/rotation/notify-step.ts';

/** Notify: one SNS message to the key's owner per workflow event and execution, even when retried; never a secret. */
export const notifyStep = stepHandler('Notify', NotifyInput, notify, { runWhenAccountUnreachable: true });
export const handler = notifyStep(
  lambdaDeps({
    iam,
    secretsManager,
    notifier: lambdaNotifier({ sns, dynamodb }, logger, systemClock),
    securityHub: securityHubApi,
    member: {
      function: 'notify',
      sts,
      iam: iamWith,
      secretsManager: secretsManagerWith,
      securityHub: (credentials) => securityHub({ region: process.env.AWS_REGION ?? 'us-east-1', credentials }),
    },
  }),
);
