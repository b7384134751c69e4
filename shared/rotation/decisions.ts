import type { CompromisedKeyAction, HealthCheck } from '../config/settings.ts';
import type { KeyStatus } from '../aws/iam.ts';
import { OTHER_ROTATION_TAGS } from '../config/user-settings.ts';
import type { CompromisePlanName, GateStatus, ObservationStatus, RotationKind } from './workflow-state.ts';

/**
 * The rotation's decisions, as pure functions of facts and "now". Handlers read the facts, call
 * these, and act on the answer; the tables in test/unit/rotation/decisions.test.ts pin them down.
 */

export interface KeyFact {
  readonly accessKeyId: string;
  readonly status: KeyStatus;
}

// ── Waits and deadlines ──────────────────────────────────────────────────────────────────────────

/**
 * Wait states take whole seconds; a sub-second interval (local runs compress waits) still waits 1 s in
 * AWS. Rounded up, so a poll never comes sooner than the interval: the execution history bound
 * (shared/config/history-budget.ts) counts polls from the interval.
 */
export function waitSeconds(intervalMs: number): number {
  return Math.max(1, Math.ceil(intervalMs / 1000));
}

export function addMs(at: Date | string, ms: number): string {
  return new Date(new Date(at).getTime() + ms).toISOString();
}

export function isPast(deadline: string, now: Date): boolean {
  return now.getTime() >= Date.parse(deadline);
}

/** Whole seconds left until the deadline, at least 1 (a Task's TimeoutSecondsPath must be a positive integer). */
export function secondsUntil(deadline: string, now: Date): number {
  return Math.max(1, Math.ceil((Date.parse(deadline) - now.getTime()) / 1000));
}

// ── Taking over the key AWSCURRENT holds (Prepare, CreateAndStore) ────────────────────────────────

export type AdoptionRefusal = 'no-current' | 'current-is-rotated-key' | 'not-a-key-of-the-user' | 'inactive';

export type Adoption =
  | { readonly adopt: true; readonly accessKeyId: string; readonly versionId: string }
  | { readonly adopt: false; readonly why: AdoptionRefusal };

/**
 * The key the user's own secret's AWSCURRENT holds is the replacement consumers were told to move to
 * (an earlier rotation of this key promoted it, then stopped: NeedsAttention, a failure past Promote,
 * or a first rotation whose secret no consumer could be reading yet). Rotating again takes it over
 * instead of creating a third key: it must be a key of this user (IAM lists it), Active, and not the
 * key being rotated. A version's key is known only when the rotator wrote it (readSecret), and the
 * secret is bound to this user (secret-binding.ts), so no other user's key can be taken over.
 * Nothing is created, deleted or relabelled by adopting.
 */
export function decideAdoption(keys: readonly KeyFact[], rotatedKeyId: string, versions: readonly VersionFact[]): Adoption {
  const current = versionWithStage(versions, 'AWSCURRENT');
  const heldId = current?.accessKeyId;
  if (!current || heldId === undefined) return { adopt: false, why: 'no-current' };
  if (heldId === rotatedKeyId) return { adopt: false, why: 'current-is-rotated-key' };
  const key = keys.find((candidate) => candidate.accessKeyId === heldId);
  if (!key) return { adopt: false, why: 'not-a-key-of-the-user' };
  if (key.status !== 'Active') return { adopt: false, why: 'inactive' };
  return { adopt: true, accessKeyId: heldId, versionId: current.versionId };
}

// ── Room under the two-key limit (Prepare) ───────────────────────────────────────────────────────

export interface RoomFacts {
  readonly keys: readonly KeyFact[];
  readonly oldAccessKeyId: string;
  readonly versions: readonly VersionFact[];
}

export type RoomDecision =
  | { readonly action: 'none' }
  | { readonly action: 'adopt'; readonly accessKeyId: string }
  | { readonly action: 'delete'; readonly accessKeyId: string }
  | {
      readonly action: 'refuse';
      readonly otherKeyId: string;
      /** `active`: the other key is Active and AWSCURRENT does not hold it; `secret-current`: AWSCURRENT holds it, but it cannot be taken over (Inactive). */
      readonly why: 'active' | 'secret-current';
      /** The key AWSCURRENT holds, so the refusal can say which key consumers depend on. */
      readonly currentKeyId: string | undefined;
    };

