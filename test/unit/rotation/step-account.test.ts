import { beforeEach, describe, expect, jest, test } from '@jest/globals';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { notifyStep } from '#functions/notify.ts';
import { localContext } from '#local/lambda-context.ts';
import { fixedClock } from '#shared/base/clock.ts';
import { silentLogger } from '#shared/base/logger.ts';
import { loadConfig } from '#shared/config/settings.ts';
import { MemberAccountAccessError } from '#shared/base/errors.ts';
import { memberAccountClients, memberCredentials } from '#shared/aws/member-account.ts';
import { inAccount, secretKmsKeyIdFor, stepAccountId } from '#shared/rotation/step-account.ts';
import { type AccountClients } from '#shared/rotation/deps.ts';
import type { RotationDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/step-handler.ts';
import { ensureSecret } from '#shared/rotation/secret.ts';
import { RotationInput } from '#shared/rotation/workflow-state.ts';
import { rotationDeps } from '../../helpers/rotation-deps.ts';

const OWN = '123456789012';
const MEMBER = '111111111111';
const silent = silentLogger();
const sts = mockClient(STSClient);
const secrets = mockClient(SecretsManagerClient);

beforeEach(() => {
  sts.reset();
  secrets.reset();
});

const memberClients: AccountClients = { iam: new IAMClient({}), secretsManager: new SecretsManagerClient({}) };

function deps(overrides: Partial<RotationDeps> = {}): RotationDeps {
  return rotationDeps({
    config: { ...loadConfig({}), secretKmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/tooling' },
    ownAccountId: async () => OWN,
    forAccount: async () => memberClients,
    ...overrides,
  });
}

describe('stepAccountId: where a step input names the account', () => {
  test.each<[string, unknown, string | undefined]>([
    ['the execution input (single-account mode)', { userName: 'u', accessKeyId: 'AKIAOLD0000000000000' }, undefined],
    ['the execution input, top level', { accountId: MEMBER }, MEMBER],
    ["Prepare's rotation", { rotation: { accountId: MEMBER } }, MEMBER],
    ["Prepare's rotation in the stack's own account (null)", { rotation: { accountId: null } }, undefined],
    ["Contain's request", { request: { accountId: MEMBER }, executionStartedAt: '2026-06-01T12:00:00Z' }, MEMBER],
    ["Notify's state", { event: 'rotation-started', state: { accountId: MEMBER } }, MEMBER],
    ["Notify's state after Prepare", { event: 'rotation-started', state: { rotation: { accountId: MEMBER } } }, MEMBER],
    ['the same account in two places', { accountId: MEMBER, rotation: { accountId: MEMBER } }, MEMBER],
  ])('%s', (_, event, expected) => {
    // Act & Assess
    expect(stepAccountId(event)).toBe(expected);
  });

  test('two different accounts in one input are refused, as is a malformed id', () => {
    // Act & Assess
    expect(() => stepAccountId({ accountId: MEMBER, rotation: { accountId: '222222222222' } })).toThrow(
      expect.objectContaining({ name: 'InvalidInputError' }),
    );
    expect(() => stepAccountId({ accountId: '1111' })).toThrow(
      expect.objectContaining({ name: 'InvalidInputError', message: expect.stringMatching(/accountId must be a 12-digit/) }),
    );
  });
});

describe('inAccount', () => {
  test("no account, or the stack's own, keeps the function's own clients", async () => {
    // Prepare
    const own = deps();

    // Act & Assess
    expect(await inAccount(own, undefined)).toBe(own);
    expect(await inAccount(own, OWN)).toBe(own);
  });

  test('another account gets its member clients and is marked as a member account', async () => {
    // Act
    const scoped = await inAccount(deps(), MEMBER);

    // Assess
    expect(scoped.iam).toBe(memberClients.iam);
    expect(scoped.secretsManager).toBe(memberClients.secretsManager);
    expect(scoped.memberAccountId).toBe(MEMBER);
  });

  test('a function without member-account support refuses another account with a ConfigError', async () => {
    // Act & Assess
    await expect(inAccount(deps({ forAccount: undefined }), MEMBER)).rejects.toMatchObject({ name: 'ConfigError' });
  });
});

describe('memberAccountClients', () => {
  test('assumes the role before the step acts, and builds clients once per account', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolves({
      Credentials: { AccessKeyId: 'ASIA', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date('2026-06-01T13:00:00Z') },
    });
    const build = jest.fn(() => memberClients);
    const forAccount = memberAccountClients(
      memberCredentials(
        new STSClient({}),
        { memberRoleName: 'rotator-member', memberRoleExternalId: '' },
        fixedClock('2026-06-01T12:00:00Z'),
      ),
      build,
    );

    // Act
    await forAccount(MEMBER);
    await forAccount(MEMBER);

    // Assess
    expect(build).toHaveBeenCalledTimes(1);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleArn: `arn:aws:iam::${MEMBER}:role/rotator-member` });
  });

  test('a refused member role fails the step as MemberAccountAccessError, which the ASL catches into MakeSafe, before anything is touched', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' }));
    const forAccount = memberAccountClients(
      memberCredentials(
        new STSClient({}),
        { memberRoleName: 'rotator-member', memberRoleExternalId: '' },
        fixedClock('2026-06-01T12:00:00Z'),
      ),
      () => memberClients,
    );
    const run = jest.fn(async () => 'acted');
    const handler = stepHandler('Prepare', RotationInput, run)(async () => deps({ forAccount }), silent);

    // Act & Assess
    await expect(
      handler({ userName: 'u', accessKeyId: 'AKIAOLD0000000000000', accountId: MEMBER }, localContext('rotatePrepare')),
    ).rejects.toBeInstanceOf(MemberAccountAccessError);
    expect(run).not.toHaveBeenCalled();
  });
});

