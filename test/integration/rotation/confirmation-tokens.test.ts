import { describe, expect, test, beforeAll, beforeEach, afterEach } from '@jest/globals';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutSecretValueCommand, UpdateSecretVersionStageCommand, DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { ListUserTagsCommand, TagUserCommand } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { awaitConfirmationStep } from '#functions/rotate-await-confirmation.ts';
import { localContext } from '#local/lambda-context.ts';
import { fixedClock } from '#shared/base/clock.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { ensureLedgerTable } from '#shared/notify/ledger.ts';
import { dynamoTokenStore, tokenId } from '#shared/rotation/confirmation-tokens.ts';
import { dynamoDecisionStore } from '#shared/rotation/decision-records.ts';
import { FULL_PRECISION, type RotationDeps } from '#shared/rotation/deps.ts';
import { cli } from '../../helpers/cli.ts';
import { bufferLogger } from '../../helpers/leak-scan.ts';
import { rotationDeps } from '../../helpers/rotation-deps.ts';
import { createKey, createUser, iam, secretsManager, seedSecret, type TestKey } from '../../helpers/rotation-fixtures.ts';
import { versionIdFor } from '#shared/rotation/secret.ts';

const TABLE = 'iam-key-rotator-token-test-ledger';
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:iam-key-rotator-test-rotate-key';
const TOKEN = 'AAAAKgAAAAIAAAAAAAAAAfake-task-token-never-in-a-log-7f3c';
const dynamodb = new DynamoDBClient({});
const sfn = mockClient(SFNClient);
const tokens = dynamoTokenStore(dynamodb, () => TABLE);
const decisions = dynamoDecisionStore(dynamodb, () => TABLE);

/** The deployed state machine (mocked) has one RUNNING execution: the rotation of this user's old key. */
function running(userName: string, old: TestKey): void {
  const executionArn = `arn:aws:states:us-east-1:123456789012:execution:iam-key-rotator-test-rotate-key:${userName}-exec`;
  sfn.on(ListExecutionsCommand, { stateMachineArn: STATE_MACHINE, statusFilter: 'RUNNING' }).resolves({
    executions: [{ executionArn, name: `${userName}-exec`, stateMachineArn: STATE_MACHINE, status: 'RUNNING', startDate: new Date() }],
  });
  sfn.on(DescribeExecutionCommand, { executionArn }).resolves({
    executionArn,
    status: 'RUNNING',
    input: JSON.stringify({ userName, accessKeyId: old.accessKeyId, kind: 'manual' }),
    startDate: new Date(),
    stateMachineArn: STATE_MACHINE,
  });
}

/** A rotation waiting at the gate: the new key Active and AWSCURRENT, the old one Active and AWSPREVIOUS; its execution RUNNING. */
async function atTheGate(userName: string): Promise<{ old: TestKey; fresh: TestKey }> {
  const old = await createUser(userName, { 'rotation:health-checks': 'manual' });
  await seedSecret(userName, old);
  const fresh = await createKey(userName);
  const secretId = `iam-key-rotator/${userName}`;
  const put = await secretsManager.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      // As the rotation writes it: under the version id derived from the key id.
      ClientRequestToken: versionIdFor(fresh.accessKeyId),
      SecretString: JSON.stringify({ AccessKeyId: fresh.accessKeyId, SecretAccessKey: fresh.secretAccessKey, UserName: userName }),
      VersionStages: ['AWSPENDING'],
    }),
  );
  const described = await secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
  const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
  await secretsManager.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secretId,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: put.VersionId,
      RemoveFromVersionId: current,
    }),
  );
  await secretsManager.send(
    new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSPENDING', RemoveFromVersionId: put.VersionId }),
  );
  running(userName, old);
  return { old, fresh };
}

function deps(logger: RotationDeps['logger']): () => Promise<RotationDeps> {
  return async () =>
    rotationDeps({
      config: { ...loadConfig({}), notificationLedgerTable: TABLE },
      clock: fixedClock('2026-06-01T12:00:00Z'),
      logger,
      lastUsedPrecision: FULL_PRECISION,
      confirmVia: 'task-token',
      confirmationTokens: dynamoTokenStore(dynamodb, () => TABLE),
      decisions,
    });
}