/**
 * IAM allows two keys per user. The other key is taken over when decideAdoption says so (the
 * replacement of an earlier rotation of this key, which AWSCURRENT holds). Otherwise it may be
 * deleted to make room only when it is Inactive and AWSCURRENT does not hold it (someone may be
 * about to reactivate it); an Active key, or one AWSCURRENT holds, is never deleted.
 */
export function decideRoom(facts: RoomFacts): RoomDecision {
  const { keys, oldAccessKeyId, versions } = facts;
  const other = keys.find((key) => key.accessKeyId !== oldAccessKeyId);
  if (!other) return { action: 'none' };
  const adoption = decideAdoption(keys, oldAccessKeyId, versions);
  if (adoption.adopt && adoption.accessKeyId === other.accessKeyId) return { action: 'adopt', accessKeyId: other.accessKeyId };
  const currentKeyId = versionWithStage(versions, 'AWSCURRENT')?.accessKeyId;
  if (other.accessKeyId === currentKeyId) return { action: 'refuse', otherKeyId: other.accessKeyId, why: 'secret-current', currentKeyId };
  if (other.status === 'Active') return { action: 'refuse', otherKeyId: other.accessKeyId, why: 'active', currentKeyId };
  return { action: 'delete', accessKeyId: other.accessKeyId };
}

// ── Where CreateAndStore's new key comes from ────────────────────────────────────────────────────

export type NewKeySource =
  { readonly source: 'pending' | 'adopted'; readonly accessKeyId: string; readonly versionId: string } | { readonly source: 'create' };

/**
 * CreateAndStore, safe to repeat: a key an earlier attempt of this step stored as AWSPENDING is
 * reused (Active, the user's, not the old key); else the key AWSCURRENT holds when decideAdoption
 * takes it over (also a repeat after Promote already ran); else a new key is created.
 */
export function decideNewKeySource(keys: readonly KeyFact[], oldAccessKeyId: string, versions: readonly VersionFact[]): NewKeySource {
  const pending = versionWithStage(versions, 'AWSPENDING');
  const held = keys.find((key) => key.accessKeyId === pending?.accessKeyId);
  // A pending version's key is known only when the rotator wrote it (readSecret), so `held` is a key an earlier attempt stored.
  if (pending && held && held.accessKeyId !== oldAccessKeyId && held.status === 'Active') {
    return { source: 'pending', accessKeyId: held.accessKeyId, versionId: pending.versionId };
  }
  const adoption = decideAdoption(keys, oldAccessKeyId, versions);
  if (adoption.adopt) return { source: 'adopted', accessKeyId: adoption.accessKeyId, versionId: adoption.versionId };
  return { source: 'create' };
}

// ── Room for a replacement on the compromise path (Contain announces it, Prepare acts on it) ─────

export interface CompromisePlan {
  readonly plan: CompromisePlanName;
  /** The key the plan acts on or leaves alone: the other key, or the compromised one for delete-compromised. */
  readonly accessKeyId: string | null;
  readonly why: string;
}

/**
 * The leaked key is already Inactive when this runs. Whether a replacement can be issued depends on
 * the user's other key, if any:
 * - none: room for a fresh key;
 * - held by the secret's AWSPENDING or AWSCURRENT and Active: the new key of a rotation this one
 *   took over (stopped before it finished), adopted as the replacement (CreateAndStore reuses it);
 * - Inactive and not AWSCURRENT: deleted to make room, as in any rotation;
 * - any other Active key: not the rotator's to delete, used or not. This rotation has created no key
 *   yet, so even a never-used, unstored one (say, left by an execution that was stopped between
 *   CreateAccessKey and PutSecretValue) may be someone's key that is about to be used. There is no
 *   room: with COMPROMISED_KEY_ACTION=delete the leaked key is deleted now to make room (it will be
 *   deleted anyway); with keep-inactive it is kept for forensics and no replacement is issued: the
 *   other key keeps working and the owner decides. `everUsed` only words the notice.
 */
