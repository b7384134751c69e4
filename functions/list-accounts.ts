import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { organizations } from '#shared/aws/clients/organizations.ts';
import { deployedAccountId } from '#shared/aws/deployed-account.ts';
import { logger } from '#shared/base/logger.ts';
import { configLoader } from '#shared/config/load-config.ts';
import { listAccounts, type AccountList } from '#shared/org/list-accounts.ts';

const config = configLoader(process.env);
const ownAccountId = deployedAccountId();

/** ListAccounts (first state of scan-organization): the organization's accounts to scan, and those skipped. */
export const handler = middy(async (): Promise<AccountList> =>
  listAccounts({ organizations, config: await config(), ownAccountId: await ownAccountId(), logger }),
).use(injectLambdaContext(logger));
