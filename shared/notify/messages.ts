import { containCommand, retireCommand, rotateCommand } from '../base/cli-commands.ts';
import { QUIET_EVENTS, type NotificationEvent } from '../config/notification-events.ts';

/**
 * What owners are told, as pure data: one function turns an event about a key into an SNS message
 * (subject, a readable email body, a compact JSON body for chat and webhooks, and the message
 * attributes subscribers filter on), and one decides whether the configuration lets it out at all.
 * It never receives a secret value, so it cannot leak one.
 */

export type Severity = 'info' | 'warning' | 'critical';

export const UNKNOWN_OWNER = 'unknown';

export interface Routing {
  /** NOTIFY_EVENTS: when not empty, only these events are sent. */
  readonly notifyEvents: readonly NotificationEvent[];
  /** NOTIFICATIONS_QUIET. */
  readonly notificationsQuiet: boolean;
}

export type RouteDecision = { readonly send: true } | { readonly send: false; readonly reason: string };

/**
 * Whether the configuration lets an event out. Critical events (a contained compromise) always go:
 * a leaked key is never something an owner may opt out of hearing about.
 */
export function route(event: NotificationEvent, routing: Routing): RouteDecision {
  if (severityOf(event) === 'critical') return { send: true };
  if (routing.notificationsQuiet && !QUIET_EVENTS.includes(event)) return { send: false, reason: 'NOTIFICATIONS_QUIET=true' };
  if (routing.notifyEvents.length > 0 && !routing.notifyEvents.includes(event)) return { send: false, reason: 'not in NOTIFY_EVENTS' };
  return { send: true };
}

export interface NotificationFacts {
  readonly event: NotificationEvent;
  readonly userName: string;
  /** The owner from the user's tags, or undefined when no tag names one (then operations hears it, flagged). */
  readonly owner: string | undefined;
  /** OPERATIONS_OWNER: who hears about users without an owner tag ('' or undefined: the owner attribute says "unknown"). */
  readonly operationsOwner?: string | undefined;
  /** The account that holds the user: a member account in organization-wide rotation, else the stack's own. */
  readonly accountId: string;
  /** The member account's name from Organizations, when known. */
  readonly accountName?: string | undefined;
  /** The account the rotator runs in; when it is not `accountId`, the subject names the member account. */
  readonly rotatorAccountId?: string | undefined;
  readonly region: string;
  readonly oldAccessKeyId?: string | undefined;
  readonly newAccessKeyId?: string | undefined;
  readonly secretName?: string | undefined;
  readonly secretArn?: string | undefined;
  /** A sentence on why: the policy's reason, the error's message, the rollback's cause. */
  readonly reason?: string | undefined;
  /** ISO time of the next step the owner should know about (deadline, deactivation, deletion). */
  readonly nextStepAt?: string | undefined;
  readonly executionName?: string | undefined;
  /** unused-key: the scan deactivated the key (UNUSED_KEY_ACTION=deactivate). */
  readonly keyDeactivated?: boolean | undefined;
  /** unused-key: the scan started the key's retirement (UNUSED_KEY_ACTION=retire). */
  readonly retirementStarted?: boolean | undefined;
  /** A stable id for chat tools when there is no execution (the scan's dedupe id). */
  readonly reference?: string | undefined;
  /** Applied tags that weaken an account default (tag, its value, the default): shown so the owner sees who loosened what. */
  readonly weakened?: readonly { readonly tag: string; readonly value: string; readonly default: string }[] | undefined;
  /** rolled-back: the key AWSCURRENT holds after the rollback (the new key when no version ever held the old one). */
  readonly currentKeyId?: string | undefined;
  /** Consumers CloudTrail saw (where they call from, with what tool, what they call, last seen): the ones to move, or still on the old key. */
  readonly consumers?: ConsumerList | undefined;
  /** compromise-contained: what is and is not cut, and what the leaked key did (shared/rotation/incident.ts), one line each. */
  readonly details?: readonly string[] | undefined;
  /** A retirement (kind retire): the key leaves with no replacement; `secret` is what became of the user's secret at the end. */
  readonly retirement?: { readonly secret: 'kept' | 'scheduled-for-deletion' | 'deletion-failed' } | undefined;
  /**
   * A leaked key's replacement (kind compromise): the leaked key is Inactive from the first step and is
   * never reactivated. `keptInactive`: held for forensics (COMPROMISED_KEY_ACTION=keep-inactive), not
   * deleted; `otherActiveKeyId`: the user's other Active key, which containment left alone.
   */
  readonly compromise?: { readonly keptInactive: boolean; readonly otherActiveKeyId: string | null } | undefined;
  /** compromise-contained about temporary credentials (oldAccessKeyId is then the session's ASIA key): the key that opened it, if CloudTrail shows it. */
  readonly session?: { readonly issuedBy: string | null; readonly detail: string } | undefined;
}

