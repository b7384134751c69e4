import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { dynamodb } from '#shared/aws/clients/dynamodb.ts';
import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { securityHubApi } from '#shared/aws/clients/security-hub.ts';
import { securityHub } from '#shared/aws/security-hub.ts';
import { sfn } from '#shared/aws/clients/sfn.ts';
import { sns } from '#shared/aws/clients/sns.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { deployedAccountId } from '#shared/aws/deployed-account.ts';
import { limitToSession, memberAccountClientsOnFirstUse } from '#shared/aws/member-account.ts';
import { memberSessionOf } from '#shared/aws/member-session-policies.ts';
import { systemClock } from '#shared/base/clock.ts';
import { logger } from '#shared/base/logger.ts';
import { metrics } from '#shared/base/metrics.ts';
import { configLoader } from '#shared/config/load-config.ts';
import { lambdaNotifier } from '#shared/notify/notifier.ts';
import { handleScanEvent, type ScanEventResult } from '#shared/scan/scan-event.ts';

const config = configLoader(process.env);
const ownAccountId = deployedAccountId();
const notifierFor = lambdaNotifier({ sns, dynamodb }, logger, systemClock);
// One IAM client per member account per container, all sharing one STS client; each assumes the
// member role on first use and renews it before it ends (shared/aws/member-account.ts).
const scanKeysSession = memberSessionOf('scanKeys');
const region = process.env.AWS_REGION ?? 'us-east-1';
// The member account's Security Hub is signed by the same session (SECURITY_HUB_FINDINGS): one AssumeRole per account for both.
const memberClients = memberAccountClientsOnFirstUse(sts, systemClock, scanKeysSession, (credentials) => ({
  iam: limitToSession(iamWith(credentials), scanKeysSession),
  securityHub: securityHub({ region, credentials }),
}));

/** scan-keys: the schedule's scan of this account, the start of an organization scan, or one account of one (handleScanEvent tells them apart). */
export const handler = middy(async (event: unknown): Promise<ScanEventResult> => {
  const loaded = await config();
  const member = memberClients(loaded);
  return handleScanEvent(event, {
    iam,
    sfn,
    config: loaded,
    clock: systemClock,
    logger,
    metrics,
    notifier: notifierFor(loaded),
    securityHub: {
      api: securityHubApi,
      accountId: ownAccountId,
      region,
      memberApi: async (accountId) => (await member(accountId)).securityHub,
    },
    ownAccountId,
    memberIam: async (accountId) => (await member(accountId)).iam,
  });
})
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));