function event(userName: string, old: TestKey, fresh: TestKey, overrides: Record<string, unknown> = {}) {
  return {
    userName,
    oldAccessKeyId: old.accessKeyId,
    newAccessKeyId: fresh.accessKeyId,
    executionName: `${userName}-exec`,
    enteredAt: '2026-06-01T12:00:00.000Z',
    attempt: 0,
    // The CLI reads tokens with the real clock: the deadline is a week from now.
    gateDeadline: new Date(Date.now() + 7 * 86_400_000).toISOString(),
    taskToken: TOKEN,
    timeoutSeconds: 604_800,
    ...overrides,
  };
}

beforeAll(async () => {
  await ensureLedgerTable(dynamodb, TABLE);
});

beforeEach(() => {
  sfn.reset();
  // Deployed mode: the state machine's executions say which rotation is running, the ledger holds the tokens.
  process.env.ROTATION_STATE_MACHINE_ARN = STATE_MACHINE;
  process.env.NOTIFICATION_LEDGER_TABLE = TABLE;
});

afterEach(() => {
  delete process.env.ROTATION_STATE_MACHINE_ARN;
  delete process.env.NOTIFICATION_LEDGER_TABLE;
});

describe('AwaitConfirmation stores the task token in the ledger table', () => {
  test('the token, the new key id, the execution and an expiry are stored under token#<user>, and no log line holds the token', async () => {
    // Prepare
    const { old, fresh } = await atTheGate('token-store');
    const { logger, lines } = bufferLogger();

    // Act
    const result = await awaitConfirmationStep(deps(logger), logger)(
      event('token-store', old, fresh, { gateDeadline: '2026-06-08T12:00:00.000Z' }),
      localContext('rotateAwaitConfirmation'),
    );

    // Assess
    expect(result).toEqual({
      userName: 'token-store',
      newAccessKeyId: fresh.accessKeyId,
      storedAt: '2026-06-01T12:00:00.000Z',
      stored: true,
    });
    const item = await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { id: { S: tokenId('token-store') } } }));
    expect(item.Item).toMatchObject({
      taskToken: { S: TOKEN },
      newAccessKeyId: { S: fresh.accessKeyId },
      executionName: { S: 'token-store-exec' },
      expiresAt: { N: String(Date.parse('2026-06-09T12:00:00.000Z') / 1000) },
    });
    expect(lines.join('\n')).toContain('waiting for a person to confirm');
    expect(lines.join('\n')).not.toContain(TOKEN);
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  test('a late retry of an earlier attempt does not replace the token of a later one', async () => {
    // Prepare
    const { old, fresh } = await atTheGate('token-retry');
    const { logger } = bufferLogger();
    const step = awaitConfirmationStep(deps(logger), logger);

    // Act
    await step(event('token-retry', old, fresh, { attempt: 1, taskToken: `${TOKEN}-attempt-1` }), localContext('rotateAwaitConfirmation'));
    const late = await step(event('token-retry', old, fresh, { attempt: 0 }), localContext('rotateAwaitConfirmation'));

    // Assess
    expect(late).toMatchObject({ stored: false });
    expect((await tokens.get('token-retry', new Date()))?.taskToken).toBe(`${TOKEN}-attempt-1`);
  });

  test('a confirm recorded while the gate moved here fails the step with AlreadyConfirmedError', async () => {
    // Prepare
    const { old, fresh } = await atTheGate('token-tagged');
    const { logger, lines } = bufferLogger();
    const step = awaitConfirmationStep(deps(logger), logger);
    await cli('confirm', 'token-tagged');

    // Act & Assess
    await expect(step(event('token-tagged', old, fresh), localContext('rotateAwaitConfirmation'))).rejects.toMatchObject({
      name: 'AlreadyConfirmedError',
    });
    expect(lines.join('\n')).not.toContain(TOKEN);
  });

  test('an abort recorded while the gate moved here fails the step with RotationAbortedError', async () => {
    // Prepare
    const { old, fresh } = await atTheGate('token-aborted');
    const { logger } = bufferLogger();
    const step = awaitConfirmationStep(deps(logger), logger);
    await cli('abort', 'token-aborted');

    // Act & Assess
    await expect(step(event('token-aborted', old, fresh), localContext('rotateAwaitConfirmation'))).rejects.toMatchObject({
      name: 'RotationAbortedError',
    });
  });

  test('tags the user set on itself (rotation:confirm, rotation:abort = the new key id) neither confirm nor abort: the step waits for its token', async () => {
    // Prepare: a leaked key may tag its own user (AWS's "manage your own access keys" policy allows it).
    const { old, fresh } = await atTheGate('token-self-tagged');
    await iam.send(
      new TagUserCommand({
        UserName: 'token-self-tagged',
        Tags: [
          { Key: 'rotation:confirm', Value: fresh.accessKeyId },
          { Key: 'rotation:abort', Value: fresh.accessKeyId },
        ],
      }),
    );
    const { logger } = bufferLogger();

    // Act
    const result = await awaitConfirmationStep(deps(logger), logger)(
      event('token-self-tagged', old, fresh),
      localContext('rotateAwaitConfirmation'),
    );

    // Assess
    expect(result).toMatchObject({ stored: true, newAccessKeyId: fresh.accessKeyId });
    expect((await tokens.get('token-self-tagged', new Date()))?.taskToken).toBe(TOKEN);
  });
});