export interface NamedConsumer {
  readonly source: string;
  readonly agent: string;
  readonly calls: readonly string[];
  readonly lastSeen: string;
}

export interface ConsumerList {
  /** e.g. "Seen on the old key over the last 14 days", "Still on the old key". */
  readonly heading: string;
  readonly consumers: readonly NamedConsumer[];
  /** How many more there are than listed. */
  readonly more: number;
}

/** The lines of a consumer list in an email: one per consumer, never a request parameter. */
export function consumerLines(list: ConsumerList): string[] {
  return [
    `${list.heading}:`,
    ...list.consumers.map(
      (consumer) =>
        `- ${consumer.source} (${consumer.agent}) calling ${consumer.calls.join(', ') || 'nothing seen'}, last seen ${consumer.lastSeen}`,
    ),
    ...(list.more > 0 ? [`- and ${list.more} more (iam-key-rotator consumers <user>)`] : []),
  ];
}

export interface SnsMessage {
  readonly subject: string;
  /** JSON for `MessageStructure: 'json'`: `email` is prose, `default` is compact JSON. */
  readonly message: string;
  readonly attributes: Record<string, { DataType: 'String'; StringValue: string }>;
  readonly severity: Severity;
}

interface Template {
  readonly severity: Severity;
  readonly title: (facts: NotificationFacts) => string;
  readonly happened: (facts: NotificationFacts) => string;
  readonly todo: (facts: NotificationFacts) => string;
  /** When the next step happens, given `nextStepAt`. */
  readonly next?: (at: string) => string;
}

const key = (id: string | undefined): string => id ?? '(unknown key)';
const secret = (facts: NotificationFacts): string => facts.secretName ?? `the secret of ${facts.userName}`;
/** The member account to name in a command, when the user is not in the rotator's own account. */
const memberAccount = (facts: NotificationFacts): string | undefined =>
  facts.rotatorAccountId !== undefined && facts.rotatorAccountId !== facts.accountId ? facts.accountId : undefined;
const rotateAgain = (facts: NotificationFacts, keyId?: string): string => rotateCommand(facts.userName, keyId, memberAccount(facts));
const stopIt = (facts: NotificationFacts): string =>
  `To stop it: iam-key-rotator abort ${facts.userName} (the old key is kept or restored).`;

