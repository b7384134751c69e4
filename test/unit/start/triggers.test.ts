import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { InvalidInputError, UnverifiedEventSourceError } from '#shared/base/errors.ts';
import { eventAccountId } from '#shared/start/start-rotation.ts';
import { parseTrigger } from '#shared/start/triggers.ts';
import { repoPath } from '../../helpers/paths.ts';
import { SAMPLE_RULE_ARN, viaRule } from '../../helpers/rule-delivery.ts';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(repoPath('test/fixtures', name), 'utf8')) as Record<string, unknown>;
const health = fixture('health-credentials-exposed.json');
const detail = health.detail as Record<string, unknown>;

function rejected(event: unknown): string {
  try {
    parseTrigger(event);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as Error).message;
  }
  throw new Error('the event was accepted');
}

// Events reach start-rotation as the stack's rules deliver them: wrapped (serverless.yml's inputTransformer).
const parseEvent = (event: unknown) => parseTrigger(viaRule(event));
const rejectedEvent = (event: unknown): string => rejected(viaRule(event));

describe('AWS Health AWS_RISK_CREDENTIALS_EXPOSED', () => {
  test('the documented event becomes a compromise request for the exposed key; its owner is looked up later', () => {
    // Act & Assess
    expect(parseEvent(health)).toEqual({
      type: 'requests',
      source: 'health',
      requests: [
        {
          userName: undefined,
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
          kind: 'compromise',
          requestedBy: 'aws.health:arn:aws:health:us-east-1::event/AWS_RISK_CREDENTIALS_EXPOSED_XXXXXXXXXXXXXXXXX',
          reason: 'AWS Health AWS_RISK_CREDENTIALS_EXPOSED: access key AKIAIOSFODNN7EXAMPLE was found in public',
        },
      ],
    });
  });

  test('the same event twice makes the same request (no timestamps), so StartExecution is idempotent', () => {
    // Act & Assess
    expect(parseEvent({ ...health, id: 'another-delivery', time: '2016-06-05T06:30:00Z' })).toEqual(parseEvent(health));
  });

  test('one request per distinct exposed key', () => {
    // Prepare: one key named twice among three entities
    const event = {
      ...health,
      detail: {
        ...detail,
        affectedEntities: [
          { entityValue: 'AKIAIOSFODNN7EXAMPLE' },
          { entityValue: 'AKIAI44QH8DHBEXAMPLE' },
          { entityValue: 'AKIAIOSFODNN7EXAMPLE' },
        ],
      },
    };

    // Act
    const parsed = parseEvent(event);

    // Assess
    expect(parsed.type === 'requests' && parsed.requests.map((request) => request.accessKeyId)).toEqual([
      'AKIAIOSFODNN7EXAMPLE',
      'AKIAI44QH8DHBEXAMPLE',
    ]);
  });

  test.each([
    [
      'no affected entity (fixture)',
      fixture('health-credentials-exposed-malformed.json'),
      'detail.affectedEntities: must name the exposed access key',
    ],
    [
      'another Health event type',
      { ...health, detail: { ...detail, eventTypeCode: 'AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED' } },
      'only AWS_RISK_CREDENTIALS_EXPOSED events',
    ],
    [
      'a temporary key',
      { ...health, detail: { ...detail, affectedEntities: [{ entityValue: 'ASIAIOSFODNN7EXAMPLE' }] } },
      'long-term IAM user access key',
    ],
    [
      'garbage as the key',
      { ...health, detail: { ...detail, affectedEntities: [{ entityValue: '../../etc/passwd' }] } },
      'must be an access key id',
    ],
    ['no detail', { ...health, detail: undefined }, 'detail'],
    ['the wrong detail-type', { ...health, 'detail-type': 'AWS API Call via CloudTrail' }, 'detail-type'],
  ])('%s is rejected with a message naming the problem', (_name, event, message) => {
    // Act
    const text = rejectedEvent(event);

    // Assess
    expect(text).toContain('The AWS Health event was rejected and nothing was changed');
    expect(text).toContain(message);
  });
});

