import {
  AccessKeyNotFoundError,
  HistoryBoundError,
  InvalidInputError,
  KeyLimitReachedError,
  KeyNotActiveError,
  SecretStateError,
} from '../base/errors.ts';
import { exemptionOf, refuseExempt, refuseOutOfScope, refuseProtected } from '../config/exemptions.ts';
import { invalidTagsError, refusingProblems, resolveUserSettings, type UserSettings } from '../config/user-settings.ts';
import { describeWaits, historyBoundExcess } from '../config/history-budget.ts';
import { decideRoom, markersFor, planCompromiseRoom, versionWithStage, waitSeconds, type KeyFact, type RoomDecision } from './decisions.ts';
import type { Durations, RotationDeps } from './deps.ts';
import { deleteKey, keyLastUsed, listUserKeys, readUser, readUserGroups, type AccessKey } from '../aws/iam.ts';
import { clearMarkers } from './markers.ts';
import { CURRENT, readSecret } from './secret.ts';
import { assertSecretBound } from './secret-binding.ts';
import type { SecretView } from './secret.ts';
import type { Rotation, RotationInput } from './workflow-state.ts';

/** On the compromise path the health gate only records when consumers recover: it gives up after an hour at most. */
export const COMPROMISE_GATE_DEADLINE_MS = 3_600_000;

/**
 * Room on the compromise path (the leaked key is already Inactive): see planCompromiseRoom. A plan
 * to skip the replacement was routed past this step by the state machine, so meeting one here means
 * the keys changed since Contain: refuse, deleting nothing.
 */
async function compromiseRoom(
  keys: readonly AccessKey[],
  input: RotationInput,
  secret: SecretView,
  deps: RotationDeps,
): Promise<RoomDecision> {
  const other = keys.find((key) => key.accessKeyId !== input.accessKeyId);
  const otherUsed = other ? (await keyLastUsed(deps.iam, other.accessKeyId, 'unused')) !== undefined : false;
  const plan = planCompromiseRoom(
    keys.map((key) => ({ ...key, everUsed: key.accessKeyId === input.accessKeyId || otherUsed })),
    input.accessKeyId,
    secret.versions,
    deps.config.compromisedKeyAction,
  );
  switch (plan.plan) {
    case 'adopt':
      return { action: 'adopt', accessKeyId: plan.accessKeyId ?? '' };
    case 'delete-other':
    case 'delete-compromised':
      return { action: 'delete', accessKeyId: plan.accessKeyId ?? '' };
    case 'skip':
      throw new KeyLimitReachedError(
        `The leaked key ${input.accessKeyId} of ${input.userName} is contained, but no replacement can be issued: ${plan.why}. ` +
          `Nothing else was changed. Decide about ${plan.accessKeyId ?? 'the other key'}, then start a manual rotation if consumers need a new key.`,
      );
    default:
      return { action: 'none' };
  }
}

const updateKeyCommand = (userName: string, keyId: string, status: 'Active' | 'Inactive'): string =>
  `\`aws iam update-access-key --user-name ${userName} --access-key-id ${keyId} --status ${status}\``;

/**
 * Why Prepare cannot make room, and what a person can do. It never advises deactivating or deleting
 * the key the secret's AWSCURRENT holds: consumers that read the secret depend on that one.
 */
export function roomRefusalMessage(
  userName: string,
  rotatedKeyId: string,
  secretName: string,
  keys: readonly KeyFact[],
  room: Extract<RoomDecision, { action: 'refuse' }>,
): string {
  const other = room.otherKeyId;
  const head = `User ${userName} already has two access keys: ${rotatedKeyId} (being rotated) and ${other}. IAM allows two keys per user and the rotator never deletes a key that may be in use, so nothing was changed.`;
  if (room.why === 'secret-current') {
    // decideAdoption takes over an Active key AWSCURRENT holds, so a refusal for it means that key is Inactive.
    return (
      `${head} ${other} is Inactive although secret ${secretName} (AWSCURRENT) holds it: consumers that read the secret get a key that does not work. Do not delete ${other}. ` +
      `If it was deactivated by mistake, reactivate it (${updateKeyCommand(userName, other, 'Active')}) and start the rotation again: it takes ${other} over as the replacement and retires ${rotatedKeyId}. ` +
      `If it was deactivated because it leaked: \`iam-key-rotator rotate ${userName} --compromised --key ${other}\`.`
    );
  }
  const held =
    room.currentKeyId === undefined
      ? `Secret ${secretName} holds no key yet`
      : `Secret ${secretName} (AWSCURRENT) holds ${room.currentKeyId}${room.currentKeyId === rotatedKeyId ? ' (the key being rotated)' : ''}`;
  const moveFirst =
    room.currentKeyId === rotatedKeyId
      ? ` If something still uses ${other}, move it to secret ${secretName} and rotate ${other} instead (\`iam-key-rotator rotate ${userName} --key ${other}\`): that run takes over ${rotatedKeyId} and retires ${other} once its consumers have moved.`
      : '';
  return (
    `${head} ${held}, not ${other}: ${other} is the key to remove if nothing uses it any more. Check its last use (\`aws iam get-access-key-last-used --access-key-id ${other}\`), ` +
    `deactivate it (${updateKeyCommand(userName, other, 'Inactive')}), delete it once nothing broke (\`aws iam delete-access-key --user-name ${userName} --access-key-id ${other}\`), then start the rotation again.${moveFirst}`
  );
}