const TEMPLATES: Record<NotificationEvent, Template> = {
  'rotation-warning': {
    severity: 'info',
    title: (f) => `Access key of ${f.userName} will be rotated soon`,
    happened: (f) => `Key ${key(f.oldAccessKeyId)} of IAM user ${f.userName} is near its rotation age: ${f.reason ?? ''}`,
    todo: (f) =>
      `Make sure every consumer reads the key from ${secret(f)} (AWSCURRENT), so it follows the rotation with no outage. ` +
      `To hold the rotation back, tag the user rotation:exempt=<reason> and rotation:exempt-until=<YYYY-MM-DD>.`,
    next: (at) => `The rotation starts with the first daily scan on or after ${at}.`,
  },
  'unused-key': {
    severity: 'warning',
    title: (f) => `${f.keyDeactivated ? 'Deactivated unused' : 'Unused'} access key of ${f.userName}`,
    happened: (f) =>
      `Key ${key(f.oldAccessKeyId)} of IAM user ${f.userName} looks unused: ${f.reason ?? ''}.` +
      (f.keyDeactivated ? ' The scan deactivated it (UNUSED_KEY_ACTION=deactivate); it was not deleted.' : '') +
      (f.retirementStarted
        ? ' The scan started its retirement (UNUSED_KEY_ACTION=retire): it is deactivated only once nothing has used it for the quiet period, then observed and deleted.'
        : ''),
    // The scan does not read secrets: a key the user's secret holds as AWSCURRENT may look unused
    // (its consumers have not moved yet), and deleting it would cut them off the day they do.
    todo: (f) =>
      f.keyDeactivated
        ? `If something still needs it, set it Active again (aws iam update-access-key --user-name ${f.userName} --access-key-id ${key(f.oldAccessKeyId)} --status Active). ` +
          `Delete it only if nothing needs it and ${secret(f)} does not hold it as AWSCURRENT.`
        : f.retirementStarted
          ? `Nothing, unless something still needs it: then stop the retirement (iam-key-rotator abort ${f.userName}). You will hear when the key is deactivated.`
          : `If nothing needs it and ${secret(f)} does not hold it as AWSCURRENT, retire it: ${retireCommand(f.userName, f.oldAccessKeyId, memberAccount(f))} (it waits until nothing has used the key for the quiet period, so a forgotten consumer is not cut). If something does, it will be rotated like any other key.`,
  },
  'exemption-expiring': {
    severity: 'info',
    title: (f) => `Rotation exemption of ${f.userName} ends soon`,
    happened: (f) => `The rotation:exempt tag of IAM user ${f.userName} expires: ${f.reason ?? ''}`,
    todo: () => 'Renew the rotation:exempt-until tag if the exemption must go on; otherwise its keys will be rotated.',
    next: (at) => `The exemption ends after ${at.slice(0, 10)} (UTC); the first daily scan after that treats its keys like any other.`,
  },
  'rotation-started': {
    severity: 'info',
    title: (f) => `Rotating the access key of ${f.userName}`,
    happened: (f) => `A rotation of key ${key(f.oldAccessKeyId)} of IAM user ${f.userName} started${f.reason ? `: ${f.reason}` : ''}.`,
    todo: (f) =>
      `Nothing yet. A new key will be written to ${secret(f)}; the old key keeps working until consumers have moved. ${stopIt(f)}`,
  },
  'new-key-ready': {
    severity: 'info',
    title: (f) => `New access key ready for ${f.userName}`,
    happened: (f) =>
      `New key ${key(f.newAccessKeyId)} was verified and is now AWSCURRENT in ${secret(f)}${f.secretArn ? ` (${f.secretArn})` : ''}. The old key ${key(f.oldAccessKeyId)} still works.`,
    todo: () =>
      'Consumers that read AWSCURRENT pick it up by themselves; restart or reconfigure any that copied the old key. The old key is deactivated once consumers use the new one.',
    next: (at) => `If consumers are not on the new key by ${at}, the rotation stops and asks you to act; nothing is cut before that.`,
  },
  'action-needed': {
    severity: 'warning',
    title: (f) => `Action needed: consumers of ${f.userName} still on the old key`,
    happened: (f) =>
      `Consumers of IAM user ${f.userName} did not move to the new key ${key(f.newAccessKeyId)}${f.reason ? `: ${f.reason}` : ''}. Both keys are still Active; nothing was cut.`,
    // The run has ended, so there is nothing left to confirm: the next rotation of the old key takes the new one over.
    todo: (f) =>
      `Point every consumer at ${secret(f)} (AWSCURRENT, which holds ${key(f.newAccessKeyId)}), then rotate again: ${rotateAgain(f, f.oldAccessKeyId)}. ` +
      `That run takes ${key(f.newAccessKeyId)} over instead of creating another key, checks consumers again and retires ${key(f.oldAccessKeyId)} once they use it. ` +
      `Do not delete ${key(f.newAccessKeyId)}: it is the key consumers move to.`,
  },
  'old-key-deactivated': {
    severity: 'info',
    title: (f) => `Old access key of ${f.userName} deactivated`,
    happened: (f) => `Old key ${key(f.oldAccessKeyId)} is now Inactive; consumers use ${key(f.newAccessKeyId)}.`,
    todo: (f) => `If anything breaks, it is rolled back automatically during the observation period. ${stopIt(f)}`,
    next: (at) => `The old key is deleted at the end of the observation period, ${at}.`,
  },
  'rolled-back': {
    severity: 'warning',
    title: (f) => `Rotation of ${f.userName} rolled back`,
    happened: (f) =>
      f.currentKeyId !== undefined && f.currentKeyId !== f.oldAccessKeyId
        ? `Old key ${key(f.oldAccessKeyId)} is Active again${f.reason ? `, because ${f.reason}` : ''}. ${secret(f)} keeps ${key(f.currentKeyId)} as AWSCURRENT, Active: no version of it ever held the old key, so nothing reading the secret is locked out.`
        : `Old key ${key(f.oldAccessKeyId)} is Active and AWSCURRENT again${f.reason ? `, because ${f.reason}` : ''}.`,
    todo: (f) =>
      f.currentKeyId !== undefined && f.currentKeyId !== f.oldAccessKeyId
        ? `Find why consumers failed, then rotate again (${rotateAgain(f, f.oldAccessKeyId)}): that run takes ${key(f.currentKeyId)} over. Do not delete ${key(f.currentKeyId)}: the secret holds it.`
        : `Find why consumers failed on the new key, then rotate again: ${rotateAgain(f, f.oldAccessKeyId)}. The daily scan does not start a rotation that ended so again.`,
  },
  'rotation-completed': {
    severity: 'info',
    title: (f) => `Access key of ${f.userName} rotated`,
    happened: (f) => `Old key ${key(f.oldAccessKeyId)} was deleted. ${key(f.newAccessKeyId)} is the only key, in ${secret(f)}.`,
    todo: () => 'Nothing.',
  },
  'rotation-failed': {
    severity: 'warning',
    title: (f) => `Rotation of ${f.userName} failed`,
    happened: (f) => `The rotation of key ${key(f.oldAccessKeyId)} stopped: ${f.reason ?? 'unknown error'}. The user kept a working key.`,
    todo: (f) =>
      `Fix the cause named above, then rotate again: ${rotateAgain(f, f.oldAccessKeyId)}. The daily scan does not start a rotation that failed again.`,
  },
  'compromise-contained': {
    severity: 'critical',
    title: (f) => (f.session ? `CRITICAL: sessions of ${f.userName} contained` : `CRITICAL: leaked access key of ${f.userName} contained`),
    happened: (f) =>
      f.session
        ? `The sessions of IAM user ${f.userName} issued before now are denied: the trigger named its temporary credentials ${key(f.oldAccessKeyId)}${f.reason ? ` (${f.reason})` : ''}. ` +
          `No access key was deactivated: the user's keys carry no session issue time and keep working. ${f.session.detail} ` +
          `Sessions of roles assumed with it are NOT cut by the user's deny: see the roles below.`
        : `Key ${key(f.oldAccessKeyId)} of IAM user ${f.userName} was deactivated, and the user's own sessions made with it (GetSessionToken, GetFederationToken) are denied${f.reason ? `: ${f.reason}` : ''}. ` +
          `Sessions of roles assumed with the key are NOT cut by the user's deny (a role session has the role's permissions): see the roles below. A replacement is being issued to ${secret(f)}.`,
    todo: (f) =>
      f.session
        ? `${f.session.issuedBy ? `If access key ${f.session.issuedBy}, which opened the session, leaked too, contain it: ${containCommand(f.userName, f.session.issuedBy)}. ` : 'Find how the session was obtained (a leaked key, a console password) and contain that. '}` +
          'Revoke the sessions of the roles listed below that are not revoked yet, and review the writes listed below for persistence. Legitimate sessions of the user must be requested again.'
        : 'Revoke the sessions of the roles listed below that are not revoked yet, contain every key flagged below, review the writes listed below for persistence (users, keys, login profiles, policies, trust), ' +
          'and tell consumers that requests failed until they read the new key.',
  },
  // To operations, once per organization scan: `reason` lists each account that failed and why.
  'accounts-unreachable': {
    severity: 'warning',
    title: () => 'Organization scan: some accounts could not be scanned',
    happened: (f) =>
      `The organization scan ${f.reference ?? ''} could not scan these accounts; their keys were not checked or rotated: ${f.reason ?? ''}`,
    todo: () =>
      'For each account: deploy stack/member-role.yml there (README: Organization-wide rotation) and check MEMBER_ROLE_NAME and MEMBER_ROLE_EXTERNAL_ID, ' +
      'or leave it out with ORG_EXCLUDE_ACCOUNTS. The next scan tries them again.',
  },
};

