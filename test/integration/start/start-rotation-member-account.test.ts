import { beforeAll, describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { fixedClock } from '#shared/base/clock.ts';
import { memberAccountClients, memberCredentials } from '#shared/aws/member-account.ts';
import { handleTrigger, type StartDeps } from '#shared/start/start-rotation.ts';
import { createPassStateMachine } from '../../helpers/iam-seed.ts';
import { iam, quietLogger } from '../../helpers/rotation-fixtures.ts';
import { repoPath } from '../../helpers/paths.ts';
import { viaRule } from '../../helpers/rule-delivery.ts';

// start-rotation in an organization: the live checks run in the member account the request (or the
// AWS Health event's `account`) names, through its member role, and the execution input carries it.
// moto's AssumeRole of arn:aws:iam::<id>:role/<any> acts in account <id>.

const MEMBER = '111111111111';
const TOOLING = '123456789012';
const sfn = new SFNClient({});
const health = JSON.parse(readFileSync(repoPath('test/fixtures/health-credentials-exposed.json'), 'utf8')) as {
  detail: Record<string, unknown>;
};

let deps: StartDeps;
let memberIam: IAMClient;
beforeAll(async () => {
  const iamFor = memberAccountClients(
    memberCredentials(
      new STSClient({}),
      { memberRoleName: 'iam-key-rotator-member', memberRoleExternalId: '' },
      fixedClock('2026-06-01T12:00:00Z'),
    ),
    (credentials) => new IAMClient({ credentials }),
  );
  memberIam = await iamFor(MEMBER);
  deps = {
    iam,
    sfn,
    stateMachineArn: await createPassStateMachine(sfn, 'iam-key-rotator-test-rotate-key-org'),
    logger: quietLogger,
    ownAccountId: async () => TOOLING,
    iamFor,
  };
});

async function memberUserWithKey(userName: string): Promise<string> {
  await memberIam.send(new CreateUserCommand({ UserName: userName }));
  return (await memberIam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey?.AccessKeyId ?? '';
}

async function inputOf(name: string): Promise<Record<string, unknown>> {
  const list = await sfn.send(new ListExecutionsCommand({ stateMachineArn: deps.stateMachineArn }));
  const execution = (list.executions ?? []).find((item) => item.name === name);
  const described = await sfn.send(new DescribeExecutionCommand({ executionArn: execution?.executionArn }));
  return JSON.parse(described.input ?? '{}') as Record<string, unknown>;
}

describe('start-rotation for a member account, against moto', () => {
  test('a request naming a member account checks the user there and passes the account into the execution input', async () => {
    // Prepare: a user with a key in the member account.
    const accessKeyId = await memberUserWithKey('org-app');

    // Act
    const [outcome] = await handleTrigger(
      { userName: 'org-app', accountId: MEMBER, accountName: 'payments-prod', requestedBy: 'cli' },
      deps,
    );

    // Assess
    expect(outcome).toMatchObject({ status: 'started', userName: 'org-app', accessKeyId, accountId: MEMBER });
    const name = outcome && 'executionName' in outcome ? outcome.executionName : '';
    expect(await inputOf(name)).toEqual({
      userName: 'org-app',
      accessKeyId,
      kind: 'manual',
      // A direct invoke's requestedBy is the caller's claim, and recorded as one.
      requestedBy: 'direct-invoke:cli',
      reason: '',
      accountId: MEMBER,
      accountName: 'payments-prod',
    });
  });

  test("the stack's own account named explicitly is single-account mode: the user is looked up in the stack's account, not found there, nothing started", async () => {
    // Act & Assess
    await expect(handleTrigger({ userName: 'org-app', accountId: TOOLING }, deps)).rejects.toMatchObject({ name: 'UserNotFoundError' });
  });

  test("an AWS Health event about a member account's key contains it in that account", async () => {
    // Prepare: a user with a key in the member account.
    const accessKeyId = await memberUserWithKey('org-leaky');

    // Act
    const [outcome] = await handleTrigger(
      viaRule({ ...health, account: MEMBER, detail: { ...health.detail, affectedEntities: [{ entityValue: accessKeyId }] } }),
      deps,
    );

    // Assess
    expect(outcome).toMatchObject({ status: 'started', userName: 'org-leaky', kind: 'compromise', accountId: MEMBER });
    const name = outcome && 'executionName' in outcome ? outcome.executionName : '';
    expect(await inputOf(name)).toMatchObject({ userName: 'org-leaky', accessKeyId, kind: 'compromise', accountId: MEMBER });
  });

  test("an AWS Health event delivered to the organization's delegated administrator contains the key in its affectedAccount", async () => {
    // Prepare: the key lives in the member account; the event was delivered to the tooling account.
    const accessKeyId = await memberUserWithKey('org-leaky-admin-view');
    const event = {
      ...health,
      account: TOOLING,
      detail: { ...health.detail, affectedAccount: MEMBER, affectedEntities: [{ entityValue: accessKeyId }] },
    };

    // Act
    const [outcome] = await handleTrigger(viaRule(event), deps);

    // Assess
    expect(outcome).toMatchObject({ status: 'started', userName: 'org-leaky-admin-view', kind: 'compromise', accountId: MEMBER });
  });

  test("a GuardDuty finding delivered to the administrator account contains the key in the member's detail.accountId", async () => {
    // Prepare
    const accessKeyId = await memberUserWithKey('org-leaky-guardduty');
    const finding = JSON.parse(readFileSync(repoPath('test/fixtures/guardduty-iamuser-finding.json'), 'utf8')) as {
      detail: Record<string, unknown>;
    };
    const event = {
      ...finding,
      account: TOOLING,
      detail: {
        ...finding.detail,
        accountId: MEMBER,
        resource: { resourceType: 'AccessKey', accessKeyDetails: { accessKeyId, userName: 'org-leaky-guardduty', userType: 'IAMUser' } },
      },
    };

    // Act
    const [outcome] = await handleTrigger(viaRule(event), deps);

    // Assess
    expect(outcome).toMatchObject({ status: 'started', userName: 'org-leaky-guardduty', kind: 'compromise', accountId: MEMBER });
  });
});
