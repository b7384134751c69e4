import { IAMClient, ListAccessKeysCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { publishedNotifications, type PublishedNotification } from '#local/moto-inspect.ts';
import type { RotationReport } from '#local/runner.ts';
import type { SdkCall } from './faults.ts';

/**
 * The rotation's promises, checked against moto after (and during) local runs:
 * - never more than two keys (sampled while the workflow runs);
 * - at least one Active key, held by the secret's AWSCURRENT (on the compromise path: the suspected key is not Active;
 *   a retirement: its key deleted when it succeeded, Active again on any other end, and no other key made);
 * - no orphan key: every key is held by a labelled secret version, or is the key the rotation started from;
 * - the old key is never deleted before its observation period ended;
 * - each notification is sent once per event per execution.
 * Each check returns the violations it found, as sentences; none means the invariant holds.
 */

// Clients of their own, never faulted: what they see is the truth.
const iam = new IAMClient({});
const secretsManager = new SecretsManagerClient({});

export interface LiveKey {
  readonly accessKeyId: string;
  readonly status: string;
}

export async function liveKeys(userName: string): Promise<LiveKey[]> {
  try {
    const response = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
    return (response.AccessKeyMetadata ?? []).map((key) => ({ accessKeyId: key.AccessKeyId ?? '', status: key.Status ?? '' }));
  } catch (error) {
    if (error instanceof NoSuchEntityException) return [];
    throw error;
  }
}

export interface HeldVersion {
  readonly versionId: string;
  readonly stages: readonly string[];
  readonly accessKeyId: string | undefined;
}

/** Every labelled version of the secret and the key it holds (VersionStage always passed: see TOOLCHAIN.md). */
export async function secretVersions(secretId: string): Promise<HeldVersion[]> {
  let stages: Record<string, string[]>;
  try {
    stages = (await secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return [];
    throw error;
  }
  const versions: HeldVersion[] = [];
  for (const [versionId, labels] of Object.entries(stages)) {
    const stage = labels[0];
    if (stage === undefined) continue;
    const value = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId, VersionStage: stage }));
    const parsed = JSON.parse(value.SecretString ?? '{}') as { AccessKeyId?: unknown };
    versions.push({ versionId, stages: labels, accessKeyId: typeof parsed.AccessKeyId === 'string' ? parsed.AccessKeyId : undefined });
  }
  return versions;
}

/** Samples a user's keys whenever `sample` is called (from onState): the most keys ever seen at once. */
export class KeySampler {
  private readonly pending: Promise<void>[] = [];
  private readonly maxByUser = new Map<string, number>();
  samples = 0;

  sample(userName: string): void {
    this.pending.push(
      liveKeys(userName).then((keys) => {
        this.samples += 1;
        this.maxByUser.set(userName, Math.max(this.maxByUser.get(userName) ?? 0, keys.length));
      }),
    );
  }

  /** Waits for the samples in flight, then reports users seen with more than two keys. */
  async violations(): Promise<string[]> {
    await Promise.all(this.pending.splice(0));
    return [...this.maxByUser].filter(([, max]) => max > 2).map(([userName, max]) => `${userName} had ${max} access keys at once`);
  }

  maxKeys(userName: string): number {
    return this.maxByUser.get(userName) ?? 0;
  }
}

/** One local run (an execution): its report, what it published and when each run's observation was to end. */
export interface RunRecord {
  readonly report: RotationReport;
  readonly notifications: readonly PublishedNotification[];
  /** Deactivate's `observeUntil` for this run's old key, from its state data. */
  readonly observeUntil: readonly string[];
}

/** Publishes to the user since `before` (a count from `notificationCount`). */
export async function notificationsSince(userName: string, before: number): Promise<PublishedNotification[]> {
  return (await userNotifications(userName)).slice(before);
}

/**
 * Everything SNS published, from moto's data.json. moto serialises its whole state for that page and
 * answers HTTP 500 now and then when a request changes it meanwhile (cells run in parallel): retried.
 */
