import { DAY_MS } from '../base/clock.ts';
import { mapWithConcurrency } from '../base/concurrency.ts';
import type { Config } from '../config/settings.ts';
import { errorMessage, errorName } from '../base/errors.ts';
import type { NotificationRequest, Notifier } from '../notify/notifier.ts';
import type { KeyOutcome, ScannedKey } from './scanner.ts';

/**
 * What a scan tells owners: a warning for each key due soon, a notice for each unused key, and one
 * notice per user whose dated exemption ends within EXEMPTION_WARN_DAYS. The scan reads no more for
 * this: every key worth a notice is one the scanner already read live (report rows that need no live
 * read are `ok` or `inactive`), and each carries its owner from the tags GetAccountAuthorizationDetails
 * returned.
 *
 * Each notice has a ledger id made of the key (or user), the event and the threshold it crossed, so
 * a daily scan repeats nothing, yet a new threshold (a changed rotation age, a renewed exemption
 * approaching its new end, a key that was used and then went idle again) is news and is sent.
 */

/** Long enough that a warning is never repeated while its key lives; expired claims only bound the table. */
export const SCAN_NOTICE_KEEP_MS = 400 * DAY_MS;
const END_OF_DAY = 'T23:59:59.999Z';

export function planScanNotifications(
  keys: readonly ScannedKey[],
  deactivated: readonly KeyOutcome[],
  config: Pick<Config, 'exemptionWarnDays'>,
  now: Date,
  retiring: readonly KeyOutcome[] = [],
): NotificationRequest[] {
  const wasDeactivated = new Set(deactivated.map((key) => key.accessKeyId));
  const wasRetired = new Set(retiring.map((key) => key.accessKeyId));
  const requests: NotificationRequest[] = [];
  const common = (key: ScannedKey) => ({
    userName: key.userName,
    owner: key.owner ?? undefined,
    oldAccessKeyId: key.accessKeyId,
    secretName: key.secretName,
    reason: key.reason,
    // Tags anyone who may tag the user can set: the owner sees each one that loosens a default.
    weakened: key.weakened,
  });
  for (const key of keys) {
    if (key.class === 'warn') {
      const dedupeId = `key#${key.accessKeyId}#rotation-warning#${key.dueOn}`;
      requests.push({
        facts: { ...common(key), event: 'rotation-warning', nextStepAt: key.dueOn, reference: dedupeId },
        dedupeId,
        keepForMs: SCAN_NOTICE_KEEP_MS,
      });
    } else if (key.class === 'unused') {
      const keyDeactivated = wasDeactivated.has(key.accessKeyId);
      const dedupeId = `key#${key.accessKeyId}#unused-key#${key.lastUsedAt?.slice(0, 10) ?? 'never'}${keyDeactivated ? '#deactivated' : ''}`;
      requests.push({
        facts: {
          ...common(key),
          event: 'unused-key',
          keyDeactivated,
          ...(wasRetired.has(key.accessKeyId) ? { retirementStarted: true } : {}),
          reference: dedupeId,
        },
        dedupeId,
        keepForMs: SCAN_NOTICE_KEEP_MS,
      });
    }
  }

  const expiring = new Map<string, ScannedKey[]>();
  for (const key of keys) {
    if (key.class !== 'exempt' || key.exemptUntil === null) continue;
    const left = (Date.parse(`${key.exemptUntil}${END_OF_DAY}`) - now.getTime()) / DAY_MS;
    if (left < 0 || left > config.exemptionWarnDays) continue;
    expiring.set(key.userName, [...(expiring.get(key.userName) ?? []), key]);
  }
  for (const [userName, held] of expiring) {
    const first = held[0];
    if (first?.exemptUntil === undefined || first.exemptUntil === null) continue;
    const dedupeId = `user#${userName}#exemption-expiring#${first.exemptUntil}`;
    const heldBack = held.map((key) => `${key.accessKeyId} (${key.reason.replace(/^.*; otherwise /, 'otherwise ')})`).join('; ');
    requests.push({
      facts: {
        ...common(first),
        event: 'exemption-expiring',
        reason: `rotation:exempt-until is ${first.exemptUntil}. Keys held back by it: ${heldBack}.`,
        nextStepAt: `${first.exemptUntil}${END_OF_DAY}`,
        reference: dedupeId,
      },
      dedupeId,
      keepForMs: SCAN_NOTICE_KEEP_MS,
    });
  }
  return requests;
}

export interface ScanNotificationSummary {
  readonly sent: number;
  /** Sent by an earlier scan (found in the ledger). */
  readonly alreadySent: number;
  /** Held back by NOTIFY_EVENTS or NOTIFICATIONS_QUIET, or no topic configured. */
  readonly notSent: number;
  readonly failures: readonly { readonly dedupeId: string; readonly userName: string; readonly error: string; readonly message: string }[];
}

const CONCURRENCY = 8;

/** Sends the planned notices; one that fails is reported and the others still go out. */
export async function sendScanNotifications(
  requests: readonly NotificationRequest[],
  notifier: Notifier,
): Promise<ScanNotificationSummary> {
  let sent = 0;
  let alreadySent = 0;
  let notSent = 0;
  const failures: { dedupeId: string; userName: string; error: string; message: string }[] = [];
  await mapWithConcurrency(requests, CONCURRENCY, async (request) => {
    try {
      const outcome = await notifier.send(request);
      if (outcome.status === 'sent') sent += 1;
      else if (outcome.status === 'already-sent') alreadySent += 1;
      else notSent += 1;
    } catch (error) {
      failures.push({
        dedupeId: request.dedupeId,
        userName: request.facts.userName,
        error: errorName(error),
        message: errorMessage(error),
      });
    }
  });
  return { sent, alreadySent, notSent, failures };
}
