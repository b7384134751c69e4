import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { dynamodb } from '#shared/aws/clients/dynamodb.ts';
import { logger } from '#shared/base/logger.ts';
import { configLoader } from '#shared/config/load-config.ts';
import { orgScanPage, type ReadPageResult, type RecordPageResult } from '#shared/org/scan-pages.ts';
import { dynamoOrgScanStore } from '#shared/org/scan-store.ts';

const config = configLoader(process.env);

/** ReadPage and RecordPage (a child execution of scan-organization's Distributed Map): one page's accounts in, its outcomes out. */
export const handler = middy(async (event: unknown): Promise<ReadPageResult | RecordPageResult> => {
  const loaded = await config();
  return orgScanPage(event, { store: dynamoOrgScanStore(dynamodb, loaded.notificationLedgerTable), logger });
}).use(injectLambdaContext(logger));