export function planCompromiseRoom(
  keys: readonly UsedKeyFact[],
  compromisedKeyId: string,
  versions: readonly VersionFact[],
  action: CompromisedKeyAction,
): CompromisePlan {
  const other = keys.find((key) => key.accessKeyId !== compromisedKeyId);
  if (!other) return { plan: 'fresh', accessKeyId: null, why: 'no other key: a replacement will be issued' };
  const holder = versions.find((version) => version.accessKeyId === other.accessKeyId);
  const current = holder?.stages.includes('AWSCURRENT') ?? false;
  const pending = holder?.stages.includes('AWSPENDING') ?? false;
  const id = other.accessKeyId;
  if (other.status === 'Active' && (current || pending)) {
    return {
      plan: 'adopt',
      accessKeyId: id,
      why: `the secret already holds key ${id} (${current ? 'AWSCURRENT' : 'AWSPENDING'}), the new key of an earlier rotation: it becomes the replacement`,
    };
  }
  if (other.status === 'Inactive' && !current)
    return { plan: 'delete-other', accessKeyId: id, why: `the other key ${id} is Inactive and unreferenced: it is deleted to make room` };
  const inUse = other.everUsed
    ? 'is Active and in use'
    : 'is Active and was never used, but this rotation did not create it (an interrupted rotation may have left it; delete it if nobody holds it)';
  if (other.status === 'Active' && action === 'delete') {
    return {
      plan: 'delete-compromised',
      accessKeyId: compromisedKeyId,
      why: `the other key ${id} ${inUse}, so the contained key ${compromisedKeyId} is deleted now (COMPROMISED_KEY_ACTION=delete) to make room for the replacement; ${id} is left alone`,
    };
  }
  return {
    plan: 'skip',
    accessKeyId: id,
    why:
      other.status === 'Active'
        ? `the other key ${id} ${inUse}, and the contained key is kept for forensics (COMPROMISED_KEY_ACTION=keep-inactive): no replacement is issued; ${id} keeps working`
        : `the other key ${id} is Inactive but the secret's AWSCURRENT holds it: no replacement is issued until a person decides about ${id}`,
  };
}

// ── Last-used evidence ───────────────────────────────────────────────────────────────────────────

/**
 * How far GetAccessKeyLastUsed can be trusted. `granularityMs`: a reported time stands for some use in
 * [reported, reported + granularity) (IAM records only the first use in any 15-minute span; moto
 * records every request at full precision, 0). `lagMs`: a use may show up this long after it happened
 * (IAM: up to 4 hours; moto: at once, 0).
 */
export interface LastUsedPrecision {
  readonly granularityMs: number;
  readonly lagMs: number;
}

/**
 * A use is provably after `since` only if it is reported at or after `since + granularity`: a value
 * inside the first span may stand for a use before `since`. Lag cannot make a reported use false, it
 * only delays it. Verify's own STS call happens before promotion and can therefore never pass for a
 * consumer's use.
 */
export function usedSince(lastUsed: Date | undefined, since: string, precision: LastUsedPrecision): boolean {
  return lastUsed !== undefined && lastUsed.getTime() >= Date.parse(since) + precision.granularityMs;
}

/**
 * Idle for `quietMs`: no use in the last quiet period that the data can already show, i.e. in
 * [now − lag − quiet, now]. A use in the last `lag` may not be reported yet, so the quiet window is
 * judged where the data is complete, [now − lag − quiet, now − lag], and it must lie wholly after
 * promotion: hence promoted at least quiet + lag ago. A reported use stands for the span it opens
 * (reported + granularity), so that span must end before the window starts.
 */
export function idleFor(lastUsed: Date | undefined, promotedAt: string, quietMs: number, precision: LastUsedPrecision, now: Date): boolean {
  const windowStart = now.getTime() - precision.lagMs - quietMs;
  if (windowStart < Date.parse(promotedAt)) return false;
  return lastUsed === undefined || lastUsed.getTime() + precision.granularityMs <= windowStart;
}

// ── Consumer health gate ─────────────────────────────────────────────────────────────────────────

export interface CheckResult {
  readonly check: HealthCheck;
  readonly passed: boolean;
  readonly detail: string;
}

export interface GateVerdict {
  readonly status: GateStatus;
  readonly passing: readonly string[];
  readonly failing: readonly string[];
  readonly detail: string;
}

/**
 * Healthy only when every configured check passes. Past the deadline the gate never deactivates:
 * it reports "overdue" so the owner is asked to act. An abort marker wins over everything. With
 * `confirmByTaskToken` (deployed), a gate where only `manual` fails is "awaiting-confirmation".
 */
