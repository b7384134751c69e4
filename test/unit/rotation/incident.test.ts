import { describe, expect, test } from '@jest/globals';
import type { KeyCall } from '#shared/aws/key-calls.ts';
import {
  incidentLines,
  MAX_WRITES,
  parseRoleArn,
  revokeCommand,
  revokeOlderSessionsPolicy,
  summarizeIncident,
  unreadIncident,
} from '#shared/rotation/incident.ts';

const FROM = new Date('2026-09-01T00:00:00Z');
const TO = new Date('2026-11-30T00:00:00Z');
let nextId = 0;

function call(eventName: string, at: string, extra: Partial<KeyCall> = {}): KeyCall {
  nextId += 1;
  return {
    eventId: `e${nextId}`,
    at: new Date(at),
    accessKeyId: 'AKIALEAKED0000000001',
    sourceIp: '203.0.113.66',
    invokedBy: undefined,
    userAgent: 'aws-cli/2.15.30',
    eventSource: eventName === 'AssumeRole' ? 'sts.amazonaws.com' : 'iam.amazonaws.com',
    eventName,
    region: 'us-east-1',
    errorCode: undefined,
    category: 'Management',
    ...extra,
  };
}

describe('revokeOlderSessionsPolicy: the deny the IAM console attaches to revoke a role’s sessions', () => {
  test('denies every action on every resource to sessions issued before the time, to the second', () => {
    // Act
    const policy = JSON.parse(revokeOlderSessionsPolicy(new Date('2026-11-30T12:02:05.000Z'))) as unknown;

    // Assess: the shape of "Revoking IAM role temporary security credentials" (IAM user guide).
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Deny', Action: ['*'], Resource: ['*'], Condition: { DateLessThan: { 'aws:TokenIssueTime': '2026-11-30T12:02:05Z' } } },
      ],
    });
  });

  test('the command a person runs names the role and the console’s policy name', () => {
    // Act & Assess
    expect(revokeCommand('deployer', new Date('2026-11-30T12:02:05Z'))).toMatch(
      /^aws iam put-role-policy --role-name deployer --policy-name AWSRevokeOlderSessions --policy-document '\{.*"2026-11-30T12:02:05Z".*\}'$/,
    );
  });
});

describe('parseRoleArn', () => {
  test.each([
    ['arn:aws:iam::123456789012:role/deployer', { accountId: '123456789012', roleName: 'deployer' }],
    ['arn:aws:iam::210987654321:role/teams/data/etl-runner', { accountId: '210987654321', roleName: 'etl-runner' }],
    ['arn:aws-us-gov:iam::123456789012:role/x', { accountId: '123456789012', roleName: 'x' }],
    ['arn:aws:iam::123456789012:user/deployer', undefined],
    ['not an arn', undefined],
  ])('%s', (arn, expected) => {
    // Act & Assess
    expect(parseRoleArn(arn)).toEqual(expected);
  });
});

