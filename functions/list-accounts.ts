import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import * as z from 'zod/mini';
import { dynamodb } from '#shared/aws/clients/dynamodb.ts';
import { organizations } from '#shared/aws/clients/organizations.ts';
import { deployedAccountId } from '#shared/aws/deployed-account.ts';
import { systemClock } from '#shared/base/clock.ts';
import { InvalidInputError } from '#shared/base/errors.ts';
import { logger } from '#shared/base/logger.ts';
import { configLoader } from '#shared/config/load-config.ts';
import { listAccounts, type AccountList } from '#shared/org/list-accounts.ts';
import { dynamoOrgScanStore } from '#shared/org/scan-store.ts';

const config = configLoader(process.env);
const ownAccountId = deployedAccountId();
const EventSchema = z.object({ executionName: z.string().check(z.minLength(1)) });

/** ListAccounts (first state of scan-organization): the accounts to scan, written in pages to the ledger table, and those skipped. */
export const handler = middy(async (event: unknown): Promise<AccountList> => {
  const parsed = EventSchema.safeParse(event);
  if (!parsed.success)
    throw new InvalidInputError('ListAccounts needs { executionName } (the scan-organization execution, which keys its pages).');
  const loaded = await config();
  return listAccounts({
    organizations,
    config: loaded,
    ownAccountId: await ownAccountId(),
    logger,
    store: dynamoOrgScanStore(dynamodb, loaded.notificationLedgerTable),
    executionName: parsed.data.executionName,
    clock: systemClock,
  });
}).use(injectLambdaContext(logger));
