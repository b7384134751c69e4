import { describe, expect, test } from '@jest/globals';
import { buildNotification, type NotificationFacts } from '#shared/notify/messages.ts';
import { decideRoom, type KeyFact, type VersionFact } from '#shared/rotation/decisions.ts';
import { inactiveKeyMessage, roomRefusalMessage } from '#shared/rotation/prepare.ts';

// Consumers that read the secret depend on the key its AWSCURRENT holds: no text the rotator shows a
// person may tell them to deactivate or delete that key.

const USER = 'app-one';
const SECRET = 'iam-key-rotator/app-one';
const ROTATED = 'AKIAROTATED000000000';
const OTHER = 'AKIAOTHER00000000000';
const THIRD = 'AKIATHIRD00000000000';

/** Key ids a text tells a person to deactivate, delete or remove. */
function advisedForRemoval(text: string): string[] {
  const patterns = [
    /--access-key-id (\w+) --status Inactive/g,
    /delete-access-key[^`]*--access-key-id (\w+)/g,
    // "Do not delete X" is the opposite of advice to delete it.
    /(?<!\b(?:not|never) )\b(?:[Dd]elete|[Dd]eactivate|[Rr]emove)\s+(AKIA\w+)/g,
    /(AKIA\w+) is the key to remove/g,
  ];
  return [...new Set(patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1] ?? '')))];
}

const version = (accessKeyId: string, stages: string[]): VersionFact => ({ versionId: `v-${accessKeyId}`, stages, accessKeyId });

describe('KeyLimitReachedError names which key is safe to remove, never the one AWSCURRENT holds', () => {
  test.each<[string, KeyFact[], VersionFact[], string | undefined]>([
    [
      'both Active, AWSCURRENT holds the rotated key',
      [
        { accessKeyId: ROTATED, status: 'Active' },
        { accessKeyId: OTHER, status: 'Active' },
      ],
      [version(ROTATED, ['AWSCURRENT'])],
      OTHER,
    ],
    [
      'both Active, no secret yet',
      [
        { accessKeyId: ROTATED, status: 'Active' },
        { accessKeyId: OTHER, status: 'Active' },
      ],
      [],
      OTHER,
    ],
    [
      'both Active, AWSCURRENT holds a deleted key',
      [
        { accessKeyId: ROTATED, status: 'Active' },
        { accessKeyId: OTHER, status: 'Active' },
      ],
      [version(THIRD, ['AWSCURRENT'])],
      OTHER,
    ],
    [
      'the other key Inactive and AWSCURRENT',
      [
        { accessKeyId: ROTATED, status: 'Active' },
        { accessKeyId: OTHER, status: 'Inactive' },
      ],
      [version(OTHER, ['AWSCURRENT'])],
      undefined,
    ],
  ])('%s', (_name, keys, versions, removable) => {
    // Prepare
    const room = decideRoom({ keys, oldAccessKeyId: ROTATED, versions });
    if (room.action !== 'refuse') throw new Error(`expected a refusal, got ${room.action}`);
    const current = versions.find((held) => held.stages.includes('AWSCURRENT'))?.accessKeyId;

    // Act
    const message = roomRefusalMessage(USER, ROTATED, SECRET, keys, room);

    // Assess
    expect(message).toContain(OTHER);
    expect(message).toContain('nothing was changed');
    if (current !== undefined) expect(advisedForRemoval(message)).not.toContain(current);
    expect(advisedForRemoval(message)).toEqual(removable === undefined ? [] : [removable]);
    if (current === OTHER) expect(message).toContain(`Do not delete ${OTHER}`);
  });

  test('when AWSCURRENT holds the rotated key, the message also says how to finish instead: rotate the other key, which takes the AWSCURRENT key over', () => {
    // Prepare: both keys Active, AWSCURRENT on the rotated one, and the refusal decideRoom gives.
    const keys: KeyFact[] = [
      { accessKeyId: ROTATED, status: 'Active' },
      { accessKeyId: OTHER, status: 'Active' },
    ];
    const room = decideRoom({ keys, oldAccessKeyId: ROTATED, versions: [version(ROTATED, ['AWSCURRENT'])] });
    if (room.action !== 'refuse') throw new Error('expected a refusal');

    // Act & Assess
    expect(roomRefusalMessage(USER, ROTATED, SECRET, keys, room)).toContain(`iam-key-rotator rotate ${USER} --key ${OTHER}`);
  });
});

describe('KeyNotActiveError for an Inactive key', () => {
  test('AWSCURRENT holds it: reactivate or contain it, never delete it', () => {
    // Act
    const message = inactiveKeyMessage(USER, ROTATED, SECRET, ROTATED);

    // Assess
    expect(advisedForRemoval(message)).toEqual([]);
    expect(message).toContain('Do not delete it');
    expect(message).toContain('--status Active');
  });

  test('AWSCURRENT does not hold it: it may be deleted', () => {
    // Act & Assess
    expect(inactiveKeyMessage(USER, ROTATED, SECRET, OTHER)).toContain('delete it if nothing needs it');
  });
});

describe('notifications', () => {
  const facts = (overrides: Partial<NotificationFacts>): NotificationFacts => ({
    event: 'action-needed',
    userName: USER,
    owner: 'owner@example.com',
    accountId: '123456789012',
    region: 'us-east-1',
    oldAccessKeyId: ROTATED,
    newAccessKeyId: OTHER,
    secretName: SECRET,
    ...overrides,
  });
  const text = (built: ReturnType<typeof buildNotification>): string => {
    const bodies = JSON.parse(built.message) as { default: string; email: string };
    return `${built.subject}\n${bodies.email}\n${bodies.default}`;
  };

  test('action-needed (the run has ended): rotate again, which takes the new key over; no confirm, and never delete the new key AWSCURRENT holds', () => {
    // Act
    const message = text(buildNotification(facts({})));

    // Assess
    expect(message).toContain(`iam-key-rotator rotate ${USER}`);
    expect(message).not.toContain('iam-key-rotator confirm');
    expect(message).toContain(`Do not delete ${OTHER}`);
    expect(advisedForRemoval(message)).toEqual([]);
  });

  test.each([false, true])(
    'unused-key (deactivated: %s): deletion only when the secret does not hold the key as AWSCURRENT (the scan does not read secrets)',
    (keyDeactivated) => {
      // Act
      const message = text(
        buildNotification(
          facts({
            event: 'unused-key',
            oldAccessKeyId: OTHER,
            newAccessKeyId: undefined,
            keyDeactivated,
            reason: 'never used, 50 days old',
          }),
        ),
      );

      // Assess
      expect(message).toContain(`${SECRET} does not hold it as AWSCURRENT`);
    },
  );
});
