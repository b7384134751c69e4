import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { dynamodb } from '#shared/aws/clients/dynamodb.ts';
import { sns } from '#shared/aws/clients/sns.ts';
import { systemClock } from '#shared/base/clock.ts';
import { logger } from '#shared/base/logger.ts';
import { configLoader } from '#shared/config/load-config.ts';
import { lambdaNotifier } from '#shared/notify/notifier.ts';
import { reportOrgScan, type OrgScanReport } from '#shared/org/scan-report.ts';
import { dynamoOrgScanStore } from '#shared/org/scan-store.ts';

const config = configLoader(process.env);
const notifierFor = lambdaNotifier({ sns, dynamodb }, logger, systemClock);

/** Report (last state of scan-organization): every account's outcome read from the ledger table and logged, one notice to operations when any failed. */
export const handler = middy(async (event: unknown): Promise<OrgScanReport> => {
  const loaded = await config();
  return reportOrgScan(event, {
    notifier: notifierFor(loaded),
    config: loaded,
    logger,
    store: dynamoOrgScanStore(dynamodb, loaded.notificationLedgerTable),
  });
}).use(injectLambdaContext(logger));