/** A retirement's notices: the same events, told of a key that leaves with no replacement. */
const RETIREMENT_TEMPLATES: Partial<Record<NotificationEvent, Template>> = {
  'rotation-started': {
    severity: 'info',
    title: (f) => `Retiring access key ${key(f.oldAccessKeyId)} of ${f.userName}`,
    happened: (f) =>
      `Key ${key(f.oldAccessKeyId)} of IAM user ${f.userName} is being retired, with no replacement${f.reason ? `: ${f.reason}` : ''}. ` +
      'It stays Active until no consumer has used it for the quiet period (OLD_KEY_QUIET_PERIOD).',
    todo: (f) => `Move whatever still uses it to a role (iam-key-rotator usage ${f.userName} --propose-role). ${stopIt(f)}`,
  },
  'action-needed': {
    severity: 'warning',
    title: (f) => `Action needed: access key of ${f.userName} still in use`,
    happened: (f) =>
      `Key ${key(f.oldAccessKeyId)} of IAM user ${f.userName} was not retired: it did not fall quiet by the deadline${f.reason ? ` (${f.reason})` : ''}. It is still Active; nothing was cut.`,
    todo: (f) =>
      `Move the consumers listed here off the key, then retire it again: iam-key-rotator retire ${f.userName} --key ${key(f.oldAccessKeyId)}.`,
  },
  'old-key-deactivated': {
    severity: 'info',
    title: (f) => `Access key ${key(f.oldAccessKeyId)} of ${f.userName} deactivated`,
    happened: (f) => `Key ${key(f.oldAccessKeyId)} is now Inactive: no consumer had used it for the quiet period.`,
    todo: (f) =>
      `If anything breaks, abort and it is reactivated: iam-key-rotator abort ${f.userName}. A request signed with an Inactive key leaves no CloudTrail record, so a consumer that was silent all along shows only by its own failures.`,
    next: (at) => `The key is deleted at the end of the observation period, ${at}.`,
  },
  'rolled-back': {
    severity: 'warning',
    title: (f) => `Retirement of ${f.userName}'s access key undone`,
    happened: (f) => `Key ${key(f.oldAccessKeyId)} is Active again${f.reason ? `, because ${f.reason}` : ''}.`,
    todo: (f) =>
      `Find what still needs it (iam-key-rotator consumers ${f.userName}), move it off the key, then retire it again: iam-key-rotator retire ${f.userName} --key ${key(f.oldAccessKeyId)}.`,
  },
  'rotation-completed': {
    severity: 'info',
    title: (f) => `Access key ${key(f.oldAccessKeyId)} of ${f.userName} retired`,
    happened: (f) =>
      `Key ${key(f.oldAccessKeyId)} was deleted.` +
      (f.retirement?.secret === 'scheduled-for-deletion'
        ? ` ${secret(f)} is scheduled for deletion and can be restored for 30 days (aws secretsmanager restore-secret --secret-id ${secret(f)}).`
        : f.retirement?.secret === 'deletion-failed'
          ? ` ${secret(f)} could not be scheduled for deletion: delete it by hand if nothing reads it.`
          : ''),
    todo: () => 'Nothing.',
  },
  'rotation-failed': {
    severity: 'warning',
    title: (f) => `Retirement of ${f.userName}'s access key failed`,
    happened: (f) => `The retirement of key ${key(f.oldAccessKeyId)} stopped: ${f.reason ?? 'unknown error'}. The key was left Active.`,
    todo: (f) => `Fix the cause named above, then retire it again: iam-key-rotator retire ${f.userName} --key ${key(f.oldAccessKeyId)}.`,
  },
};