export function evaluateGate(
  results: readonly CheckResult[],
  aborted: boolean,
  deadline: string,
  now: Date,
  confirmByTaskToken = false,
): GateVerdict {
  const passing = results.filter((result) => result.passed).map((result) => result.check);
  const failing = results.filter((result) => !result.passed).map((result) => result.check);
  const detail = results.map((result) => `${result.check}: ${result.detail}`).join('; ');
  if (aborted) return { status: 'aborted', passing, failing, detail: `aborted by a person (iam-key-rotator abort); ${detail}` };
  if (results.length > 0 && failing.length === 0) return { status: 'healthy', passing, failing, detail };
  if (isPast(deadline, now)) return { status: 'overdue', passing, failing, detail };
  // Only a person is missing: wait for them in AwaitConfirmation (a task token) instead of polling.
  if (confirmByTaskToken && failing.length === 1 && failing[0] === 'manual')
    return { status: 'awaiting-confirmation', passing, failing, detail };
  return { status: 'waiting', passing, failing, detail };
}

// ── Observation ──────────────────────────────────────────────────────────────────────────────────

export interface ObservationFacts {
  readonly aborted: boolean;
  /** Failed http checks (empty when the check is not configured or all URLs answered 2xx). */
  readonly failedUrls: readonly string[];
  /** Consumers that called the old key regularly and have gone silent since it was cut, one line each (consumer-evidence.ts). */
  readonly silentConsumers?: readonly string[];
}

export function evaluateObservation(
  facts: ObservationFacts,
  observeUntil: string,
  now: Date,
): { status: ObservationStatus; detail: string } {
  const trouble: string[] = [];
  if (facts.aborted) trouble.push(`aborted by a person (iam-key-rotator abort)`);
  if (facts.failedUrls.length > 0) trouble.push(`health check failed: ${facts.failedUrls.join(', ')}`);
  for (const silence of facts.silentConsumers ?? []) trouble.push(silence);
  if (trouble.length > 0) return { status: 'trouble', detail: trouble.join('; ') };
  if (isPast(observeUntil, now)) return { status: 'over', detail: 'no trouble during the observation period' };
  return { status: 'watching', detail: `no trouble so far; observing until ${observeUntil}` };
}

// ── Markers a person sets on the IAM user ────────────────────────────────────────────────────────

/**
 * Confirm and abort are IAM user tags whose value is the NEW key's id, so a marker left from an
 * earlier rotation never confirms or aborts this one. Set them with `aws iam tag-user`.
 */
export const CONFIRM_TAG = OTHER_ROTATION_TAGS.confirm;
export const ABORT_TAG = OTHER_ROTATION_TAGS.abort;

export function markerSet(tags: ReadonlyMap<string, string>, tag: string, newAccessKeyId: string): boolean {
  return tags.get(tag)?.trim() === newAccessKeyId;
}

/**
 * A rotation that takes over a key (adoption) inherits its id, so markers a person set for that key
 * during an earlier run, or by hand since, would confirm or abort the new run at its first check.
 * These are the tags Prepare removes before the gate runs again.
 */
export function markersFor(tags: ReadonlyMap<string, string>, accessKeyId: string): string[] {
  return [CONFIRM_TAG, ABORT_TAG].filter((tag) => markerSet(tags, tag, accessKeyId));
}

// ── Secret labels ────────────────────────────────────────────────────────────────────────────────

/** A secret version as the rotator sees it: labels and the key id it holds, never the secret. */
export interface VersionFact {
  readonly versionId: string;
  readonly stages: readonly string[];
  readonly accessKeyId: string | undefined;
}

export function versionWithStage<V extends VersionFact>(versions: readonly V[], stage: string): V | undefined {
  return versions.find((version) => version.stages.includes(stage));
}

export function versionHoldingKey<V extends VersionFact>(versions: readonly V[], accessKeyId: string): V | undefined {
  return versions.find((version) => version.accessKeyId === accessKeyId);
}

// ── Orphans (CreateAndStore, MakeSafe) ───────────────────────────────────────────────────────────

export interface UsedKeyFact extends KeyFact {
  /** GetAccessKeyLastUsed reports a use (the rotated key counts as used). */
  readonly everUsed: boolean;
}

export interface ExtraKeyFact extends UsedKeyFact {
  /** IAM's CreateDate. */
  readonly createdAt: Date;
}

