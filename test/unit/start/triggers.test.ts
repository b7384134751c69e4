import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { InvalidInputError } from '#shared/base/errors.ts';
import { parseTrigger } from '#shared/start/triggers.ts';
import { repoPath } from '../../helpers/paths.ts';

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

describe('AWS Health AWS_RISK_CREDENTIALS_EXPOSED', () => {
  test('the documented event becomes a compromise request for the exposed key; its owner is looked up later', () => {
    expect(parseTrigger(health)).toEqual({
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
    expect(parseTrigger({ ...health, id: 'another-delivery', time: '2016-06-05T06:30:00Z' })).toEqual(parseTrigger(health));
  });

  test('one request per distinct exposed key', () => {
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
    const parsed = parseTrigger(event);
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
    const text = rejected(event);
    expect(text).toContain('The AWS Health event was rejected and nothing was changed');
    expect(text).toContain(message);
  });
});

describe('GuardDuty findings', () => {
  test("a finding about an IAM user's access key becomes a compromise request for that user and key", () => {
    expect(parseTrigger(fixture('guardduty-iamuser-finding.json'))).toEqual({
      type: 'requests',
      source: 'guardduty',
      requests: [
        {
          userName: 'billing-export',
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
          kind: 'compromise',
          requestedBy: 'aws.guardduty:16afba5c5c43e07c9e3e5e2e544e95df',
          reason: 'GuardDuty finding UnauthorizedAccess:IAMUser/MaliciousIPCaller (severity 5)',
        },
      ],
    });
  });

  test('a finding about temporary role credentials is ignored: there is no user key to rotate', () => {
    expect(parseTrigger(fixture('guardduty-instance-credentials-finding.json'))).toEqual({
      type: 'ignored',
      source: 'guardduty',
      reason:
        "finding 26afba5c5c43e07c9e3e5e2e544e95df (UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS) is not about an IAM user's long-term access key",
    });
  });

  test('a finding without a detail id is rejected', () => {
    const finding = fixture('guardduty-iamuser-finding.json');
    expect(rejected({ ...finding, detail: { ...(finding.detail as object), id: undefined } })).toContain('detail.id');
  });
});

describe('direct requests (API, CLI)', () => {
  test('defaults: a manual rotation requested by the API', () => {
    expect(parseTrigger({ userName: 'billing-export' })).toEqual({
      type: 'requests',
      source: 'direct',
      requests: [{ userName: 'billing-export', accessKeyId: undefined, kind: 'manual', requestedBy: 'api', reason: '' }],
    });
  });

  test.each([
    [{ userName: 'billing-export', kind: 'compromise' }, 'a compromise rotation needs the accessKeyId'],
    [{ userName: 'billing-export', kind: 'scheduled', accessKeyId: 'AKIAIOSFODNN7EXAMPLE' }, 'kind'],
    [{ userName: 'bad name with spaces' }, 'userName: must be an IAM user name'],
    [{ userName: 'billing-export', secretAccessKey: 'x' }, 'Unrecognized key'],
    ['not an object', '(event)'],
  ])('%j is rejected', (event, message) => {
    expect(rejected(event)).toContain(message);
  });

  test('an event from another source is rejected without echoing it at length', () => {
    const text = rejected({ source: `aws.s3${'x'.repeat(500)}` });
    expect(text).toContain('do not start rotations; nothing was changed');
    expect(text.length).toBeLessThan(300);
  });
});
