import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { Clock } from '../base/clock.ts';
import type { Config } from '../config/settings.ts';
import { ConfigError, errorMessage, errorName } from '../base/errors.ts';
import { deployedAccountId } from '../aws/deployed-account.ts';
import { dynamoLedger, type NotificationLedger } from './ledger.ts';
import { buildNotification, route, type NotificationFacts } from './messages.ts';

/**
 * Sends one notification at most once: route it by the configuration, claim its id in the ledger,
 * publish, and give the claim back if the publish fails.
 *
 * Why claim before publishing: the alternative (publish, then record) sends a duplicate whenever
 * the record fails or a retry races the first attempt, and duplicates are what owners complain
 * about. The cost of claiming first is the opposite failure: if the process dies between the claim
 * and the publish (a Lambda timeout in that millisecond), the message is lost until the claim
 * expires. A publish that fails with an error releases the claim, so a retry sends it; if even the
 * release fails, the loss is logged as an error naming the id to delete.
 */

/**
 * What a sender knows; the notifier adds the region, the operations owner and the stack's account.
 * `accountId` names the member account that holds the user (organization-wide rotation); absent, the stack's own.
 */
export type NotificationRequestFacts = Omit<NotificationFacts, 'accountId' | 'rotatorAccountId' | 'region' | 'operationsOwner'> & {
  readonly accountId?: string | undefined;
};

export interface NotificationRequest {
  readonly facts: NotificationRequestFacts;
  /** The ledger id: one message per id (e.g. `execution#<name>#<event>`, `key#<id>#<event>#<threshold>`). */
  readonly dedupeId: string;
  /** How long the claim is kept; later sends with the same id go out again. */
  readonly keepForMs: number;
}

export type SendOutcome =
  | { readonly status: 'sent'; readonly messageId: string | null }
  | { readonly status: 'already-sent' }
  | { readonly status: 'suppressed'; readonly reason: string }
  | { readonly status: 'no-topic' };

export interface Notifier {
  send(request: NotificationRequest): Promise<SendOutcome>;
}

export type NotificationSettings = Pick<Config, 'topicArn' | 'operationsEmail' | 'notifyEvents' | 'notificationsQuiet'>;

export interface NotifierOptions {
  readonly sns: SNSClient;
  /** Required when a topic is configured. */
  readonly ledger: NotificationLedger | undefined;
  readonly config: NotificationSettings;
  readonly accountId: () => Promise<string>;
  readonly clock: Clock;
  readonly logger: Logger;
}

export function createNotifier(options: NotifierOptions): Notifier {
  const { sns, ledger, config, clock, logger } = options;
  return {
    send: async ({ facts, dedupeId, keepForMs }) => {
      const fields = { event: facts.event, userName: facts.userName, dedupeId };
      const decision = route(facts.event, config);
      if (!decision.send) {
        logger.info('notification suppressed by configuration', { ...fields, reason: decision.reason });
        return { status: 'suppressed', reason: decision.reason };
      }
      if (config.topicArn === '') {
        logger.info('no notification topic configured; notification skipped', fields);
        return { status: 'no-topic' };
      }
      if (ledger === undefined) {
        throw new ConfigError(
          'NOTIFICATION_LEDGER_TABLE is not set: without it a notification could be sent twice. Set it to the stack output NotificationLedgerTableName.',
        );
      }
      const rotatorAccountId = await options.accountId();
      const message = buildNotification({
        ...facts,
        operationsOwner: config.operationsEmail,
        accountId: facts.accountId ?? rotatorAccountId,
        rotatorAccountId,
        region: await sns.config.region(),
      });
      const owner = message.attributes.owner?.StringValue ?? '';
      const now = clock();
      const claimed = await ledger.claim({
        id: dedupeId,
        event: facts.event,
        userName: facts.userName,
        owner,
        subject: message.subject,
        claimedAt: now,
        expiresAt: new Date(now.getTime() + keepForMs),
      });
      if (!claimed) {
        logger.info('notification already sent; not sent again', fields);
        return { status: 'already-sent' };
      }
      let messageId: string | undefined;
      try {
        const response = await sns.send(
          new PublishCommand({
            TopicArn: config.topicArn,
            Subject: message.subject,
            Message: message.message,
            MessageStructure: 'json',
            MessageAttributes: message.attributes,
          }),
        );
        messageId = response.MessageId;
      } catch (error) {
        try {
          await ledger.release(dedupeId);
        } catch (releaseError) {
          logger.error(
            'notification lost: publish failed and its ledger claim could not be released; delete the item to let a retry send it',
            {
              ...fields,
              errorName: errorName(releaseError),
              detail: errorMessage(releaseError),
            },
          );
        }
        throw error;
      }
      logger.info('notification sent', { ...fields, owner, severity: message.severity, messageId });
      return { status: 'sent', messageId: messageId ?? null };
    },
  };
}

/** The ledger for a configuration: the DynamoDB table it names, or none (then only a run without a topic works). */
export function ledgerFor(dynamodb: DynamoDBClient, config: Pick<Config, 'notificationLedgerTable'>): NotificationLedger | undefined {
  return config.notificationLedgerTable === '' ? undefined : dynamoLedger(dynamodb, config.notificationLedgerTable);
}

/**
 * The account id from STS GetCallerIdentity, asked once per container (per process for the CLI).
 * A failed call is forgotten, so a throttled first call does not poison a warm container.
 */
export function callerAccountId(sts: STSClient): () => Promise<string> {
  let cached: Promise<string> | undefined;
  const read = async (): Promise<string> => {
    const response = await sts.send(new GetCallerIdentityCommand({}));
    if (!response.Account) throw new Error('STS GetCallerIdentity returned no account id');
    return response.Account;
  };
  return () => {
    cached ??= read().catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}

/**
 * The deployed notifier, for functions that notify (notify, scan-keys): SNS, the ledger table the
 * configuration names, and the stack's account id.
 */
export function lambdaNotifier(
  clients: { sns: SNSClient; dynamodb: DynamoDBClient },
  logger: Logger,
  clock: Clock,
  accountId = deployedAccountId(),
): (config: Config) => Notifier {
  return (config) => createNotifier({ sns: clients.sns, ledger: ledgerFor(clients.dynamodb, config), config, accountId, clock, logger });
}
