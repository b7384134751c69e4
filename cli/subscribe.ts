import type { Command } from 'commander';
import { CreateTopicCommand, GetTopicAttributesCommand, SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { STSClient } from '@aws-sdk/client-sts';
import { sns, sts } from '#shared/aws/clients.ts';
import { InvalidInputError } from '#shared/base/errors.ts';
import { NOTIFICATION_EVENTS, type NotificationEvent } from '#shared/config/notification-events.ts';
import { callerAccountId } from '#shared/notify/notifier.ts';
import { LOCAL_TOPIC_NAME } from '#local/runner.ts';
import { colors, type Output } from '../local/terminal.ts';
import { addOutputOptions, outputFormat, type OutputFlags } from './output-format.ts';

interface SubscribeFlags extends OutputFlags {
  readonly owner?: string;
  readonly events?: string;
  readonly topicArn?: string;
  readonly stage?: string;
  readonly local?: boolean;
}

/** A filter policy on the message attributes every notification carries; empty means "everything". */
export type FilterPolicy = Partial<Record<'owner' | 'event', string[]>>;

export interface SubscriptionResult {
  readonly topicArn: string;
  readonly endpoint: string;
  readonly subscriptionArn: string;
  readonly filterPolicy: FilterPolicy;
}

const HELP = `
Every notification carries the message attributes event, severity, userName, owner, accountId and
region. --owner and --events become a filter policy on them (FilterPolicyScope MessageAttributes),
so the address receives only the matching messages; without either it receives every message.
A user without an owner tag is notified with owner = OPERATIONS_OWNER (or "unknown" when that is
not set) and the subject starts with "[owner unknown]".

Events: ${NOTIFICATION_EVENTS.join(', ')}.

The topic: --topic-arn, or the stack's topic of --stage (iam-key-rotator-<stage>-notifications in
the current account and region), or --local (the local runner's topic, created if missing), else
$NOTIFICATION_TOPIC_ARN.

AWS sends the address a confirmation email; nothing is delivered until its link is clicked.

Examples:
  $ iam-key-rotator subscribe alice@example.com --owner alice@example.com --stage prod
  $ iam-key-rotator subscribe oncall@example.com --events action-needed,rotation-failed,compromise-contained --stage prod
  $ iam-key-rotator subscribe ops@example.com --owner unknown --topic-arn arn:aws:sns:eu-west-1:123456789012:iam-key-rotator-prod-notifications`;

export function registerSubscribe(program: Command, output: Output, setResult: (code: number) => void): void {
  const command = program
    .command('subscribe')
    .description('Subscribe an email address to the notifications of one owner, some events, or everything.')
    .argument('<email>', 'the address to deliver to')
    .option('--owner <owner>', 'only messages about keys of this owner (the value of their rotation:owner, owner or email tag)')
    .option('--events <events>', 'only these events, comma-separated')
    .option('--topic-arn <arn>', 'the notification topic (default: $NOTIFICATION_TOPIC_ARN)')
    .option('--stage <stage>', 'the topic of this deployed stage, in the current account and region')
    .option('--local', `the local runner's topic (${LOCAL_TOPIC_NAME}), created if missing`)
    .addHelpText('after', HELP)
    .action(async (email: string, flags: SubscribeFlags) => {
      setResult(await subscribeCommand(email, flags, output));
    });
  addOutputOptions(command, 'print the subscription as JSON on stdout');
}

/** The filter policy for an owner and a comma-separated list of events; rejects unknown events by name. */
export function filterPolicyFor(owner: string | undefined, events: string | undefined): FilterPolicy {
  const policy: FilterPolicy = {};
  if (owner !== undefined) {
    if (owner.trim() === '') throw new InvalidInputError('--owner must not be empty');
    policy.owner = [owner.trim()];
  }
  if (events !== undefined) {
    const names = [...new Set(events.split(/[,\s]+/).filter((name) => name !== ''))];
    const unknown = names.filter((name) => !(NOTIFICATION_EVENTS as readonly string[]).includes(name));
    if (names.length === 0 || unknown.length > 0) {
      throw new InvalidInputError(
        `--events: ${unknown.length > 0 ? `unknown event ${unknown.join(', ')}` : 'no event given'}. Events: ${NOTIFICATION_EVENTS.join(', ')}`,
      );
    }
    policy.event = names as NotificationEvent[];
  }
  return policy;
}

/** The deployed stack's topic name (serverless.yml: iam-key-rotator-${sls:stage}-notifications). */
export function stackTopicName(stage: string): string {
  return `iam-key-rotator-${stage}-notifications`;
}

async function resolveTopic(flags: SubscribeFlags, clients: { sns: SNSClient; sts: STSClient }): Promise<string> {
  const chosen = [flags.topicArn !== undefined, flags.stage !== undefined, flags.local === true].filter(Boolean).length;
  if (chosen > 1) throw new InvalidInputError('Pass only one of --topic-arn, --stage and --local.');
  if (flags.topicArn !== undefined) {
    if (!/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]{1,256}$/.test(flags.topicArn))
      throw new InvalidInputError(`--topic-arn is not an SNS topic ARN: ${flags.topicArn}`);
    return flags.topicArn;
  }
  if (flags.local) {
    const created = await clients.sns.send(new CreateTopicCommand({ Name: LOCAL_TOPIC_NAME }));
    if (!created.TopicArn) throw new Error(`SNS did not return an ARN for topic ${LOCAL_TOPIC_NAME}`);
    return created.TopicArn;
  }
  if (flags.stage !== undefined) {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(flags.stage))
      throw new InvalidInputError(`--stage must be a stage name like prod (got "${flags.stage}")`);
    const arn = `arn:aws:sns:${await clients.sns.config.region()}:${await callerAccountId(clients.sts)()}:${stackTopicName(flags.stage)}`;
    try {
      await clients.sns.send(new GetTopicAttributesCommand({ TopicArn: arn }));
    } catch (error) {
      if (error instanceof Error && error.name === 'NotFoundException') {
        throw new InvalidInputError(
          `There is no topic ${arn}: deploy stage ${flags.stage} first (npx osls deploy --stage ${flags.stage}), or check AWS_REGION.`,
          { cause: error },
        );
      }
      throw error;
    }
    return arn;
  }
  const fromEnv = process.env.NOTIFICATION_TOPIC_ARN?.trim();
  if (fromEnv) return fromEnv;
  throw new InvalidInputError(
    'Which topic? Pass --stage <stage> (the deployed stack), --topic-arn <arn>, or --local, or set NOTIFICATION_TOPIC_ARN.',
  );
}