/**
 * The rotator writes every version under versionIdFor(its key), so an AWSCURRENT it cannot identify
 * was written by hand (an operator stored the key before the first rotation) or holds a key that no
 * longer exists. Either way this run could not tell which key consumers read from the secret, nor
 * roll AWSCURRENT back to it: refuse before anything changes, and point at adopt-secret, which reads
 * the value with the operator's credentials (the rotator's steps never do) and re-stores it.
 */
export function refuseUnidentifiedCurrent(secret: SecretView, secretName: string, userName: string): void {
  const current = versionWithStage(secret.versions, CURRENT);
  if (current === undefined || current.accessKeyId !== undefined) return;
  throw new SecretStateError(
    `Secret ${secretName} (AWSCURRENT, version ${current.versionId}) was not written by the rotator: it was stored by hand, or holds a key that IAM user ${userName} no longer has. ` +
      `The rotator reads only labels and version ids, so it cannot tell which key consumers get from it, nor roll back to it; nothing was changed. ` +
      `Run \`iam-key-rotator adopt-secret ${userName}\`: it re-stores a hand-written key of ${userName} under the rotator's version id (consumers read the same value), ` +
      `or says what to do when the secret holds no key of ${userName}. Then start the rotation again.`,
  );
}

/** A non-compromise rotation of an Inactive key: nothing to rotate. Deletion is suggested only for a key AWSCURRENT does not hold. */
export function inactiveKeyMessage(userName: string, accessKeyId: string, secretName: string, currentKeyId: string | undefined): string {
  if (currentKeyId === accessKeyId) {
    return (
      `Access key ${accessKeyId} of ${userName} is Inactive although secret ${secretName} (AWSCURRENT) holds it: consumers that read the secret get a key that does not work. ` +
      `There is nothing to rotate and nothing was changed. Do not delete it. If it was deactivated by mistake, reactivate it (${updateKeyCommand(userName, accessKeyId, 'Active')}); ` +
      `if it leaked: \`iam-key-rotator rotate ${userName} --compromised --key ${accessKeyId}\`.`
    );
  }
  return `Access key ${accessKeyId} of ${userName} is Inactive: there is nothing to rotate. Secret ${secretName} does not hold it as AWSCURRENT; delete it if nothing needs it, or reactivate it first.`;
}

/**
 * The waits this rotation runs with: the local runner's (compressed) where it gives them, else the
 * user's settings; a compromise gate gives up within the hour. Settings and tags were each checked
 * against the execution history bound, and so are the local runner's; checked here once more, before
 * any key is touched, because this is where they are finally combined.
 */
function rotationDurations(input: RotationInput, settings: UserSettings, deps: RotationDeps): Durations {
  const durations = {
    healthCheckIntervalMs: deps.durations.healthCheckIntervalMs ?? settings.healthCheckIntervalMs,
    healthCheckDeadlineMs: Math.min(
      deps.durations.healthCheckDeadlineMs ?? settings.healthCheckDeadlineMs,
      input.kind === 'compromise' ? COMPROMISE_GATE_DEADLINE_MS : Number.POSITIVE_INFINITY,
    ),
    observationMs: deps.durations.observationMs ?? settings.observationMs,
    oldKeyQuietMs: deps.durations.oldKeyQuietMs ?? deps.config.oldKeyQuietMs,
  };
  const excess = historyBoundExcess(durations, 'health-check interval');
  if (excess !== undefined) {
    throw new HistoryBoundError(
      excess.events,
      excess.bound,
      excess.smallestIntervalMs,
      `The rotation of ${input.userName} would run with ${describeWaits(durations)}, which ${excess.detail} Nothing was changed.`,
    );
  }
  return durations;
}