describe('summarizeIncident: what the leaked key did', () => {
  test('the roles it assumed, once each with how often and from where; refused AssumeRoles are not sessions', () => {
    // Prepare
    const calls = [
      call('AssumeRole', '2026-11-29T10:00:00Z', { target: 'arn:aws:iam::123456789012:role/deployer' }),
      call('AssumeRole', '2026-11-29T11:00:00Z', { target: 'arn:aws:iam::123456789012:role/deployer', sourceIp: '198.51.100.9' }),
      call('AssumeRole', '2026-11-29T12:00:00Z', { target: 'arn:aws:iam::210987654321:role/cross' }),
      call('AssumeRole', '2026-11-29T13:00:00Z', { target: 'arn:aws:iam::123456789012:role/denied', errorCode: 'AccessDenied' }),
    ];

    // Act
    const incident = summarizeIncident({ calls, from: FROM, to: TO, gaps: [], otherActiveKey: undefined });

    // Assess
    expect(incident.roles).toEqual([
      {
        roleArn: 'arn:aws:iam::123456789012:role/deployer',
        accountId: '123456789012',
        roleName: 'deployer',
        firstAt: '2026-11-29T10:00:00.000Z',
        lastAt: '2026-11-29T11:00:00.000Z',
        times: 2,
        sourceIps: ['203.0.113.66', '198.51.100.9'],
        outcome: 'not-enabled',
      },
      expect.objectContaining({ roleName: 'cross', accountId: '210987654321', times: 1 }),
    ]);
    expect(incident.writes).toEqual([]);
    expect(incident.firstSuspiciousAt).toBe('2026-11-29T10:00:00.000Z');
  });

  test('writes are listed persistence first, with time, source and agent; reads and data events are left out; created keys are flagged', () => {
    // Prepare
    const calls = [
      call('ListUsers', '2026-11-29T09:00:00Z'),
      call('PutObject', '2026-11-29T09:30:00Z', { eventSource: 's3.amazonaws.com', category: 'Data' }),
      call('TerminateInstances', '2026-11-29T09:40:00Z', { eventSource: 'ec2.amazonaws.com' }),
      call('CreateUser', '2026-11-29T10:00:00Z', { target: 'backdoor' }),
      call('CreateAccessKey', '2026-11-29T10:01:00Z', { target: 'backdoor', createdAccessKeyId: 'AKIABACKDOOR00000001' }),
      call('CreateLoginProfile', '2026-11-29T10:02:00Z', { target: 'backdoor', errorCode: 'AccessDenied' }),
    ];

    // Act
    const incident = summarizeIncident({
      calls,
      from: FROM,
      to: TO,
      gaps: ['event-history: management events only'],
      otherActiveKey: undefined,
    });

    // Assess
    expect(incident.writes.map((write) => `${write.eventName} ${write.target ?? '-'} ${write.errorCode ?? 'ok'}`)).toEqual([
      'CreateUser backdoor ok',
      'CreateAccessKey backdoor ok',
      'CreateLoginProfile backdoor AccessDenied',
      'TerminateInstances - ok',
    ]);
    expect(incident.writes[0]).toEqual({
      at: '2026-11-29T10:00:00.000Z',
      eventSource: 'iam.amazonaws.com',
      eventName: 'CreateUser',
      target: 'backdoor',
      sourceIp: '203.0.113.66',
      userAgent: 'aws-cli/2.15.30',
    });
    expect(incident.createdKeys).toEqual([{ accessKeyId: 'AKIABACKDOOR00000001', userName: 'backdoor', at: '2026-11-29T10:01:00.000Z' }]);
    expect(incident.firstSuspiciousAt).toBe('2026-11-29T09:40:00.000Z');
    expect(incident.gaps).toEqual(['event-history: management events only']);
  });

  test('a write that hands a role to a service counts as persistence, and the notice says to remove what runs with it', () => {
    // Prepare
    const calls = [
      call('TerminateInstances', '2026-11-29T09:40:00Z', { eventSource: 'ec2.amazonaws.com' }),
      call('CreateFunction', '2026-11-29T10:00:00Z', {
        eventSource: 'lambda.amazonaws.com',
        passedRole: 'arn:aws:iam::123456789012:role/admin',
      }),
    ];

    // Act
    const incident = summarizeIncident({ calls, from: FROM, to: TO, gaps: [], otherActiveKey: undefined });
    const lines = incidentLines(incident, '2026-11-29T12:00:00Z');

    // Assess
    expect(incident.writes.map((write) => write.eventName)).toEqual(['CreateFunction', 'TerminateInstances']);
    expect(incident.writes[0]?.passedRole).toBe('arn:aws:iam::123456789012:role/admin');
    expect(lines.join('\n')).toContain(
      "CreateFunction, passing role arn:aws:iam::123456789012:role/admin to lambda: what runs with it keeps that role's permissions after the key is cut; remove it",
    );
  });

  test('the writes are bounded, and the summary says how many more there were', () => {
    // Prepare
    const calls = Array.from({ length: MAX_WRITES + 7 }, (_, index) =>
      call('TagUser', new Date(Date.UTC(2026, 10, 1, 0, index)).toISOString()),
    );

    // Act
    const incident = summarizeIncident({ calls, from: FROM, to: TO, gaps: [], otherActiveKey: undefined });

    // Assess
    expect(incident.writes).toHaveLength(MAX_WRITES);
    expect(incident.moreWrites).toBe(7);
  });

  test.each([
    ['created with the leaked key', 'AKIAOTHER00000000001', '2026-11-01T00:00:00Z', /was created with the leaked key/],
    [
      'created after its first suspicious use',
      'AKIAOTHER00000000002',
      '2026-11-29T11:00:00Z',
      /after the leaked key's first suspicious use/,
    ],
    ['created before it', 'AKIAOTHER00000000003', '2026-11-01T00:00:00Z', null],
  ])('the user’s other Active key %s', (_, accessKeyId, createdAt, flag) => {
    // Prepare
    const calls = [call('CreateAccessKey', '2026-11-29T10:00:00Z', { target: 'leaky', createdAccessKeyId: 'AKIAOTHER00000000001' })];

    // Act
    const incident = summarizeIncident({
      calls,
      from: FROM,
      to: TO,
      gaps: [],
      otherActiveKey: { accessKeyId, createdAt: new Date(createdAt) },
    });

    // Assess
    if (flag) expect(incident.otherKeyFlag).toMatch(flag);
    else expect(incident.otherKeyFlag).toBeNull();
  });
});

