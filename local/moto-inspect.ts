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