describe('confirm and abort complete the waiting task with the stored token', () => {
  test('confirm sends SendTaskSuccess with the stored token and deletes it; the token is never printed', async () => {
    // Prepare
    const { old, fresh } = await atTheGate('cli-confirm');
    const { logger } = bufferLogger();
    await awaitConfirmationStep(deps(logger), logger)(event('cli-confirm', old, fresh), localContext('rotateAwaitConfirmation'));
    sfn.on(SendTaskSuccessCommand).resolves({});

    // Act
    const result = await cli('confirm', 'cli-confirm');

    // Assess
    expect(result.code).toBe(0);
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, {
      taskToken: TOKEN,
      output: expect.stringContaining('"status":"confirmed"'),
    });
    expect(result.out).toContain('completed the manual check waiting in execution cli-confirm-exec');
    expect(result.out + result.err).not.toContain(TOKEN);
    expect(await tokens.get('cli-confirm', new Date())).toBeUndefined();
  });

  test('abort sends SendTaskFailure with the error RotationAbortedError, deletes the token, records abort#<user> in the table and tags nothing', async () => {
    // Prepare
    const { old, fresh } = await atTheGate('cli-abort');
    const { logger } = bufferLogger();
    await awaitConfirmationStep(deps(logger), logger)(event('cli-abort', old, fresh), localContext('rotateAwaitConfirmation'));
    sfn.on(SendTaskFailureCommand).resolves({});

    // Act
    const result = await cli('abort', 'cli-abort');

    // Assess
    expect(result.code).toBe(0);
    expect(sfn).toHaveReceivedCommandWith(SendTaskFailureCommand, { taskToken: TOKEN, error: 'RotationAbortedError' });
    expect(result.out).toContain('Rolling back now');
    expect(result.out + result.err).not.toContain(TOKEN);
    expect(await tokens.get('cli-abort', new Date())).toBeUndefined();
    const tags = await iam.send(new ListUserTagsCommand({ UserName: 'cli-abort' }));
    expect(tags.Tags?.map((tag) => tag.Key)).not.toContain('rotation:abort');
    expect(await decisions.get('abort', 'cli-abort')).toMatchObject({ newAccessKeyId: fresh.accessKeyId, executionName: 'cli-abort-exec' });
  });

  test('a token whose wait has ended (TaskTimedOut) is deleted and the recorded decision is left for the next check', async () => {
    // Prepare
    const { old, fresh } = await atTheGate('cli-stale');
    const { logger } = bufferLogger();
    await awaitConfirmationStep(deps(logger), logger)(event('cli-stale', old, fresh), localContext('rotateAwaitConfirmation'));
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' }));

    // Act
    const result = await cli('confirm', 'cli-stale');

    // Assess
    expect(result.code).toBe(0);
    expect(result.out).toContain(`Confirmed: recorded confirm#cli-stale (new key ${fresh.accessKeyId}) in the ledger table`);
    expect(await decisions.get('confirm', 'cli-stale')).toMatchObject({ newAccessKeyId: fresh.accessKeyId });
    expect(result.out).toContain('no longer completes anything');
    expect(await tokens.get('cli-stale', new Date())).toBeUndefined();
  });

  test('a token stored for another rotation of the user (another new key) is not used', async () => {
    // Prepare
    const { old, fresh } = await atTheGate('cli-other');
    const { logger } = bufferLogger();
    await awaitConfirmationStep(deps(logger), logger)(
      event('cli-other', old, fresh, { newAccessKeyId: 'AKIAOTHERROTATION000' }),
      localContext('rotateAwaitConfirmation'),
    );

    // Act
    const result = await cli('confirm', 'cli-other');

    // Assess
    expect(result.code).toBe(0);
    expect(sfn).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    expect(result.out).toContain('No rotation of this user waits in AwaitConfirmation');
  });
});
