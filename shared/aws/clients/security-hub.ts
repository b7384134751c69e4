import { securityHub } from '../security-hub.ts';
import { iam } from './iam.ts';

/** The rotator account's Security Hub (SECURITY_HUB_FINDINGS), signed with the function's own credentials, which the IAM client already resolves. */
export const securityHubApi = securityHub({ region: process.env.AWS_REGION ?? 'us-east-1', credentials: iam.config.credentials });
