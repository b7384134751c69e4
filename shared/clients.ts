import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';

// Created once per Lambda container (module scope) and reused across invocations. The SDK's own
// adaptive retry strategy handles throttling; AWS_ENDPOINT_URL points them at moto locally.
const common = { maxAttempts: 5, retryMode: 'adaptive' } as const;

export const dynamodb = new DynamoDBClient(common);
export const iam = new IAMClient(common);
export const secretsManager = new SecretsManagerClient(common);
export const sfn = new SFNClient(common);
export const sns = new SNSClient(common);
export const ssm = new SSMClient(common);
export const sts = new STSClient(common);