describe('incidentLines: the critical notice’s account of the incident', () => {
  test('names each role with what became of its sessions, the keys to contain and the writes', () => {
    // Prepare
    const incident = summarizeIncident({
      calls: [
        call('AssumeRole', '2026-11-29T10:00:00Z', { target: 'arn:aws:iam::123456789012:role/deployer' }),
        call('AssumeRole', '2026-11-29T10:05:00Z', { target: 'arn:aws:iam::210987654321:role/cross' }),
        call('CreateAccessKey', '2026-11-29T10:01:00Z', { target: 'backdoor', createdAccessKeyId: 'AKIABACKDOOR00000001' }),
      ],
      from: FROM,
      to: TO,
      gaps: ['trail-log-group: sampled, not every call was read'],
      otherActiveKey: undefined,
    });
    const settled = {
      ...incident,
      roles: incident.roles.map((role) =>
        role.accountId === '123456789012'
          ? { ...role, outcome: 'revoked' as const }
          : { ...role, outcome: 'other-account' as const, command: 'aws iam put-role-policy --role-name cross …' },
      ),
    };

    // Act
    const text = incidentLines(settled, '2026-11-30T12:02:05.000Z').join('\n');

    // Assess
    expect(text).toContain(
      'role arn:aws:iam::123456789012:role/deployer assumed 1 time(s), last 2026-11-29T10:00:00.000Z, from 203.0.113.66: its sessions issued before 2026-11-30T12:02:05.000Z are revoked',
    );
    expect(text).toContain(
      'its sessions still work for up to 12 hours; it is in account 210987654321, where the rotator does not act; run there: aws iam put-role-policy --role-name cross',
    );
    expect(text).toContain('CONTAIN TOO: access key AKIABACKDOOR00000001 of backdoor');
    expect(text).toContain('CreateAccessKey backdoor from 203.0.113.66, aws-cli/2.15.30');
    expect(text).toContain('Not covered by this evidence: trail-log-group: sampled, not every call was read.');
  });

  test('without CloudTrail it says what it could not check, and that role sessions are not cut', () => {
    // Act
    const text = incidentLines(unreadIncident(FROM, TO, 'no CloudTrail source is configured'), '2026-11-30T12:02:05.000Z').join('\n');

    // Assess
    expect(text).toContain('could not be read from CloudTrail (no CloudTrail source is configured)');
    expect(text).toContain('sessions of roles it assumed are NOT cut');
  });
});
