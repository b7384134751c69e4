import {
  ABORT_TAG,
  CONFIRM_TAG,
  evaluateGate,
  evaluateObservation,
  idleFor,
  markerSet,
  secondsUntil,
  usedSince,
  type CheckResult,
} from './decisions.ts';
import type { RotationDeps } from './deps.ts';
import { keyLastUsed, readTags } from '../aws/iam.ts';
import { ConfigError } from '../base/errors.ts';
import { decided, type DecisionAction } from './decision-records.ts';
import {
  newKeyOf,
  type Deactivated,
  type Gate,
  type NewKey,
  type Observation,
  type Promoted,
  type Rotation,
  type Straggler,
} from './workflow-state.ts';
import { consumersMoved, silentSinceDeactivation } from './consumer-evidence.ts';

/** URLs that did not answer 2xx within the timeout. Only the URL and status are reported, never a body. */
export async function failingUrls(urls: readonly string[], deps: Pick<RotationDeps, 'fetch' | 'httpTimeoutMs'>): Promise<string[]> {
  const results = await Promise.all(
    urls.map(async (url) => {
      try {
        const response = await deps.fetch(url, { method: 'GET', signal: AbortSignal.timeout(deps.httpTimeoutMs), redirect: 'manual' });
        await response.body?.cancel();
        return response.status >= 200 && response.status < 300 ? undefined : `${url} (HTTP ${response.status})`;
      } catch (error) {
        return `${url} (${error instanceof Error ? error.name : 'error'})`;
      }
    }),
  );
  return results.filter((result): result is string => result !== undefined);
}

/** Whether this rotation hears people through the rotator's own channels (task token, table) and never through tags. */
export function decidedByOperators(rotation: Pick<Rotation, 'confirmVia'>, deps: Pick<RotationDeps, 'confirmVia'>): boolean {
  // Either side saying task-token is enough: a deployed Lambda must not fall back to tags because of an
  // older state, and a state written by a deployed Prepare must not be read by tags anywhere.
  return rotation.confirmVia === 'task-token' || deps.confirmVia === 'task-token';
}

/**
 * Whether a person made this decision about the rotation whose new key is `newAccessKeyId`. Deployed,
 * only the record `confirm`/`abort` wrote in the ledger table counts (decision-records.ts): a user
 * may tag itself, so a tag set by a leaked key must neither pass nor sabotage its own rotation.
 * Local runs (no task-token callbacks) read the tag marker, as the local interpreter requires.
 */
export async function personDecided(
  action: DecisionAction,
  userName: string,
  newAccessKeyId: string,
  operators: boolean,
  deps: Pick<RotationDeps, 'iam' | 'decisions'>,
  tags?: ReadonlyMap<string, string>,
): Promise<boolean> {
  if (operators) {
    if (!deps.decisions)
      throw new ConfigError(
        `This step has no store for confirm/abort decisions (the ledger table): a person could not ${action} this rotation, and tags are not read deployed.`,
      );
    return (await decided(deps.decisions, action, userName, newAccessKeyId)) !== undefined;
  }
  const markers = tags ?? (await readTags(deps.iam, userName));
  return markerSet(markers, action === 'confirm' ? CONFIRM_TAG : ABORT_TAG, newAccessKeyId);
}

/**
 * CheckConsumers: runs the user's configured checks once. Each check reads live evidence (and
 * consumers-moved remembers the consumers the previous check, `previous`, still waited for); the
 * verdict (healthy, waiting, overdue, aborted, awaiting-confirmation) is a pure function of it and
 * the deadline. `confirmTimeoutSeconds` is how long AwaitConfirmation may wait for a person.
 */