const leakedKeyStays = (f: NotificationFacts): string =>
  `Leaked key ${key(f.oldAccessKeyId)} is Inactive and stays so: nothing reactivates it, iam-key-rotator abort included.`;
const SESSION_DENY = 'Remove the session-deny policy once the investigation is over (README: Removing the session-deny policy).';

/** A leaked key's replacement: the same events, told of a key that was cut at the start and never comes back. */
const COMPROMISE_TEMPLATES: Partial<Record<NotificationEvent, Template>> = {
  'rotation-started': {
    severity: 'info',
    title: (f) => `Replacing the leaked access key of ${f.userName}`,
    happened: (f) =>
      `A replacement for leaked key ${key(f.oldAccessKeyId)} of IAM user ${f.userName} started${f.reason ? `: ${f.reason}` : ''}. ${leakedKeyStays(f)}`,
    todo: (f) =>
      `Nothing yet. A new key will be written to ${secret(f)}; consumers that read AWSCURRENT pick it up, and until then their requests fail.`,
  },
  'new-key-ready': {
    severity: 'info',
    title: (f) => `Replacement access key ready for ${f.userName}`,
    happened: (f) =>
      `New key ${key(f.newAccessKeyId)} was verified and is now AWSCURRENT in ${secret(f)}${f.secretArn ? ` (${f.secretArn})` : ''}. ` +
      `Leaked key ${key(f.oldAccessKeyId)} is Inactive: a consumer still on it fails until it reads the new key.`,
    todo: () => 'Restart or reconfigure every consumer that copied the leaked key, so it reads AWSCURRENT.',
    next: (at) => `The rotation records until ${at} which consumers recovered; the leaked key stays Inactive whatever they do.`,
  },
  'rolled-back': {
    severity: 'warning',
    title: (f) => `Replacement of ${f.userName}'s leaked key stopped`,
    happened: (f) =>
      `Trouble after the replacement${f.reason ? ` (${f.reason})` : ''}: nothing was undone. ${key(f.newAccessKeyId)} stays Active and AWSCURRENT in ${secret(f)}; ` +
      `leaked key ${key(f.oldAccessKeyId)} stays Inactive and was not deleted.`,
    todo: (f) =>
      `Find why consumers fail on ${key(f.newAccessKeyId)} (they must read AWSCURRENT). Delete ${key(f.oldAccessKeyId)} by hand once the investigation no longer needs it ` +
      `(aws iam delete-access-key --user-name ${f.userName} --access-key-id ${key(f.oldAccessKeyId)}). ${SESSION_DENY}`,
  },
  'rotation-completed': {
    severity: 'info',
    title: (f) => `Leaked access key of ${f.userName} replaced`,
    happened: (f) =>
      (f.compromise?.keptInactive
        ? `Leaked key ${key(f.oldAccessKeyId)} is kept Inactive for forensics (COMPROMISED_KEY_ACTION=keep-inactive). `
        : `Leaked key ${key(f.oldAccessKeyId)} was deleted. `) +
      `${key(f.newAccessKeyId)} is in ${secret(f)}` +
      (f.compromise?.otherActiveKeyId
        ? `. The user's other key ${f.compromise.otherActiveKeyId} is still Active: containment left it alone.`
        : f.compromise?.keptInactive
          ? ', the only Active key.'
          : ', the only key.'),
    todo: (f) =>
      (f.compromise?.otherActiveKeyId
        ? `Make sure ${f.compromise.otherActiveKeyId} is known and expected (iam-key-rotator consumers ${f.userName}); if it may have leaked too, contain it: ` +
          `${containCommand(f.userName, f.compromise.otherActiveKeyId, memberAccount(f))}. `
        : '') +
      (f.compromise?.keptInactive ? `Delete ${key(f.oldAccessKeyId)} by hand once the investigation no longer needs it. ` : '') +
      SESSION_DENY,
  },
  'rotation-failed': {
    severity: 'warning',
    title: (f) => `Replacement of ${f.userName}'s leaked key failed`,
    happened: (f) => `The replacement of leaked key ${key(f.oldAccessKeyId)} stopped: ${f.reason ?? 'unknown error'}. ${leakedKeyStays(f)}`,
    todo: (f) => `Fix the cause named above, then run it again: ${containCommand(f.userName, key(f.oldAccessKeyId), memberAccount(f))}.`,
  },
};

