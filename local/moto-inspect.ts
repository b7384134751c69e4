import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';

/** What moto recorded as published to SNS: read from its inspection API (local runs only). */
export interface PublishedNotification {
  readonly topicArn: string;
  readonly subject: string | null;
  readonly message: string;
  readonly attributes: Readonly<Record<string, string>>;
}

interface MotoTopic {
  readonly arn: string;
  readonly sent_notifications?: ReadonlyArray<readonly [string, string, string | null, Record<string, { Value?: string }> | null, unknown]>;
}

export async function publishedNotifications(endpoint: string): Promise<PublishedNotification[]> {
  const response = await fetch(`${endpoint}/moto-api/data.json`);
  if (!response.ok) throw new Error(`moto data.json failed with HTTP ${response.status}`);
  const data = (await response.json()) as { sns?: { Topic?: MotoTopic[] } };
  return (data.sns?.Topic ?? []).flatMap((topic) =>
    (topic.sent_notifications ?? []).map(([, message, subject, attributes]) => ({
      topicArn: topic.arn,
      subject,
      message,
      attributes: Object.fromEntries(Object.entries(attributes ?? {}).map(([name, value]) => [name, value.Value ?? ''])),
    })),
  );
}

/**
 * Credentials acting in another account of a local moto: its AssumeRole hands them out for any role
 * ARN without checking that the role exists, which is how local runs, the demo and tests seed and
 * inspect member accounts (auth not enforced).
 */
export async function motoCredentialsIn(sts: STSClient, accountId: string, sessionName = 'local-setup'): Promise<AwsCredentialIdentity> {
  const response = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/${sessionName}`, RoleSessionName: sessionName }),
  );
  const credentials = response.Credentials;
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) throw new Error(`moto returned no credentials for account ${accountId}`);
  return { accessKeyId: credentials.AccessKeyId, secretAccessKey: credentials.SecretAccessKey, sessionToken: credentials.SessionToken };
}
