import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { sfn } from '#shared/aws/clients/sfn.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { systemClock } from '#shared/base/clock.ts';
import { deployedAccountId } from '#shared/aws/deployed-account.ts';
import { logger as defaultLogger } from '#shared/base/logger.ts';
import { memberAccountClientsOnFirstUse } from '#shared/aws/member-account.ts';
import { typedErrors } from '#shared/rotation/step-handler.ts';
import { configLoader } from '#shared/config/load-config.ts';
import { handleTrigger, type StartDeps, type StartOutcome } from '#shared/start/start-rotation.ts';

const config = configLoader(process.env);

/**
 * start-rotation: an API call, the CLI or an EventBridge rule (AWS Health AWS_RISK_CREDENTIALS_EXPOSED,
 * GuardDuty findings when enabled) starts a rotation. Parses and checks the trigger, then starts the
 * state machine; the event itself is never logged.
 */
export function startRotationHandler(
  clients: { iam: IAMClient; sfn: SFNClient },
  stateMachineArn: () => Promise<string>,
  logger: Logger = defaultLogger,
  accounts: Pick<StartDeps, 'ownAccountId' | 'iamFor'> = {},
) {
  return middy(async (event: unknown): Promise<StartOutcome[]> => handleTrigger(event, { ...clients, ...accounts, stateMachineArn: await stateMachineArn(), logger }))
    .use(injectLambdaContext(logger))
    .use(typedErrors('StartRotation', logger));
}

// Member-account IAM clients, one per account for the container, signed by its member role.
const memberIam = memberAccountClientsOnFirstUse(sts, systemClock, iamWith);
const iamFor = async (accountId: string): Promise<IAMClient> => memberIam(await config())(accountId);

export const handler = startRotationHandler({ iam, sfn }, async () => (await config()).stateMachineArn, defaultLogger, { ownAccountId: deployedAccountId(), iamFor });