/**
 * Prepare: a live read of the user (the scan's credential report may be hours old), its settings
 * from tags, and room under the two-key limit. Fails with a typed error, changing nothing, when the
 * secret is not bound to the user (SecretNotBoundError), when the key is not the user's Active key
 * or when room cannot be made safely.
 */
export async function prepare(input: RotationInput, deps: RotationDeps): Promise<Rotation> {
  const { userName, accessKeyId } = input;
  const user = await readUser(deps.iam, userName);
  const { settings, problems, weakened } = resolveUserSettings(userName, user.tags, deps.config, deps.clock());
  // A misspelled tag would quietly fall back to a default (a check dropped): refused, except where a leak is being contained.
  const refusing = refusingProblems(problems);
  if (refusing.length > 0 && input.kind !== 'compromise') throw invalidTagsError(userName, refusing);
  for (const problem of problems) deps.logger.warn('invalid tag ignored', { userName, tag: problem.tagKey, detail: problem.message });
  // Exemptions hold on every path, not only in the scanner: a manual start or a hand-written
  // StartExecution meets the same rules here, before any key is touched.
  refuseProtected(deps.config, userName, user.path, `${input.kind} rotation`);
  refuseOutOfScope(deps.config, userName, user.path, user.tags, `${input.kind} rotation`);
  const groups = deps.config.exemptGroups.length > 0 ? await readUserGroups(deps.iam, userName) : [];
  const exemption = exemptionOf(deps.config, { path: user.path, groups }, settings, deps.clock());
  refuseExempt(userName, exemption, input.exemptionOverride, input.kind);
  if (exemption !== undefined)
    deps.logger.warn('rotating an exempt user', { userName, kind: input.kind, exemption, override: input.exemptionOverride });

  const durations = rotationDurations(input, settings, deps);

  const keys = await listUserKeys(deps.iam, userName);
  const oldKey = keys.find((key) => key.accessKeyId === accessKeyId);
  if (!oldKey) {
    throw new AccessKeyNotFoundError(
      `Access key ${accessKeyId} is not a key of IAM user ${userName} (it may have been deleted, or belong to another user). ` +
        `List the user's keys with \`aws iam list-access-keys --user-name ${userName}\` and rotate one of them.`,
    );
  }
  if (input.kind === 'retire') {
    await refuseUnretirable(input, oldKey, keys, settings.secretName, user.arn, deps);
    return rotationOf(input, { userArn: user.arn, settings, exemption, weakened, durations, removedKeyId: null }, deps);
  }
  // Before the secret's versions are read or anything is changed: a secret named by a tag must not
  // decide this rotation, nor receive the key, unless it is bound to this user.
  await assertSecretBound(deps, userName, settings.secretName, user.arn);
  const secret = await readSecret(
    deps.secretsManager,
    settings.secretName,
    keys.map((key) => key.accessKeyId),
  );
  // On the compromise path Contain has already deactivated the key: that is the point.
  if (oldKey.status !== 'Active' && input.kind !== 'compromise') {
    throw new KeyNotActiveError(
      inactiveKeyMessage(userName, accessKeyId, settings.secretName, versionWithStage(secret.versions, CURRENT)?.accessKeyId),
    );
  }
  // Containment must not wait for a person: the compromise path goes on with what the labels show.
  if (input.kind !== 'compromise') refuseUnidentifiedCurrent(secret, settings.secretName, userName);
  const room =
    input.kind === 'compromise'
      ? await compromiseRoom(keys, input, secret, deps)
      : decideRoom({ keys, oldAccessKeyId: accessKeyId, versions: secret.versions });
  if (room.action === 'refuse') throw new KeyLimitReachedError(roomRefusalMessage(userName, accessKeyId, settings.secretName, keys, room));
  if (room.action === 'delete') {
    await deleteKey(deps.iam, userName, room.accessKeyId);
    deps.logger.info('deleted an Inactive key to make room', { userName, accessKeyId: room.accessKeyId });
  }
  if (room.action === 'adopt') {
    // The adopted key keeps its id, so markers set for it during an earlier run would decide this one.
    const stale = markersFor(new Map(user.tags.map((tag) => [tag.Key ?? '', tag.Value ?? ''])), room.accessKeyId);
    await clearMarkers(deps.iam, userName, stale);
    deps.logger.info('taking over the key AWSCURRENT holds as the replacement', {
      userName,
      accessKeyId: room.accessKeyId,
      markersCleared: stale,
    });
  }

  return rotationOf(
    input,
    { userArn: user.arn, settings, exemption, weakened, durations, removedKeyId: room.action === 'delete' ? room.accessKeyId : null },
    deps,
  );
}

