import { ACCOUNT_ID } from '../base/account-id.ts';
import { ConfigError } from '../base/errors.ts';

/**
 * The account the stack is deployed in, which the stack writes to ROTATOR_ACCOUNT_ID (AWS::AccountId):
 * asking STS instead would add a call to every notifying function's cold start.
 */
export function deployedAccountId(env: Readonly<Record<string, string | undefined>> = process.env): () => Promise<string> {
  return async () => {
    const accountId = env.ROTATOR_ACCOUNT_ID?.trim() ?? '';
    if (!ACCOUNT_ID.test(accountId)) {
      throw new ConfigError(
        `ROTATOR_ACCOUNT_ID must be the 12-digit id of the account the stack runs in (got "${accountId}"); serverless.yml sets it from AWS::AccountId.`,
      );
    }
    return accountId;
  };
}