describe('secretKmsKeyIdFor: which KMS key encrypts a new secret', () => {
  test("the stack's own account uses SECRET_KMS_KEY_ID", () => {
    // Act & Assess
    expect(secretKmsKeyIdFor(deps())).toBe('arn:aws:kms:us-east-1:123456789012:key/tooling');
  });

  test("a member account never gets the tooling account's key: its secrets use its own aws/secretsmanager key", async () => {
    // Prepare
    const scoped = await inAccount(deps(), MEMBER);
    secrets.on(CreateSecretCommand).resolves({});

    // Act
    const kmsKeyId = secretKmsKeyIdFor(scoped);
    await ensureSecret(new SecretsManagerClient({}), 'iam-key-rotator/u', 'u', kmsKeyId);

    // Assess
    expect(kmsKeyId).toBe('');
    expect(secrets.commandCalls(CreateSecretCommand)[0]?.args[0].input.KmsKeyId).toBeUndefined();
  });
});

describe('Notify in an unreachable member account', () => {
  test('the failure notice still goes out (the owner unknown, so operations hears it), naming the account', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' }));
    const forAccount = memberAccountClients(
      memberCredentials(
        new STSClient({}),
        { memberRoleName: 'rotator-member', memberRoleExternalId: '' },
        fixedClock('2026-06-01T12:00:00Z'),
      ),
      () => memberClients,
    );
    const send = jest.fn<RotationDeps['notifier']['send']>(() => Promise.resolve({ status: 'sent', messageId: 'm-1' }));
    const handler = notifyStep(async () => deps({ forAccount, notifier: { send } }), silent);

    // Act
    const result = await handler(
      {
        event: 'rotation-failed',
        executionName: 'member-app-x',
        state: {
          userName: 'member-app',
          accessKeyId: 'AKIAOLD0000000000000',
          accountId: MEMBER,
          error: { Error: 'MemberAccountAccessError', Cause: 'cannot assume' },
        },
      },
      localContext('notify'),
    );

    // Assess
    expect(result).toMatchObject({ status: 'sent' });
    expect(send.mock.calls[0]?.[0].facts).toMatchObject({
      event: 'rotation-failed',
      accountId: MEMBER,
      owner: undefined,
      userName: 'member-app',
    });
  });
});