interface Resolved {
  readonly userArn: string;
  readonly settings: UserSettings;
  readonly exemption: string | undefined;
  readonly weakened: readonly { readonly tag: string; readonly value: string; readonly default: string }[];
  readonly durations: Durations;
  readonly removedKeyId: string | null;
}

/** The rotation as Prepare resolved it: who, which key, where it is stored, and every wait, fixed for this execution. */
function rotationOf(input: RotationInput, resolved: Resolved, deps: RotationDeps): Rotation {
  const { settings, exemption, weakened, durations } = resolved;
  return {
    userName: input.userName,
    userArn: resolved.userArn,
    oldAccessKeyId: input.accessKeyId,
    kind: input.kind,
    requestedBy: input.requestedBy,
    reason: input.reason,
    // null when no tag names an owner: the notifier then tells OPERATIONS_OWNER, flagged "owner unknown".
    owner: settings.owner ?? null,
    secretName: settings.secretName,
    startedAt: deps.clock().toISOString(),
    healthChecks: [...settings.healthChecks],
    healthCheckUrls: [...settings.healthCheckUrls],
    waitSeconds: waitSeconds(durations.healthCheckIntervalMs),
    healthCheckDeadlineMs: durations.healthCheckDeadlineMs,
    observationMs: durations.observationMs,
    oldKeyQuietMs: durations.oldKeyQuietMs,
    removedKeyId: resolved.removedKeyId,
    confirmVia: deps.confirmVia ?? 'tag',
    // null, not absent: the ASL's ResultSelector reads both, and a missing path would fail the execution.
    accountId: input.accountId ?? null,
    accountName: input.accountName ?? null,
    exemption: exemption ?? null,
    exemptionOverride: exemption === undefined ? null : (input.exemptionOverride ?? null),
    // Tags are data anyone who may tag the user can set: the owner's notices list the ones that loosen a default.
    weakened: weakened.map((override) => ({ ...override })),
    deleteSecret: input.kind === 'retire' ? (input.deleteSecret ?? false) : null,
  };
}

/**
 * A retirement changes nothing here. Its key must be Active (an Inactive one has nothing to wait
 * for), and deleting the user's secret afterwards is refused unless the secret is bound to the user
 * (a tag may name any secret) and nothing else of the user's is read from it: no other Active key,
 * and AWSCURRENT holds the retired key or no key at all.
 */
async function refuseUnretirable(
  input: RotationInput,
  oldKey: AccessKey,
  keys: readonly AccessKey[],
  secretName: string,
  userArn: string,
  deps: RotationDeps,
): Promise<void> {
  const { userName, accessKeyId } = input;
  const secret = await readSecret(
    deps.secretsManager,
    secretName,
    keys.map((key) => key.accessKeyId),
  );
  const currentKeyId = versionWithStage(secret.versions, CURRENT)?.accessKeyId;
  if (oldKey.status !== 'Active') throw new KeyNotActiveError(inactiveKeyMessage(userName, accessKeyId, secretName, currentKeyId));
  if (!input.deleteSecret || !secret.exists) return;
  await assertSecretBound(deps, userName, secretName, userArn);
  const other = keys.find((key) => key.accessKeyId !== accessKeyId && key.status === 'Active');
  const current = versionWithStage(secret.versions, CURRENT);
  if (other !== undefined || (current !== undefined && currentKeyId !== accessKeyId)) {
    throw new InvalidInputError(
      `Not retiring ${accessKeyId} of ${userName} with --delete-secret: ${other ? `the user's other key ${other.accessKeyId} is Active` : `secret ${secretName} (AWSCURRENT) holds ${currentKeyId ?? 'a value the rotator did not write'}`}, ` +
        `so something may still read ${secretName}. Nothing was changed. Retire the key without --delete-secret, or retire the other key first.`,
    );
  }
}
