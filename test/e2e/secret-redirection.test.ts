import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TagUserCommand } from '@aws-sdk/client-iam';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
} from '@aws-sdk/client-secrets-manager';
import { runRotation, type RotationReport, type StateRecord } from '#local/runner.ts';
import { loadConfig } from '#shared/config/settings.ts';
import {
  createUser,
  iam,
  keysOf,
  notificationsFor,
  quietLogger,
  secretsManager,
  seedSecret,
  storedKey,
} from '../helpers/rotation-fixtures.ts';
import { versionIdFor } from '#shared/rotation/secret.ts';

/**
 * Key redirection: whoever may tag a user must not be able to send its new key into a secret they
 * can read. The attack, as reproduced before the fix: an empty secret under the prefix, the victim
 * tagged rotation:secret-name=<that secret>, and an http health check that always answers 200 so the
 * gate passes at once; the rotation ended Succeeded with the victim's key in the attacker's secret.
 */

const FAST = { healthCheckIntervalMs: 100, healthCheckDeadlineMs: 3_000, observationMs: 300, oldKeyQuietMs: 100 };
const DROPBOX = 'iam-key-rotator/attacker-dropbox';
/** moto does not check that a KMS key exists; these stand for the stack's key and one the attacker controls. */
const STACK_KEY = 'arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666';
const ATTACKER_KEY = 'arn:aws:kms:us-east-1:123456789012:key/dead0000-beef-0000-0000-000000000000';