const SUBJECT_LIMIT = 99;

export function severityOf(event: NotificationEvent): Severity {
  return TEMPLATES[event].severity;
}

/** Builds the SNS message for one event. Pure: same facts, same message. */
export function buildNotification(facts: NotificationFacts): SnsMessage {
  const variant = facts.retirement ? RETIREMENT_TEMPLATES : facts.compromise ? COMPROMISE_TEMPLATES : {};
  const template = variant[facts.event] ?? TEMPLATES[facts.event];
  // Without an owner tag the message goes to the operations audience, so their filter matches it.
  const owner = facts.owner ?? (facts.operationsOwner || UNKNOWN_OWNER);
  const account = facts.accountName ? `${facts.accountId} (${facts.accountName})` : facts.accountId;
  // A user name alone is ambiguous across an organization: a member account's messages say which account up front.
  const member = facts.rotatorAccountId !== undefined && facts.rotatorAccountId !== facts.accountId;
  const prefix = `${facts.owner === undefined ? '[owner unknown] ' : ''}${member ? `[${facts.accountName ? `${facts.accountName} ` : ''}${facts.accountId}] ` : ''}`;
  const subject = truncate(`${prefix}${template.title(facts)}`.replace(/[\r\n]+/g, ' '), SUBJECT_LIMIT);
  const happened = template.happened(facts);
  const todo = template.todo(facts);
  const lines = [
    happened,
    ...(facts.consumers && facts.consumers.consumers.length > 0 ? ['', ...consumerLines(facts.consumers)] : []),
    ...(facts.details && facts.details.length > 0 ? ['', ...facts.details] : []),
    '',
    `What to do: ${todo}`,
    ...(facts.nextStepAt ? ['', `Next step: ${template.next?.(facts.nextStepAt) ?? facts.nextStepAt}`] : []),
    '',
    `Account ${account}, region ${facts.region}, owner ${owner}${facts.executionName ? `, rotation ${facts.executionName}` : ''}.`,
    ...(member ? [`Rotated from the iam-key-rotator stack in account ${facts.rotatorAccountId ?? ''} through the member role.`] : []),
    ...(facts.owner === undefined
      ? ['This user has no rotation:owner, owner or email tag: add one so its owner hears about it directly.']
      : []),
    ...(facts.weakened && facts.weakened.length > 0 ? ['', weakenedLine(facts.weakened)] : []),
  ];
  // AWS Chatbot's custom notification schema, so the same message renders in Slack and Teams.
  const compact = {
    version: '1.0',
    source: 'custom',
    id: facts.executionName ?? facts.reference,
    content: { textType: 'client-markdown', title: subject, description: `${happened}\n*What to do:* ${todo}` },
    metadata: {
      event: facts.event,
      severity: template.severity,
      userName: facts.userName,
      owner,
      accountId: facts.accountId,
      accountName: facts.accountName,
      region: facts.region,
      oldAccessKeyId: facts.oldAccessKeyId,
      newAccessKeyId: facts.newAccessKeyId,
      secretName: facts.secretName,
      secretArn: facts.secretArn,
      ownerKnown: facts.owner !== undefined,
      nextStepAt: facts.nextStepAt,
      weakened: facts.weakened && facts.weakened.length > 0 ? facts.weakened : undefined,
      consumers: facts.consumers && facts.consumers.consumers.length > 0 ? facts.consumers : undefined,
      details: facts.details && facts.details.length > 0 ? facts.details : undefined,
    },
  };
  const attribute = (value: string) => ({ DataType: 'String' as const, StringValue: value === '' ? '-' : value });
  return {
    subject,
    severity: template.severity,
    message: JSON.stringify({ default: JSON.stringify(compact), email: lines.join('\n') }),
    attributes: {
      event: attribute(facts.event),
      severity: attribute(template.severity),
      userName: attribute(facts.userName),
      owner: attribute(owner),
      accountId: attribute(facts.accountId),
      ...(facts.accountName ? { accountName: attribute(facts.accountName) } : {}),
      region: attribute(facts.region),
    },
  };
}

/** One sentence listing the tags that loosen this user's rotation, each with its value and the account's default. */
export function weakenedLine(weakened: NonNullable<NotificationFacts['weakened']>): string {
  const items = weakened.map((override) => `${override.tag}=${override.value} (account default: ${override.default})`);
  return `Tags on this user weaken the account's defaults (anyone who may tag the user can set them): ${items.join('; ')}.`;
}

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 3)}...`;
}
