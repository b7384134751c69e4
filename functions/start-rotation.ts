import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { organizations } from '#shared/aws/clients/organizations.ts';
import { sfn } from '#shared/aws/clients/sfn.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { deployedAccountId } from '#shared/aws/deployed-account.ts';
import { limitToSession, memberAccountClientsOnFirstUse } from '#shared/aws/member-account.ts';
import { memberSessionOf } from '#shared/aws/member-session-policies.ts';
import { systemClock } from '#shared/base/clock.ts';
import { logger } from '#shared/base/logger.ts';
import { configLoader } from '#shared/config/load-config.ts';
import { accountAdmission } from '#shared/org/account-admission.ts';
import { typedErrors } from '#shared/rotation/step-handler.ts';
import { handleTrigger, type StartOutcome } from '#shared/start/start-rotation.ts';

const config = configLoader(process.env);
const ownAccountId = deployedAccountId();
// Member-account IAM clients, one per account for the container, signed by its member role.
const startRotationSession = memberSessionOf('startRotation');
const memberIam = memberAccountClientsOnFirstUse(sts, systemClock, startRotationSession, (credentials) =>
  limitToSession(iamWith(credentials), startRotationSession),
);

/**
 * start-rotation: an API call, the CLI or an EventBridge rule (AWS Health AWS_RISK_CREDENTIALS_EXPOSED,
 * GuardDuty findings when enabled) starts a rotation. Parses and checks the trigger, then starts the
 * state machine; the event itself is never logged.
 */
export const handler = middy(async (event: unknown): Promise<StartOutcome[]> => {
  const loaded = await config();
  return handleTrigger(event, {
    iam,
    sfn,
    stateMachineArn: loaded.stateMachineArn,
    logger,
    ownAccountId,
    iamFor: memberIam(loaded),
    admitAccount: accountAdmission(organizations, loaded),
    config: loaded,
    clock: systemClock,
  });
})
  .use(injectLambdaContext(logger))
  .use(typedErrors('StartRotation', logger));
