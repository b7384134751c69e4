import type { Clock } from '../base/clock.ts';
import { InvalidInputError } from '../base/errors.ts';
import type { CallQuery, KeyCall } from './key-calls.ts';
import type { FailureKind } from './read-failures.ts';

/** What both CloudTrail sources share: the blind spots of CloudTrail itself, the checks of a query, merging calls. */

/** CloudTrail logs only authenticated requests (S3 user guide, "Logging with CloudTrail"); an Inactive key fails authentication. */
export const UNAUTHENTICATED_BLIND_SPOT =
  'calls refused before authentication (a deleted, inactive or mistyped key) are never logged: a consumer still on a deactivated key shows only as silence';
/** The sample of an AWS service calling for an IAM user (forward access) and of a federated user both carry ASIA ids. */
export const SESSION_BLIND_SPOT =
  'calls made with temporary credentials the key obtained (sts:GetSessionToken, AssumeRole, GetFederationToken) carry the session’s ASIA key id: only the call that obtained them names this key';
/** "CloudTrail typically delivers events within an average of about 5 minutes of an API call. This time is not guaranteed." */
export const DELIVERY_DELAY_MS = 15 * 60_000;

export function deliveryBlindSpot(query: CallQuery, clock: Clock): string[] {
  const recent = query.to.getTime() > clock().getTime() - DELIVERY_DELAY_MS;
  return recent
    ? ['CloudTrail delivers a call about 5 minutes after it is made, with no guarantee: calls of the last 15 minutes may be missing']
    : [];
}

export function checkQuery(query: CallQuery): void {
  const from = query.from.getTime();
  const to = query.to.getTime();
  if (Number.isNaN(from) || Number.isNaN(to)) throw new InvalidInputError('A CloudTrail read needs a valid from and to date.');
  if (from > to)
    throw new InvalidInputError(
      `A CloudTrail read's window starts after it ends (${query.from.toISOString()} > ${query.to.toISOString()}).`,
    );
  if (query.accessKeyId === '') throw new InvalidInputError('A CloudTrail read needs the access key id to look for.');
}

/** Every call once (CloudTrail's eventID; a sample may read a page twice, two sources the same record), oldest first. */
export function mergeCalls(groups: readonly (readonly KeyCall[])[]): KeyCall[] {
  const byId = new Map<string, KeyCall>();
  for (const calls of groups) for (const call of calls) if (!byId.has(call.eventId)) byId.set(call.eventId, call);
  return [...byId.values()].sort((a, b) => a.at.getTime() - b.at.getTime() || a.eventId.localeCompare(b.eventId));
}

export function sampledBlindSpot(where: string, apiCalls: number): string {
  return `${where}: the budget did not cover the window, so ${apiCalls} pages were read at points spread over it: a consumer that calls rarely beside a busy one may be missed`;
}

export function unreadableBlindSpot(count: number): string[] {
  return count > 0 ? [`${count} records could not be read (not JSON, or no eventID or eventTime)`] : [];
}

/** How a read ended, in words for the person who fixes it; `what` names the API and place, `fix` the permission's remedy. */
export function failureMessage(kind: FailureKind, name: string, what: string, fix: string, apiCalls: number): string {
  switch (kind) {
    case 'denied':
      return `${what} was refused (${name}): ${fix}.`;
    case 'refused':
      return `${what} refused the credentials (${name}): the region may not be enabled for the account, or the credentials have expired; enable the region or leave it out of the regions read.`;
    case 'not-found':
      return `${what} found nothing to read (${name}): ${fix}.`;
    case 'throttled':
      return `${what} was throttled (${name}) after ${apiCalls} calls, beyond the SDK's retries: the rest of the window was not read; read again later, or with a smaller budget.`;
    case 'unreachable':
      return `${what} did not answer (${name}) after the SDK's retries: the rest of the window was not read; read again later.`;
  }
}