export async function readPublished(): Promise<PublishedNotification[]> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await publishedNotifications(process.env.AWS_ENDPOINT_URL ?? '');
    } catch (error) {
      if (attempt >= 6) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

export async function userNotifications(userName: string): Promise<PublishedNotification[]> {
  const all = await readPublished();
  return all.filter((notification) => notification.attributes.userName === userName);
}

/** The `deactivated.observeUntil` a state's output carries, if any. */
export function observeUntilOf(output: unknown): string | undefined {
  if (!output || typeof output !== 'object' || !('deactivated' in output)) return undefined;
  const deactivated = (output as { deactivated?: { observeUntil?: unknown } }).deactivated;
  return typeof deactivated?.observeUntil === 'string' ? deactivated.observeUntil : undefined;
}

export interface EndStateFacts {
  readonly userName: string;
  /** The key the first run set out to replace. */
  readonly originalKeyId: string;
  readonly compromise: boolean;
  /** A retirement (kind retire): no replacement; the key is deleted on success and Active on any other end. */
  readonly retirement?: boolean;
  readonly runs: readonly RunRecord[];
  /** Every AWS call the runs' clients made (FaultInjector.calls), for the deletion times. */
  readonly calls: readonly SdkCall[];
  readonly secretId?: string;
}

export async function endStateViolations(facts: EndStateFacts): Promise<string[]> {
  const { userName, originalKeyId } = facts;
  const violations: string[] = [];
  const keys = await liveKeys(userName);
  const versions = await secretVersions(facts.secretId ?? `iam-key-rotator/${userName}`);
  const active = keys.filter((key) => key.status === 'Active');
  const current = versions.find((version) => version.stages.includes('AWSCURRENT'));
  const currentKey = keys.find((key) => key.accessKeyId === current?.accessKeyId);

  if (keys.length > 2) violations.push(`${userName} ends with ${keys.length} keys`);
  if (facts.retirement) {
    const last = facts.runs.at(-1)?.report;
    const retired = keys.find((key) => key.accessKeyId === originalKeyId);
    for (const key of keys)
      if (key.accessKeyId !== originalKeyId)
        violations.push(`the retirement of ${userName} left key ${key.accessKeyId}, which it did not start from`);
    if (last?.status === 'Succeeded' && retired)
      violations.push(`the retirement of ${userName} succeeded but key ${originalKeyId} is still there (${retired.status})`);
    if (last?.status !== 'Succeeded' && retired && retired.status !== 'Active')
      violations.push(
        `the retirement of ${userName} ended ${last?.status ?? '?'} with key ${originalKeyId} ${retired.status}: it should be Active again`,
      );
  } else if (facts.compromise) {
    if (active.some((key) => key.accessKeyId === originalKeyId))
      violations.push(`the suspected key ${originalKeyId} of ${userName} is still Active`);
    if (current && current.accessKeyId !== originalKeyId && currentKey?.status !== 'Active') {
      violations.push(`AWSCURRENT of ${userName} holds ${current.accessKeyId ?? 'nothing'}, which is ${currentKey?.status ?? 'gone'}`);
    }
  } else {
    if (active.length === 0) violations.push(`${userName} ends with no Active key`);
    if (currentKey?.status !== 'Active') {
      violations.push(
        `AWSCURRENT of ${userName} holds ${current?.accessKeyId ?? 'nothing'}, which is ${currentKey?.status ?? 'not a key of the user'}: consumers are locked out`,
      );
    }
  }

  const held = new Set(versions.map((version) => version.accessKeyId));
  for (const key of facts.retirement ? [] : keys) {
    if (key.accessKeyId !== originalKeyId && !held.has(key.accessKeyId)) {
      violations.push(
        `orphan key ${key.accessKeyId} (${key.status}) of ${userName}: no secret version holds it and it is not the rotated key`,
      );
    }
  }

  if (!facts.compromise) {
    const oldKeys = new Set(facts.runs.map((run) => run.report.oldAccessKeyId).filter((id): id is string => id !== null));
    const observationEnds = facts.runs.flatMap((run) =>
      run.observeUntil.map((until) => ({ key: run.report.oldAccessKeyId, until: Date.parse(until) })),
    );
    for (const call of facts.calls) {
      if (call.command !== 'DeleteAccessKeyCommand' || !call.ok) continue;
      const deleted = (call.input as { AccessKeyId?: string }).AccessKeyId ?? '';
      if (!oldKeys.has(deleted)) continue;
      const ended = observationEnds.some((end) => end.key === deleted && end.until <= call.at);
      if (!ended)
        violations.push(
          `old key ${deleted} of ${userName} was deleted at ${new Date(call.at).toISOString()} (state ${call.state ?? '?'}) before its observation period ended`,
        );
    }
  }

  for (const [index, run] of facts.runs.entries()) {
    const counts = new Map<string, number>();
    for (const notification of run.notifications) {
      const event = notification.attributes.event ?? '(no event attribute)';
      counts.set(event, (counts.get(event) ?? 0) + 1);
    }
    for (const [event, count] of counts) {
      if (count > 1) violations.push(`run ${index + 1} of ${userName} sent "${event}" ${count} times`);
    }
  }
  return violations;
}
