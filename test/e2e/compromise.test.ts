import { describe, expect, test } from '@jest/globals';
import {
  AttachUserPolicyCommand,
  CreatePolicyCommand,
  ListAttachedUserPoliciesCommand,
  ListUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { loadConfig } from '#shared/config/settings.ts';
import { runRotation, type RotationReport } from '#local/runner.ts';
import { Contained } from '#shared/rotation/workflow-state.ts';
import {
  createKey,
  createUser,
  iam,
  keysOf,
  notificationsFor,
  quietLogger,
  seedSecret,
  storedKey,
  useKey,
} from '../helpers/rotation-fixtures.ts';

const FAST = { healthCheckIntervalMs: 50, healthCheckDeadlineMs: 200, observationMs: 50, oldKeyQuietMs: 50 };
const names = (report: RotationReport): string[] => report.states.map((state) => state.name);

async function inlinePolicies(userName: string): Promise<string[]> {
  return (await iam.send(new ListUserPoliciesCommand({ UserName: userName }))).PolicyNames ?? [];
}

/** Runs a compromise rotation and records what Contain reported and what IAM looked like right after it. */
async function compromise(
  userName: string,
  accessKeyId: string,
  options: { config?: ReturnType<typeof loadConfig>; durations?: typeof FAST } = {},
) {
  let contained: Contained | undefined;
  let afterContain: Promise<{ keys: Record<string, string>; policies: string[] }> | undefined;
  const report = await runRotation(
    { userName, accessKeyId, kind: 'compromise', requestedBy: 'test', reason: 'found on a public repository' },
    {
      logger: quietLogger,
      durations: options.durations ?? FAST,
      ...(options.config ? { config: options.config } : {}),
      onStateData: ({ name, output }) => {
        const parsed = Contained.safeParse((output as { contained?: unknown } | undefined)?.contained);
        if (name !== 'Contain' || !parsed.success) return;
        contained = parsed.data;
        afterContain = Promise.all([keysOf(userName), inlinePolicies(userName)]).then(([keys, policies]) => ({ keys, policies }));
      },
    },
  );
  return { report, contained, afterContain: await afterContain };
}

/** Each notice the user's owner got, by event: the email text. */
async function emailsOf(userName: string): Promise<Record<string, string>> {
  const sent = await notificationsFor(userName);
  return Object.fromEntries(
    sent.map((notification) => [notification.attributes.event ?? '', (JSON.parse(notification.message) as { email?: string }).email ?? '']),
  );
}

describe('compromise fast path, run locally against moto', () => {
  test('containment is the first Task: the key is Inactive and old sessions are denied before any new key exists; then it is replaced and deleted', async () => {
    // Prepare
    const leaked = await createUser('leaky', { 'rotation:owner': 'team-a@example.com' });
    await seedSecret('leaky', leaked);

    // Act
    const { report, contained, afterContain } = await compromise('leaky', leaked.accessKeyId);

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(names(report).slice(0, 4)).toEqual(['IsCompromise', 'Contain', 'NotifyContained', 'CanReplace']);
    expect(afterContain?.keys).toEqual({ [leaked.accessKeyId]: 'Inactive' });
    expect(afterContain?.policies).toEqual([contained?.denyPolicyName]);
    expect(contained).toMatchObject({ keyWasActive: true, plan: 'fresh', replacement: 'create', awsQuarantinePolicies: [] });
    expect(contained?.denyPolicyName).toMatch(/^iam-key-rotator-deny-sessions-before-\d{8}T\d{6}Z$/);
    // The gate only records; the hold replaces the deactivation; the leaked key is gone at the end.
    expect(names(report)).toContain('HoldCompromisedKey');
    expect(names(report)).not.toContain('Deactivate');
    const replacement = report.newAccessKeyId ?? '';
    expect(await keysOf('leaky')).toEqual({ [replacement]: 'Active' });
    expect((await storedKey('leaky')).accessKeyId).toBe(replacement);
    // The deny policy stays until a person removes it.
    expect(await inlinePolicies('leaky')).toEqual([contained?.denyPolicyName]);
    const critical = (await notificationsFor('leaky')).filter((notification) => notification.attributes.event === 'compromise-contained');
    expect(critical).toHaveLength(1);
    expect(critical[0]?.attributes.severity).toBe('critical');
    // No notice of the replacement says the leaked key still works or that an abort brings it back.
    const emails = await emailsOf('leaky');
    expect(Object.keys(emails)).toEqual(['compromise-contained', 'rotation-started', 'new-key-ready', 'rotation-completed']);
    for (const text of Object.values(emails)) expect(text).not.toMatch(/still works|keeps working|kept or restored/);
    expect(emails['rotation-started']).toContain(`Leaked key ${leaked.accessKeyId} is Inactive and stays so`);
    expect(emails['new-key-ready']).toContain(`Leaked key ${leaked.accessKeyId} is Inactive`);
    expect(emails['rotation-completed']).toContain(
      `Leaked key ${leaked.accessKeyId} was deleted. ${replacement} is in iam-key-rotator/leaky, the only key.`,
    );
  });

  test('the leaked key tried during the hold is never brought back', async () => {
    // Prepare
    const leaked = await createUser('attacked');
    await seedSecret('attacked', leaked);

    // Act: rotate, trying the leaked key once the hold begins.
    let attempt: Promise<unknown> | undefined;
    const report = await runRotation(
      { userName: 'attacked', accessKeyId: leaked.accessKeyId, kind: 'compromise' },
      {
        logger: quietLogger,
        durations: { ...FAST, observationMs: 300 },
        onState: (state) => {
          // Whoever holds it tries again (AWS refuses it; moto serves it): the hold runs its course.
          if (state.name === 'HoldCompromisedKey') attempt = useKey(leaked).catch(() => undefined);
        },
      },
    );
    await attempt;

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(report.states.filter((state) => state.name === 'CheckObservation').map((state) => state.outcome)).not.toContain('trouble');
    expect(Object.keys(await keysOf('attacked'))).not.toContain(leaked.accessKeyId);
  });

  test('two Active keys, COMPROMISED_KEY_ACTION=keep-inactive: only the named key is contained, the other keeps working, no replacement', async () => {
    // Prepare: the leaked key and another Active key in use.
    const leaked = await createUser('twokeys');
    const other = await createKey('twokeys');
    await seedSecret('twokeys', leaked);
    await useKey(other);

    // Act
    const { report, contained } = await compromise('twokeys', leaked.accessKeyId, {
      config: { ...loadConfig({}), compromisedKeyAction: 'keep-inactive' },
    });

    // Assess
    expect(report.status).toBe('NeedsAttention');
    expect(names(report)).toEqual(['IsCompromise', 'Contain', 'NotifyContained', 'CanReplace', 'NoReplacement', 'NeedsAttention']);
    expect(contained).toMatchObject({ plan: 'skip', replacement: 'skip', otherKeyId: other.accessKeyId });
    expect(await keysOf('twokeys')).toEqual({ [leaked.accessKeyId]: 'Inactive', [other.accessKeyId]: 'Active' });
    expect(await inlinePolicies('twokeys')).toHaveLength(1);
  });

  test('two Active keys, COMPROMISED_KEY_ACTION=delete: the leaked key makes room, the other is untouched, a replacement is issued', async () => {
    // Prepare: the leaked key and another Active key in use.
    const leaked = await createUser('twokeys-delete');
    const other = await createKey('twokeys-delete');
    await seedSecret('twokeys-delete', leaked);
    await useKey(other);

    // Act
    const { report, contained } = await compromise('twokeys-delete', leaked.accessKeyId);

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(contained).toMatchObject({ plan: 'delete-compromised', replacement: 'create' });
    const replacement = report.newAccessKeyId ?? '';
    expect(await keysOf('twokeys-delete')).toEqual({ [other.accessKeyId]: 'Active', [replacement]: 'Active' });
    expect((await storedKey('twokeys-delete')).accessKeyId).toBe(replacement);
    // The last notice names the key left Active, and how to contain it too: never "the only key, nothing to do".
    const completed = (await emailsOf('twokeys-delete'))['rotation-completed'] ?? '';
    expect(completed).toContain(`The user's other key ${other.accessKeyId} is still Active: containment left it alone.`);
    expect(completed).toContain(`iam-key-rotator rotate twokeys-delete --key ${other.accessKeyId} --compromised`);
    expect(completed).not.toContain('the only key');
  });

  test("an Active key that nobody used and no secret holds, older than the rotation, is not the rotator's: kept, the leaked key makes room", async () => {
    // Prepare: the leaked key and another Active key, never used, that no secret holds (say, left by an interrupted rotation).
    const leaked = await createUser('unused-other');
    const other = await createKey('unused-other');
    await seedSecret('unused-other', leaked);

    // Act
    const { report, contained } = await compromise('unused-other', leaked.accessKeyId);

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(contained).toMatchObject({ plan: 'delete-compromised', replacement: 'create', otherKeyId: other.accessKeyId });
    expect(contained?.detail).toContain('never used');
    const replacement = report.newAccessKeyId ?? '';
    expect(await keysOf('unused-other')).toEqual({ [other.accessKeyId]: 'Active', [replacement]: 'Active' });
    expect((await storedKey('unused-other')).accessKeyId).toBe(replacement);
  });

  test('COMPROMISED_KEY_ACTION=keep-inactive with room: replaced, and the leaked key is kept Inactive for forensics', async () => {
    // Prepare
    const leaked = await createUser('forensics');
    await seedSecret('forensics', leaked);

    // Act
    const { report } = await compromise('forensics', leaked.accessKeyId, {
      config: { ...loadConfig({}), compromisedKeyAction: 'keep-inactive' },
    });

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(await keysOf('forensics')).toEqual({ [leaked.accessKeyId]: 'Inactive', [report.newAccessKeyId ?? '']: 'Active' });
    const completed = (await emailsOf('forensics'))['rotation-completed'] ?? '';
    expect(completed).toContain(`Leaked key ${leaked.accessKeyId} is kept Inactive for forensics (COMPROMISED_KEY_ACTION=keep-inactive).`);
    expect(completed).not.toContain('was deleted');
  });

  test('an unknown key id fails with a clear error and changes nothing', async () => {
    // Prepare
    const key = await createUser('unknown-key');
    await seedSecret('unknown-key', key);

    // Act
    const { report } = await compromise('unknown-key', 'AKIAIOSFODNN7EXAMPLE');

    // Assess
    expect(report.status).toBe('Failed');
    expect(report.error?.name).toBe('AccessKeyNotFoundError');
    expect(report.error?.message).toContain('nothing was contained or changed');
    expect(await keysOf('unknown-key')).toEqual({ [key.accessKeyId]: 'Active' });
    expect(await inlinePolicies('unknown-key')).toEqual([]);
  });

  test('a quarantine policy AWS attached is left attached', async () => {
    // Prepare: an AWS quarantine policy attached to the user.
    const leaked = await createUser('quarantined');
    await seedSecret('quarantined', leaked);
    const policy = await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'AWSCompromisedKeyQuarantineV3',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Deny', Action: 'ec2:RunInstances', Resource: '*' }],
        }),
      }),
    );
    await iam.send(new AttachUserPolicyCommand({ UserName: 'quarantined', PolicyArn: policy.Policy?.Arn ?? '' }));

    // Act
    const { report, contained } = await compromise('quarantined', leaked.accessKeyId);

    // Assess
    expect(report.status).toBe('Succeeded');
    expect(contained?.awsQuarantinePolicies).toEqual(['AWSCompromisedKeyQuarantineV3']);
    const attached = await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'quarantined' }));
    expect(attached.AttachedPolicies?.map((attachedPolicy) => attachedPolicy.PolicyName)).toEqual(['AWSCompromisedKeyQuarantineV3']);
  });

  test("a compromise of a key whose scheduled rotation waits at the gate: the stopped rotation's new key is adopted, never a third key", async () => {
    // Prepare
    const leaked = await createUser('takeover', { 'rotation:health-checks': 'manual' });
    await seedSecret('takeover', leaked);

    // Act & Assess: stop a scheduled rotation at the gate, check its keys, then run the compromise and check it.
    // The scheduled rotation reaches the gate and is stopped there, as StopExecution would: no MakeSafe runs.
    const stop = new AbortController();
    const scheduled = await runRotation(
      { userName: 'takeover', accessKeyId: leaked.accessKeyId, kind: 'scheduled' },
      {
        logger: quietLogger,
        durations: { ...FAST, healthCheckDeadlineMs: 20_000 },
        signal: stop.signal,
        onState: (state) => {
          if (state.name === 'CheckConsumers') stop.abort();
        },
      },
    );
    expect(scheduled.status).toBe('Failed');
    const pending = scheduled.newAccessKeyId ?? '';
    expect(await keysOf('takeover')).toEqual({ [leaked.accessKeyId]: 'Active', [pending]: 'Active' });

    const { report, contained } = await compromise('takeover', leaked.accessKeyId);

    expect(contained).toMatchObject({ plan: 'adopt', otherKeyId: pending });
    expect(report.status).toBe('Succeeded');
    expect(report.newAccessKeyId).toBe(pending);
    expect(report.states.find((state) => state.name === 'CreateAndStore')?.outcome).toBe('ok');
    expect(await keysOf('takeover')).toEqual({ [pending]: 'Active' });
    expect((await storedKey('takeover')).accessKeyId).toBe(pending);
  });
});