export async function checkConsumers(
  rotation: Rotation,
  newKey: NewKey,
  promoted: Promoted,
  deps: RotationDeps,
  previous?: Gate,
): Promise<Gate> {
  const now = deps.clock();
  const precision = deps.lastUsedPrecision;
  const operators = decidedByOperators(rotation, deps);
  // Tags are read only where they still carry decisions (local runs); deployed, never.
  const tags = operators ? undefined : await readTags(deps.iam, rotation.userName);
  // The compromise path's gate never blocks, so it never waits for a person in AwaitConfirmation.
  const byTaskToken = operators && rotation.kind !== 'compromise';
  const results: CheckResult[] = [];
  let stragglers: Straggler[] = [];
  for (const check of rotation.healthChecks) {
    switch (check) {
      case 'consumers-moved': {
        const remembered = [...(promoted.consumersToMove ?? []), ...(previous?.stragglers ?? [])];
        const moved = await consumersMoved(rotation, newKey, promoted, deps, now, remembered);
        results.push(moved.result);
        stragglers = moved.stragglers;
        break;
      }
      case 'new-key-used': {
        const passed = usedSince(await keyLastUsed(deps.iam, newKey.accessKeyId, 'unused'), promoted.promotedAt, precision);
        results.push({ check, passed, detail: passed ? 'the new key is in use' : 'the new key has not been used since it was promoted' });
        break;
      }
      case 'old-key-idle': {
        const passed = idleFor(
          await keyLastUsed(deps.iam, rotation.oldAccessKeyId, 'unused'),
          promoted.promotedAt,
          rotation.oldKeyQuietMs,
          precision,
          now,
        );
        results.push({
          check,
          passed,
          detail: passed ? 'the old key is idle' : 'the old key was used recently, or the quiet period has not passed yet',
        });
        break;
      }
      case 'http': {
        const failed = await failingUrls(rotation.healthCheckUrls, deps);
        results.push({
          check,
          passed: failed.length === 0,
          detail: failed.length === 0 ? 'all health URLs answer 2xx' : `failing: ${failed.join(', ')}`,
        });
        break;
      }
      case 'manual': {
        const passed = await personDecided('confirm', rotation.userName, newKey.accessKeyId, operators, deps, tags);
        const how = byTaskToken ? `run iam-key-rotator confirm ${rotation.userName}` : `tag the user ${CONFIRM_TAG}=${newKey.accessKeyId}`;
        results.push({ check, passed, detail: passed ? 'confirmed by a person' : `waiting for a person to ${how}` });
        break;
      }
    }
  }
  // The compromise path has nothing to roll back to (the leaked key never comes back), so an abort marker is not read there.
  const aborted =
    rotation.kind !== 'compromise' && (await personDecided('abort', rotation.userName, newKey.accessKeyId, operators, deps, tags));
  const verdict = evaluateGate(results, aborted, promoted.gateDeadline, now, byTaskToken);
  deps.logger.info('consumer health checked', {
    userName: rotation.userName,
    status: verdict.status,
    passing: verdict.passing,
    failing: verdict.failing,
    stragglers: stragglers.length,
  });
  return {
    ...verdict,
    passing: [...verdict.passing],
    failing: [...verdict.failing],
    stragglers,
    checkedAt: now.toISOString(),
    confirmTimeoutSeconds: secondsUntil(promoted.gateDeadline, now),
  };
}

/**
 * CheckObservation: while the old key is Inactive, trouble is a person's abort (deployed: the record
 * `abort` wrote in the ledger table; locally: the tag marker), a failing health URL, or a consumer that
 * called regularly and has gone silent since the cut (CloudTrail). The old key's own last use is not
 * read: a request signed with an Inactive key fails authentication and AWS records it nowhere, neither
 * in last-used data nor in CloudTrail (../shared/TOOLCHAIN.md), so a consumer stuck on it shows only by
 * its silence or its failures.
 */
export async function checkObservation(
  rotation: Rotation,
  newKey: NewKey | undefined,
  deactivated: Deactivated,
  deps: RotationDeps,
): Promise<Observation> {
  const now = deps.clock();
  if (rotation.kind === 'compromise') {
    // A leaked key must never come back, so nothing here is trouble: the hold runs its course.
    const verdict = evaluateObservation({ aborted: false, failedUrls: [] }, deactivated.observeUntil, now);
    deps.logger.info('observation checked', { userName: rotation.userName, status: verdict.status });
    return { status: verdict.status, detail: verdict.detail, checkedAt: now.toISOString() };
  }
  const failedUrls = rotation.healthChecks.includes('http') ? await failingUrls(rotation.healthCheckUrls, deps) : [];
  // A retirement is decided by its own key (there is no new one), and it waited until no consumer called,
  // so no consumer can fall silent since: an abort or a failing URL is all that tells of trouble.
  const decidedKey = rotation.kind === 'retire' ? rotation.oldAccessKeyId : newKeyOf(rotation, newKey).accessKeyId;
  const verdict = evaluateObservation(
    {
      aborted: await personDecided('abort', rotation.userName, decidedKey, decidedByOperators(rotation, deps), deps),
      failedUrls,
      silentConsumers:
        rotation.kind === 'retire' ? [] : await silentSinceDeactivation(rotation, newKeyOf(rotation, newKey), deactivated, deps, now),
    },
    deactivated.observeUntil,
    now,
  );
  deps.logger.info('observation checked', { userName: rotation.userName, status: verdict.status });
  return { ...verdict, checkedAt: now.toISOString() };
}
