// The yardstick for cold start: one IAM client, the Powertools Logger and Middy, bundled the
// naive way (esbuild defaults for node: each package's CommonJS `main`, the SDK's full default
// credential chain). Measured in the same run as our bundles, so machine load hits both alike.
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';

const iam = new IAMClient({});
const logger = new Logger({ serviceName: 'naive' });

export const handler = middy(async () => {
  const users = await iam.send(new ListUsersCommand({}));
  logger.info('listed', { count: users.Users?.length ?? 0 });
});