/** Creates the email subscription with its filter policy. */
export async function subscribe(
  email: string,
  flags: SubscribeFlags,
  clients: { sns: SNSClient; sts: STSClient },
): Promise<SubscriptionResult> {
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new InvalidInputError(`"${email}" is not an email address`);
  const filterPolicy = filterPolicyFor(flags.owner, flags.events);
  const topicArn = await resolveTopic(flags, clients);
  const filtered = Object.keys(filterPolicy).length > 0;
  const response = await clients.sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'email',
      Endpoint: email,
      ReturnSubscriptionArn: true,
      ...(filtered ? { Attributes: { FilterPolicy: JSON.stringify(filterPolicy), FilterPolicyScope: 'MessageAttributes' } } : {}),
    }),
  );
  return { topicArn, endpoint: email, subscriptionArn: response.SubscriptionArn ?? 'pending confirmation', filterPolicy };
}

async function subscribeCommand(email: string, flags: SubscribeFlags, output: Output): Promise<number> {
  const result = await subscribe(email, flags, { sns, sts });
  if (outputFormat(flags) === 'json') {
    output.out(JSON.stringify(result, null, 2));
    return 0;
  }
  const what = [
    result.filterPolicy.owner ? `keys owned by ${result.filterPolicy.owner.join(', ')}` : 'every owner',
    result.filterPolicy.event ? `events ${result.filterPolicy.event.join(', ')}` : 'every event',
  ].join(', ');
  output.out(`Subscribed ${email} to ${result.topicArn} (${what}).`);
  output.out(
    `Filter policy (on message attributes): ${Object.keys(result.filterPolicy).length > 0 ? JSON.stringify(result.filterPolicy) : 'none: every message'}`,
  );
  output.out(`Subscription: ${result.subscriptionArn}`);
  output.out(colors.yellow(`AWS sends ${email} a confirmation email; nothing is delivered until the link in it is clicked.`));
  return 0;
}