/** What tells the keys a rotation created from everyone else's. */
export interface RotationOrigin {
  /** Rotation.startedAt: Prepare's clock, before any key of this rotation exists. */
  readonly startedAt: string;
  /** The key this execution created or took over, when it got as far as recording it. */
  readonly newAccessKeyId: string | undefined;
}

/**
 * The key is this rotation's: the new key the execution recorded, or one IAM says was created at or
 * after the rotation started. A CreateDate at or after startedAt proves it; nothing earlier does,
 * including a CreateDate in the same second as startedAt: IAM's CreateDate carries whole seconds
 * (moto: microseconds), so a key created in that second may predate the rotation. On AWS an orphan
 * of a crash in Prepare's own second is therefore kept and reported, never deleted by a guess.
 */
export function createdByRotation(key: Pick<ExtraKeyFact, 'accessKeyId' | 'createdAt'>, origin: RotationOrigin): boolean {
  return key.accessKeyId === origin.newAccessKeyId || key.createdAt.getTime() >= Date.parse(origin.startedAt);
}

/**
 * A key that is not the old key and that no labelled secret version holds is an orphan of a crash
 * between CreateAccessKey and PutSecretValue if this rotation created it and it has never been used:
 * nobody but the crashed step ever saw its secret. Never-used is weak evidence (IAM reports a use up
 * to hours late), so it is trusted only for a key this rotation made; any other key, used or older
 * than the rotation, is someone's and is never deleted: it is `foreign`, for the caller to report.
 */
export function classifyExtraKeys(
  keys: readonly ExtraKeyFact[],
  oldAccessKeyId: string,
  referenced: ReadonlySet<string>,
  origin: RotationOrigin,
): { orphans: string[]; foreign: string[] } {
  const extra = keys.filter((key) => key.accessKeyId !== oldAccessKeyId && !referenced.has(key.accessKeyId));
  const isOrphan = (key: ExtraKeyFact): boolean => !key.everUsed && createdByRotation(key, origin);
  return {
    orphans: extra.filter(isOrphan).map((key) => key.accessKeyId),
    foreign: extra.filter((key) => !isOrphan(key)).map((key) => key.accessKeyId),
  };
}

// ── Rollback and MakeSafe ────────────────────────────────────────────────────────────────────────

export type SafetyAction =
  | { readonly action: 'reactivate-key'; readonly accessKeyId: string }
  | { readonly action: 'deactivate-key'; readonly accessKeyId: string }
  | { readonly action: 'delete-key'; readonly accessKeyId: string }
  | { readonly action: 'move-current'; readonly toVersionId: string; readonly fromVersionId: string | undefined }
  | { readonly action: 'remove-pending'; readonly versionId: string };

export interface SafetyFacts extends RotationOrigin {
  readonly kind: RotationKind;
  readonly oldAccessKeyId: string;
  /** Keys the user has now. */
  readonly keys: readonly ExtraKeyFact[];
  readonly versions: readonly VersionFact[];
}

/**
 * Rollback (observation trouble or abort): back to the state before the rotation. The old key is
 * Active and AWSCURRENT again; the new key is deactivated and kept for inspection (a later rotation
 * deletes it to make room, since it is Inactive and unreferenced). When there is no version of the
 * old key to go back to (the secret was created by this rotation), AWSCURRENT stays on the new key
 * and the new key stays Active: deactivating it would lock out everyone who reads the secret.
 */
export function planRollback(facts: SafetyFacts): SafetyAction[] {
  const actions: SafetyAction[] = [];
  // A leaked key is never brought back: the compromise path has nothing to roll back to.
  if (facts.kind === 'compromise') return actions;
  const oldKey = facts.keys.find((key) => key.accessKeyId === facts.oldAccessKeyId);
  if (oldKey?.status === 'Inactive') actions.push({ action: 'reactivate-key', accessKeyId: oldKey.accessKeyId });
  const current = versionWithStage(facts.versions, 'AWSCURRENT');
  let currentKeyId = current?.accessKeyId;
  const oldVersion = versionHoldingKey(facts.versions, facts.oldAccessKeyId);
  if (oldKey && oldVersion && currentKeyId !== facts.oldAccessKeyId) {
    actions.push({ action: 'move-current', toVersionId: oldVersion.versionId, fromVersionId: current?.versionId });
    currentKeyId = facts.oldAccessKeyId;
  }
  const pending = versionWithStage(facts.versions, 'AWSPENDING');
  if (pending) actions.push({ action: 'remove-pending', versionId: pending.versionId });
  const newKey = facts.keys.find((key) => key.accessKeyId === facts.newAccessKeyId);
  if (newKey?.status === 'Active' && currentKeyId !== newKey.accessKeyId)
    actions.push({ action: 'deactivate-key', accessKeyId: newKey.accessKeyId });
  return actions;
}