describe('GuardDuty findings', () => {
  test("a finding about an IAM user's access key becomes a compromise request for that user and key", () => {
    // Act & Assess
    expect(parseEvent(fixture('guardduty-iamuser-finding.json'))).toEqual({
      type: 'requests',
      source: 'guardduty',
      requests: [
        {
          userName: 'billing-export',
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
          kind: 'compromise',
          requestedBy: 'aws.guardduty:16afba5c5c43e07c9e3e5e2e544e95df',
          reason: 'GuardDuty finding UnauthorizedAccess:IAMUser/MaliciousIPCaller (severity 8, resource AccessKey)',
        },
      ],
    });
  });

  test('a finding about temporary role credentials is ignored: there is no user key to rotate', () => {
    // Act & Assess
    expect(parseEvent(fixture('guardduty-instance-credentials-finding.json'))).toEqual({
      type: 'ignored',
      source: 'guardduty',
      reason:
        "finding 26afba5c5c43e07c9e3e5e2e544e95df (UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS) is not about an IAM user's credentials",
    });
  });

  test("an S3 protection finding about an IAM user's key contains that key like an AccessKey finding", () => {
    // Act & Assess
    expect(parseEvent(fixture('guardduty-s3-iamuser-finding.json'))).toEqual({
      type: 'requests',
      source: 'guardduty',
      requests: [
        {
          userName: 'reports-sync',
          accessKeyId: 'AKIAI44QH8DHBEXAMPLE',
          kind: 'compromise',
          requestedBy: 'aws.guardduty:3ebf0b1e7d2a4c19a6f0c2d4e8b1a7f3',
          reason: 'GuardDuty finding Exfiltration:S3/MaliciousIPCaller (severity 8, resource S3Bucket)',
        },
      ],
    });
  });

  test("a finding about an IAM user's own sessions (ASIA) starts a containment of those sessions, not a key rotation", () => {
    // Act
    const parsed = parseEvent(fixture('guardduty-iamuser-session-finding.json'));

    // Assess: Contain tells an ASIA key id from a key and denies the user's sessions only.
    expect(parsed).toMatchObject({
      type: 'requests',
      source: 'guardduty',
      requests: [{ userName: 'billing-export', accessKeyId: 'ASIAI44QH8DHBEXAMPLE', kind: 'compromise' }],
    });
    const [request] = parsed.type === 'requests' ? parsed.requests : [];
    expect(request?.reason).toContain('about temporary credentials of the user');
  });

  const finding = fixture('guardduty-iamuser-finding.json');
  const findingDetail = finding.detail as Record<string, unknown>;
  const withDetail = (changes: Record<string, unknown>) => ({ ...finding, detail: { ...findingDetail, ...changes } });
  const sessionFinding = fixture('guardduty-iamuser-session-finding.json');

  test.each([
    [
      'a medium finding under the default floor (7)',
      withDetail({ severity: 5 }),
      undefined,
      'has severity 5, below GUARDDUTY_MIN_SEVERITY (7)',
    ],
    [
      'a finding under a raised floor',
      withDetail({ severity: 8 }),
      { guardDutyMinSeverity: 8.5, guardDutyFindingTypes: [] },
      'below GUARDDUTY_MIN_SEVERITY (8.5)',
    ],
    [
      'a finding of a type outside GUARDDUTY_FINDING_TYPES',
      withDetail({}),
      { guardDutyMinSeverity: 7, guardDutyFindingTypes: ['UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS'] },
      'is not of a type in GUARDDUTY_FINDING_TYPES',
    ],
    [
      'a low finding about a user session: under the floor, no alarm',
      { ...sessionFinding, detail: { ...(sessionFinding.detail as object), severity: 2 } },
      undefined,
      'below GUARDDUTY_MIN_SEVERITY',
    ],
    [
      'a sample finding (CreateSampleFindings placeholders)',
      withDetail({
        service: { additionalInfo: { sample: true } },
        resource: {
          resourceType: 'AccessKey',
          accessKeyDetails: { accessKeyId: 'GeneratedFindingAccessKeyId', userName: 'GeneratedFindingUserName', userType: 'IAMUser' },
        },
      }),
      undefined,
      'is a GuardDuty sample finding',
    ],
    [
      'a finding about the root user',
      withDetail({
        resource: {
          resourceType: 'AccessKey',
          accessKeyDetails: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', userName: 'Root', userType: 'Root' },
        },
      }),
      undefined,
      "is not about an IAM user's credentials",
    ],
  ])('%s is ignored, naming why', (_case, event, policy, reason) => {
    // Act
    const parsed = parseTrigger(viaRule(event), policy);

    // Assess
    expect(parsed.type).toBe('ignored');
    expect(parsed.type === 'ignored' && parsed.reason).toContain(reason);
  });

  test('a finding at the floor, of a listed type, contains the key', () => {
    // Act
    const parsed = parseTrigger(viaRule(withDetail({ severity: 7 })), {
      guardDutyMinSeverity: 7,
      guardDutyFindingTypes: ['UnauthorizedAccess:IAMUser/MaliciousIPCaller'],
    });

    // Assess
    expect(parsed).toMatchObject({ type: 'requests', requests: [{ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', kind: 'compromise' }] });
  });

  test('a finding without a detail id is rejected', () => {
    // Prepare
    const finding = fixture('guardduty-iamuser-finding.json');

    // Act & Assess
    expect(rejectedEvent({ ...finding, detail: { ...(finding.detail as object), id: undefined } })).toContain('detail.id');
  });
});

describe('direct requests (API, CLI)', () => {
  test('defaults: a manual rotation, recorded as a direct invoke', () => {
    // Act & Assess
    expect(parseTrigger({ userName: 'billing-export' })).toEqual({
      type: 'requests',
      source: 'direct',
      requests: [{ userName: 'billing-export', accessKeyId: undefined, kind: 'manual', requestedBy: 'direct-invoke:api', reason: '' }],
    });
  });

  test("the caller's requestedBy is kept only as its claim: a direct invoke cannot pass for the CLI, an event or the scanner", () => {
    // Act
    const parsed = ['cli:arn:aws:iam::123456789012:user/alice', 'aws.health:arn:aws:health:us-east-1::event/X', 'scanner'].map(
      (requestedBy) => parseTrigger({ userName: 'billing-export', requestedBy }),
    );

    // Assess
    expect(parsed.map((trigger) => trigger.type === 'requests' && trigger.requests[0]?.requestedBy)).toEqual([
      'direct-invoke:cli:arn:aws:iam::123456789012:user/alice',
      'direct-invoke:aws.health:arn:aws:health:us-east-1::event/X',
      'direct-invoke:scanner',
    ]);
  });

  test('a claim long enough to push the record past 256 characters is rejected', () => {
    // Act & Assess
    expect(rejected({ userName: 'billing-export', requestedBy: 'x'.repeat(243) })).toContain('requestedBy');
    expect(parseTrigger({ userName: 'billing-export', requestedBy: 'x'.repeat(242) })).toMatchObject({ type: 'requests' });
  });

  test.each([
    [{ userName: 'billing-export', kind: 'compromise' }, 'a compromise rotation needs the accessKeyId'],
    [{ userName: 'billing-export', kind: 'scheduled', accessKeyId: 'AKIAIOSFODNN7EXAMPLE' }, 'kind'],
    [{ userName: 'bad name with spaces' }, 'userName: must be an IAM user name'],
    [{ userName: 'billing-export', secretAccessKey: 'x' }, 'Unrecognized key'],
    ['not an object', '(event)'],
  ])('%j is rejected', (event, message) => {
    // Act & Assess
    expect(rejected(event)).toContain(message);
  });

  test('an event from another source, delivered by a rule, is rejected without echoing it at length', () => {
    // Act
    const text = rejectedEvent({ source: `aws.s3${'x'.repeat(500)}` });

    // Assess
    expect(text).toContain('do not start rotations; nothing was changed');
    expect(text.length).toBeLessThan(300);
  });
});

describe('payloads that claim an AWS event source they did not come with', () => {
  test.each([
    ['a documented AWS Health event invoked directly', health],
    ['a GuardDuty finding invoked directly', fixture('guardduty-iamuser-finding.json')],
    ['a direct request with a source added', { userName: 'billing-export', source: 'aws.health' }],
    ['a source that is not a string', { source: 42 }],
  ])('%s is refused with UnverifiedEventSourceError, naming the claim', (_case, payload) => {
    // Act
    let refused: unknown;
    try {
      parseTrigger(payload);
    } catch (error) {
      refused = error;
    }

    // Assess
    expect(refused).toBeInstanceOf(UnverifiedEventSourceError);
    expect((refused as Error).name).toBe('UnverifiedEventSourceError');
    expect((refused as Error).message).toMatch(/invoked directly, not delivered by the stack's EventBridge rule; nothing was changed/);
  });

  test.each([
    ['a wrapper without the event', { deliveredBy: 'eventbridge-rule', rule: SAMPLE_RULE_ARN }, 'event'],
    [
      'a wrapper naming no rule ARN',
      { deliveredBy: 'eventbridge-rule', rule: 'mine', event: health },
      'rule: must be the ARN of an EventBridge rule',
    ],
    ['another delivery marker', { deliveredBy: 'me', rule: SAMPLE_RULE_ARN, event: health }, 'deliveredBy'],
    ['a wrapper with extra fields', { ...viaRule(health), requestedBy: 'alice' }, 'Unrecognized key'],
  ])('%s is rejected as a malformed delivery', (_case, payload, message) => {
    // Act & Assess
    expect(rejected(payload)).toContain('The EventBridge delivery was rejected');
    expect(rejected(payload)).toContain(message);
  });
});

describe('the account an event is about', () => {
  const guardDuty = fixture('guardduty-iamuser-finding.json');

  test.each([
    ['a Health event in the account it is about', health, '123456789012'],
    [
      "a Health event in an organization's delegated administrator: its affectedAccount",
      fixture('health-credentials-exposed-organization.json'),
      '444455556666',
    ],
    [
      'a Health event whose affectedAccount is no account id (a redacted sample): where it was delivered',
      { ...health, detail: { ...detail, affectedAccount: 'AKIAXXXXXXXXXX' } },
      '123456789012',
    ],
    ['a GuardDuty finding in its own account', guardDuty, '123456789012'],
    [
      "a GuardDuty finding in the administrator account: the member's detail.accountId",
      { ...guardDuty, account: '111122223333', detail: { ...(guardDuty.detail as object), accountId: '444455556666' } },
      '444455556666',
    ],
  ])('%s', (_case, event, account) => {
    // Act & Assess
    expect(eventAccountId(viaRule(event))).toBe(account);
  });
});