// A health endpoint that always answers 200: the attacker's "everything is fine".
let server: Server;
let healthUrl = '';
beforeAll(async () => {
  server = createServer((_request, response) => {
    response.statusCode = 200;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  healthUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** The tags an attacker puts on the victim: the secret, and a health check that passes at once. */
const redirectTags = (secretName: string) => ({
  'rotation:owner': 'victim-owner@example.com',
  'rotation:secret-name': secretName,
  'rotation:health-checks': 'http',
  'rotation:health-check-urls': healthUrl,
});

async function versionsOf(secretName: string): Promise<Record<string, string[]>> {
  return (await secretsManager.send(new DescribeSecretCommand({ SecretId: secretName }))).VersionIdsToStages ?? {};
}

const readPolicy = (principal: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'AttackerReads', Effect: 'Allow', Principal: { AWS: principal }, Action: 'secretsmanager:GetSecretValue', Resource: '*' },
    ],
  });

/** A refused run: Failed with SecretNotBoundError before CreateAndStore, the owner told. */
function expectRefusedBeforeAnyKey(report: RotationReport, secretName: string): void {
  expect(report.status).toBe('Failed');
  expect(report.error?.name).toBe('SecretNotBoundError');
  expect(report.error?.message).toContain(`Secret ${secretName} is not bound to IAM user`);
  expect(report.newAccessKeyId).toBeNull();
  expect(report.states.map((state) => state.name)).toEqual(expect.arrayContaining(['Prepare', 'MakeSafe', 'NotifyFailed']));
  expect(report.states.map((state) => state.name)).not.toContain('CreateAndStore');
}

describe('a rotation:secret-name tag cannot redirect a user’s key', () => {
  test('the reproduction: an empty attacker secret, the victim tagged to it, a health URL that answers 200 → refused, nothing changed', async () => {
    // Prepare: the victim at the default path "/", its key in its own secret; the attacker's empty secret.
    const old = await createUser('victim-admin');
    await seedSecret('victim-admin', old);
    await secretsManager.send(new CreateSecretCommand({ Name: DROPBOX }));
    await iam.send(
      new TagUserCommand({
        UserName: 'victim-admin',
        Tags: Object.entries(redirectTags(DROPBOX)).map(([Key, Value]) => ({ Key, Value })),
      }),
    );

    // Act
    const report = await runRotation({ userName: 'victim-admin' }, { logger: quietLogger, durations: FAST });

    // Assess: refused in Prepare, the attacker's secret holds nothing, the victim's key and secret untouched.
    expectRefusedBeforeAnyKey(report, DROPBOX);
    expect(report.error?.message).toMatch(
      /did not create it for victim-admin.*remove the rotation:secret-name tag to use iam-key-rotator\/victim-admin/s,
    );
    expect(await versionsOf(DROPBOX)).toEqual({});
    await expect(secretsManager.send(new GetSecretValueCommand({ SecretId: DROPBOX, VersionStage: 'AWSCURRENT' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    expect(await keysOf('victim-admin')).toEqual({ [old.accessKeyId]: 'Active' });
    expect((await storedKey('victim-admin')).accessKeyId).toBe(old.accessKeyId);
    const failed = (await notificationsFor('victim-admin')).filter((notice) => notice.attributes.event === 'rotation-failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.attributes.owner).toBe('victim-owner@example.com');
    expect(failed[0]?.message).toContain(DROPBOX);
    expect(failed[0]?.message).toContain('SecretNotBoundError');
    expect(failed[0]?.message).not.toContain(old.secretAccessKey);
  });

  test('forged rotator tags on the attacker’s secret do not bind it: its own KMS key and a read grant are refused', async () => {
    // Prepare: the secret carries the tags the rotator writes, but the attacker's key and a policy granting the attacker read.
    const old = await createUser('victim-forged', redirectTags(`${DROPBOX}-forged`));
    await secretsManager.send(
      new CreateSecretCommand({
        Name: `${DROPBOX}-forged`,
        KmsKeyId: ATTACKER_KEY,
        Tags: [
          { Key: 'managed-by', Value: 'iam-key-rotator' },
          { Key: 'iam-user', Value: 'victim-forged' },
        ],
      }),
    );
    await secretsManager.send(
      new PutResourcePolicyCommand({ SecretId: `${DROPBOX}-forged`, ResourcePolicy: readPolicy('arn:aws:iam::210987654321:root') }),
    );

    // Act
    const report = await runRotation({ userName: 'victim-forged' }, { logger: quietLogger, durations: FAST });

    // Assess
    expectRefusedBeforeAnyKey(report, `${DROPBOX}-forged`);
    expect(report.error?.message).toContain(`encrypted with KMS key ${ATTACKER_KEY}`);
    expect(report.error?.message).toContain('resource policy lets other principals read it or change who may (Sid AttackerReads)');
    expect(report.error?.message).toContain(`delete-resource-policy --secret-id ${DROPBOX}-forged`);
    expect(await versionsOf(`${DROPBOX}-forged`)).toEqual({});
    expect(await keysOf('victim-forged')).toEqual({ [old.accessKeyId]: 'Active' });
  });

  test('the default-named secret, pre-created by someone else with their KMS key, is refused too: no tag is needed for that attack', async () => {
    // Prepare
    const old = await createUser('victim-default', { 'rotation:health-checks': 'http', 'rotation:health-check-urls': healthUrl });
    await secretsManager.send(new CreateSecretCommand({ Name: 'iam-key-rotator/victim-default', KmsKeyId: ATTACKER_KEY }));

    // Act
    const report = await runRotation({ userName: 'victim-default' }, { logger: quietLogger, durations: FAST });

    // Assess
    expectRefusedBeforeAnyKey(report, 'iam-key-rotator/victim-default');
    expect(report.error?.message).toContain(
      'update-secret --secret-id iam-key-rotator/victim-default --kms-key-id alias/aws/secretsmanager',
    );
    expect(await versionsOf('iam-key-rotator/victim-default')).toEqual({});
    expect(await keysOf('victim-default')).toEqual({ [old.accessKeyId]: 'Active' });
  });

  test('a read grant added after Prepare is caught by CreateAndStore, before a key is created', async () => {
    // Prepare: a secret that passes in Prepare; the attacker adds a policy while the owner is told the rotation started.
    const old = await createUser('victim-race', redirectTags(`${DROPBOX}-race`));
    await secretsManager.send(
      new CreateSecretCommand({
        Name: `${DROPBOX}-race`,
        Tags: [
          { Key: 'managed-by', Value: 'iam-key-rotator' },
          { Key: 'iam-user', Value: 'victim-race' },
        ],
      }),
    );
    let granted: Promise<unknown> | undefined;
    const onState = (state: StateRecord): void => {
      if (state.name === 'Prepare') {
        granted = secretsManager.send(
          new PutResourcePolicyCommand({ SecretId: `${DROPBOX}-race`, ResourcePolicy: readPolicy('arn:aws:iam::210987654321:root') }),
        );
      }
    };
    const wrapTask = (name: string, run: (payload: unknown) => Promise<unknown>) =>
      name === 'CreateAndStore'
        ? async (payload: unknown) => {
            await granted;
            return run(payload);
          }
        : run;

    // Act
    const report = await runRotation({ userName: 'victim-race' }, { logger: quietLogger, durations: FAST, onState, wrapTask });

    // Assess
    expect(report.status).toBe('Failed');
    expect(report.error?.name).toBe('SecretNotBoundError');
    expect(report.states.find((state) => state.name === 'CreateAndStore')?.outcome).toBe('caught SecretNotBoundError');
    expect(await versionsOf(`${DROPBOX}-race`)).toEqual({});
    expect(await keysOf('victim-race')).toEqual({ [old.accessKeyId]: 'Active' });
  });
});

describe('the compromise path with a redirecting tag', () => {
  const LEAK_DROPBOX = `${DROPBOX}-leaked`;

  test('the leaked key is still contained, but no replacement goes into the attacker’s secret', async () => {
    // Prepare: another dropbox (each test makes its own secrets in the one moto account of this file).
    const leaked = await createUser('victim-leaked', redirectTags(LEAK_DROPBOX));
    await secretsManager.send(new CreateSecretCommand({ Name: LEAK_DROPBOX }));

    // Act
    const report = await runRotation(
      { userName: 'victim-leaked', accessKeyId: leaked.accessKeyId, kind: 'compromise', requestedBy: 'test', reason: 'leaked' },
      { logger: quietLogger, durations: FAST },
    );

    // Assess: containment is the point and stays; the replacement is refused and the key stays Inactive.
    expect(report.states.find((state) => state.name === 'Contain')?.outcome).toBe('ok');
    expectRefusedBeforeAnyKey(report, LEAK_DROPBOX);
    expect(await versionsOf(LEAK_DROPBOX)).toEqual({});
    expect(await keysOf('victim-leaked')).toEqual({ [leaked.accessKeyId]: 'Inactive' });
  });
});

describe('a secret bound to the user is used', () => {
  test('a pre-existing secret created for the user, under the stack’s KMS key, with no read grant → Succeeded, the key in it', async () => {
    // Prepare: the secret as the rotator would have created it for the user, encrypted with the stack's key.
    const secretName = 'iam-key-rotator/billing/aws-key';
    const old = await createUser('billing-export', { ...redirectTags(secretName), 'rotation:owner': 'billing@example.com' });
    await secretsManager.send(
      new CreateSecretCommand({
        Name: secretName,
        KmsKeyId: STACK_KEY,
        ClientRequestToken: versionIdFor(old.accessKeyId),
        SecretString: JSON.stringify({
          AccessKeyId: old.accessKeyId,
          SecretAccessKey: old.secretAccessKey,
          UserName: 'billing-export',
          CreatedAt: '',
        }),
        Tags: [
          { Key: 'managed-by', Value: 'iam-key-rotator' },
          { Key: 'iam-user', Value: 'billing-export' },
        ],
      }),
    );
    // A policy that only denies does not let anyone read.
    await secretsManager.send(
      new PutResourcePolicyCommand({
        SecretId: secretName,
        ResourcePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Sid: 'NoOutsiders', Effect: 'Deny', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*' }],
        }),
      }),
    );

    // Act
    const report = await runRotation(
      { userName: 'billing-export' },
      {
        logger: quietLogger,
        durations: FAST,
        config: { ...loadConfig(process.env), secretKmsKeyId: STACK_KEY, healthCheckUrlOrigins: [new URL(healthUrl).origin] },
      },
    );

    // Assess
    expect(report.status).toBe('Succeeded');
    const current = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretName, VersionStage: 'AWSCURRENT' }));
    expect((JSON.parse(current.SecretString ?? '{}') as { AccessKeyId?: string }).AccessKeyId).toBe(report.newAccessKeyId);
    expect(await keysOf('billing-export')).toEqual({ [report.newAccessKeyId ?? '']: 'Active' });
    await expect(secretsManager.send(new DescribeSecretCommand({ SecretId: 'iam-key-rotator/billing-export' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  test('a tag naming a secret that does not exist yet: the rotator creates it for the user, tagged and under its key', async () => {
    // Prepare
    const secretName = 'iam-key-rotator/reports/aws-key';
    await createUser('reports', { ...redirectTags(secretName), 'rotation:owner': 'reports@example.com' });

    // Act
    const report = await runRotation(
      { userName: 'reports' },
      {
        logger: quietLogger,
        durations: FAST,
        config: { ...loadConfig(process.env), secretKmsKeyId: STACK_KEY, healthCheckUrlOrigins: [new URL(healthUrl).origin] },
      },
    );

    // Assess
    expect(report.status).toBe('Succeeded');
    const described = await secretsManager.send(new DescribeSecretCommand({ SecretId: secretName }));
    expect(described.KmsKeyId).toBe(STACK_KEY);
    expect(described.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'managed-by', Value: 'iam-key-rotator' },
        { Key: 'iam-user', Value: 'reports' },
      ]),
    );
  });
});