/**
 * After any failure: leave the user with no fewer working keys than at the start.
 * - The old key is reactivated if it was deactivated (not on the compromise path, where cutting it is the point).
 * - If AWSCURRENT holds a key that no longer works (deleted or Inactive), it goes back to the old key's version.
 * - The new key is deleted only if AWSCURRENT does not hold it: a promoted key may already be in use,
 *   so it stays Active next to the old one and the owner is told to finish by hand. Without a recorded
 *   new key, the key AWSPENDING holds stands for it only if this rotation created it: a pending key
 *   of an earlier, stopped execution is left for the next rotation to reuse.
 * - Orphans (created by this rotation, never stored, never used) are deleted; AWSPENDING is removed
 *   from a version that will never be promoted. Every other key is kept (extraKeys names them).
 */
export function planMakeSafe(facts: SafetyFacts): SafetyAction[] {
  const actions: SafetyAction[] = [];
  const live = new Map(facts.keys.map((key) => [key.accessKeyId, key]));
  const oldKey = live.get(facts.oldAccessKeyId);
  if (oldKey?.status === 'Inactive' && facts.kind !== 'compromise')
    actions.push({ action: 'reactivate-key', accessKeyId: oldKey.accessKeyId });
  const oldWorks = oldKey !== undefined && (oldKey.status === 'Active' || facts.kind !== 'compromise');

  const current = versionWithStage(facts.versions, 'AWSCURRENT');
  let currentKeyId = current?.accessKeyId;
  const currentWorks = currentKeyId !== undefined && live.get(currentKeyId)?.status === 'Active';
  const oldVersion = versionHoldingKey(facts.versions, facts.oldAccessKeyId);
  if (current && !currentWorks && currentKeyId !== facts.oldAccessKeyId && oldWorks && oldVersion) {
    actions.push({ action: 'move-current', toVersionId: oldVersion.versionId, fromVersionId: current.versionId });
    currentKeyId = facts.oldAccessKeyId;
  }

  const newKeyId = makeSafeNewKeyId(facts);
  const pending = versionWithStage(facts.versions, 'AWSPENDING');
  if (newKeyId !== undefined && newKeyId !== facts.oldAccessKeyId && newKeyId !== currentKeyId) {
    if (live.has(newKeyId)) actions.push({ action: 'delete-key', accessKeyId: newKeyId });
    if (pending && pending.accessKeyId === newKeyId) actions.push({ action: 'remove-pending', versionId: pending.versionId });
  }
  for (const orphan of extraKeys(facts).orphans) actions.push({ action: 'delete-key', accessKeyId: orphan });
  return actions;
}

/** The new key MakeSafe undoes: the recorded one, else the key AWSPENDING holds if this rotation created it (or it is gone). */
function makeSafeNewKeyId(facts: SafetyFacts): string | undefined {
  if (facts.newAccessKeyId !== undefined) return facts.newAccessKeyId;
  const pendingKeyId = versionWithStage(facts.versions, 'AWSPENDING')?.accessKeyId;
  if (pendingKeyId === undefined) return undefined;
  const key = facts.keys.find((candidate) => candidate.accessKeyId === pendingKeyId);
  return key === undefined || createdByRotation(key, facts) ? pendingKeyId : undefined;
}

/** MakeSafe's view of the keys besides the old and the new one: orphans it deletes, and foreign keys it keeps and reports. */
export function extraKeys(facts: SafetyFacts): { orphans: string[]; foreign: string[] } {
  const referenced = new Set(facts.versions.filter((version) => version.stages.length > 0).map((version) => version.accessKeyId ?? ''));
  const newKeyId = makeSafeNewKeyId(facts);
  if (newKeyId !== undefined) referenced.add(newKeyId);
  return classifyExtraKeys(facts.keys, facts.oldAccessKeyId, referenced, facts);
}
