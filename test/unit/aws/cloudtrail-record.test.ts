import { describe, expect, test } from '@jest/globals';
import { parseCloudTrailRecord, readCloudTrailRecord } from '#shared/aws/cloudtrail-record.ts';
import { cloudTrailRecord, FIXTURE_KEY, lookupEventsPage, syntheticRecord } from '../../helpers/cloudtrail-fixtures.ts';

const KEY_CALL_FIELDS = [
  'accessKeyId',
  'at',
  'category',
  'errorCode',
  'eventId',
  'eventName',
  'eventSource',
  'invokedBy',
  'region',
  'sourceIp',
  'userAgent',
].sort();

describe('parseCloudTrailRecord', () => {
  test('an AssumeRole names the role it targeted, and nothing of the credentials it returned', () => {
    // Prepare: a session token and secret in the response, as STS returns them (CloudTrail redacts the secret; this does not rely on it).
    const record = {
      ...syntheticRecord({
        eventId: 'assume-1',
        at: new Date('2026-11-29T10:00:00Z'),
        accessKeyId: FIXTURE_KEY,
        eventName: 'AssumeRole',
        requestParameters: { roleArn: 'arn:aws:iam::111122223333:role/deployer', roleSessionName: 'x', policy: '{"Statement":[]}' },
      }),
      responseElements: { credentials: { accessKeyId: 'ASIAEXAMPLE', sessionToken: 'TOKEN-SECRET', secretAccessKey: 'SECRET' } },
    };

    // Act
    const call = parseCloudTrailRecord(record);

    // Assess
    expect(call).toMatchObject({ eventName: 'AssumeRole', target: 'arn:aws:iam::111122223333:role/deployer' });
    expect(call?.createdAccessKeyId).toBeUndefined();
    expect(JSON.stringify(call)).not.toMatch(/TOKEN-SECRET|SECRET"|roleSessionName|Statement/);
  });

  test('a CreateAccessKey names the user and the key it created, never the secret', () => {
    // Prepare
    const record = {
      ...syntheticRecord({
        eventId: 'create-1',
        at: new Date('2026-11-29T10:01:00Z'),
        accessKeyId: FIXTURE_KEY,
        eventName: 'CreateAccessKey',
        requestParameters: { userName: 'backdoor' },
      }),
      responseElements: { accessKey: { accessKeyId: 'AKIABACKDOOR00000001', status: 'Active', secretAccessKey: 'SECRET-VALUE' } },
    };

    // Act
    const call = parseCloudTrailRecord(record);

    // Assess
    expect(call).toMatchObject({ target: 'backdoor', createdAccessKeyId: 'AKIABACKDOOR00000001' });
    expect(JSON.stringify(call)).not.toContain('SECRET-VALUE');
  });

  test('a GetSessionToken names the session it opened by its ASIA key id, never its token or secret', () => {
    // Prepare
    const record = {
      ...syntheticRecord({
        eventId: 'session-1',
        at: new Date('2026-11-29T10:03:00Z'),
        accessKeyId: FIXTURE_KEY,
        eventName: 'GetSessionToken',
      }),
      responseElements: {
        credentials: { accessKeyId: 'ASIAQEXAMPLESESSION1', sessionToken: 'TOKEN-VALUE', expiration: 'Nov 30, 2026, 10:03:00 AM' },
      },
    };

    // Act
    const call = parseCloudTrailRecord(record);

    // Assess
    expect(call?.sessionAccessKeyId).toBe('ASIAQEXAMPLESESSION1');
    expect(JSON.stringify(call)).not.toContain('TOKEN-VALUE');
  });

  test.each([
    [
      'Lambda CreateFunction',
      'CreateFunction',
      { functionName: 'miner', role: 'arn:aws:iam::123456789012:role/admin' },
      'arn:aws:iam::123456789012:role/admin',
    ],
    [
      'EC2 RunInstances',
      'RunInstances',
      { iamInstanceProfile: { arn: 'arn:aws:iam::123456789012:instance-profile/ops' } },
      'arn:aws:iam::123456789012:instance-profile/ops',
    ],
    ['EC2 RunInstances by name', 'RunInstances', { iamInstanceProfile: { name: 'ops' } }, 'instance profile ops'],
    [
      'ECS RegisterTaskDefinition',
      'RegisterTaskDefinition',
      { taskRoleArn: 'arn:aws:iam::123456789012:role/task' },
      'arn:aws:iam::123456789012:role/task',
    ],
    [
      'CloudFormation CreateStack',
      'CreateStack',
      { stackName: 's', roleARN: 'arn:aws:iam::123456789012:role/cfn' },
      'arn:aws:iam::123456789012:role/cfn',
    ],
  ])('a write that hands a role to a service (%s) names the role passed', (_name, eventName, requestParameters, passed) => {
    // Prepare
    const record = syntheticRecord({
      eventId: `pass-${eventName}`,
      at: new Date('2026-11-29T10:04:00Z'),
      accessKeyId: FIXTURE_KEY,
      eventName,
      requestParameters,
    });

    // Act
    const call = parseCloudTrailRecord(record);

    // Assess
    expect(call?.passedRole).toBe(passed);
  });

  test('a read keeps no target: only writes say what they acted on', () => {
    // Prepare
    const record = syntheticRecord({
      eventId: 'read-1',
      at: new Date('2026-11-29T10:02:00Z'),
      accessKeyId: FIXTURE_KEY,
      eventName: 'ListAccessKeys',
      requestParameters: { userName: 'someone' },
    });

    // Act
    const call = parseCloudTrailRecord(record);

    // Assess
    expect(Object.keys(call ?? {}).sort()).toEqual(KEY_CALL_FIELDS);
  });

  test('an IAM user’s aws-cli/2 call: where it came from and what it did, nothing of the request', () => {
    // Prepare
    const record = cloudTrailRecord('iam-user-awscli');

    // Act
    const call = parseCloudTrailRecord(record);

    // Assess
    expect(call).toEqual({
      eventId: '5a0e3c62-7b1f-4d2e-8c9a-1e2f3a4b5c6d',
      at: new Date('2026-11-20T08:14:03Z'),
      accessKeyId: FIXTURE_KEY,
      sourceIp: '198.51.100.24',
      invokedBy: undefined,
      userAgent: expect.stringMatching(/^aws-cli\/2\.15\.30 .*md\/command#iam\.list-access-keys$/),
      eventSource: 'iam.amazonaws.com',
      eventName: 'ListAccessKeys',
      region: 'us-east-1',
      errorCode: undefined,
      category: 'Management',
    });
    expect(Object.keys(call ?? {}).sort()).toEqual(KEY_CALL_FIELDS);
  });

  test('a Boto3 call keeps its user agent and drops the secret id it asked for', () => {
    // Prepare
    const record = cloudTrailRecord('iam-user-boto3');

    // Act
    const call = parseCloudTrailRecord(record);

    // Assess
    expect(call).toMatchObject({
      eventName: 'GetSecretValue',
      region: 'eu-west-1',
      userAgent: expect.stringMatching(/^Boto3\/1\.34\.69 /),
    });
    expect(JSON.stringify(call)).not.toContain('reporting/db');
  });

  test('a data event (S3 GetObject) is of category Data, its bracketed user agent kept as recorded', () => {
    // Prepare
    const record = cloudTrailRecord('data-event-s3-getobject');

    // Act
    const call = parseCloudTrailRecord(record);

    // Assess
    expect(call).toMatchObject({
      category: 'Data',
      eventSource: 's3.amazonaws.com',
      eventName: 'GetObject',
      userAgent: expect.stringMatching(/^\[Boto3/),
    });
    expect(JSON.stringify(call)).not.toContain('reports/2026-11-19.csv');
  });

  test('an AWS service calling on the user’s behalf names itself as source and invoker', () => {
    // Prepare
    const record = cloudTrailRecord('invoked-by-service');

    // Act
    const call = parseCloudTrailRecord(record);

    // Assess: forward access carries a session key id, not the user's AKIA key
    expect(call).toMatchObject({
      sourceIp: 's3.amazonaws.com',
      invokedBy: 's3.amazonaws.com',
      userAgent: 's3.amazonaws.com',
      accessKeyId: 'ASIAIOSFODNN7EXAMPLE',
    });
  });

  test('an older record that names the service only in invokedBy takes it as the source', () => {
    // Prepare
    const record = cloudTrailRecord('invoked-by-service');
    delete record.sourceIPAddress;

    // Act
    const call = parseCloudTrailRecord(record);

    // Assess
    expect(call?.sourceIp).toBe('s3.amazonaws.com');
  });

  test.each([
    ['access-denied', 'AccessDenied', 'ListUsers'],
    ['ec2-unauthorized', 'Client.UnauthorizedOperation', 'DescribeInstances'],
  ] as const)('a call refused by authorization (%s) is a call of the key, with its error code', (fixture, errorCode, eventName) => {
    // Act
    const call = parseCloudTrailRecord(cloudTrailRecord(fixture));

    // Assess
    expect(call).toMatchObject({ accessKeyId: FIXTURE_KEY, errorCode, eventName });
    expect(JSON.stringify(call)).not.toContain('not authorized');
  });

  test('a record from before eventCategory is a management event, and one without a user agent has an empty one', () => {
    // Act
    const call = parseCloudTrailRecord(cloudTrailRecord('legacy-no-category'));

    // Assess
    expect(call).toMatchObject({ category: 'Management', userAgent: '', eventName: 'GetCallerIdentity' });
  });

  test('a record without eventCategory but with managementEvent false is a data event', () => {
    // Prepare
    const record = cloudTrailRecord('data-event-s3-getobject');
    delete record.eventCategory;

    // Act
    const call = parseCloudTrailRecord(record);

    // Assess
    expect(call?.category).toBe('Data');
  });

  test('a LookupEvents page’s CloudTrailEvent strings parse as the records they hold', () => {
    // Prepare
    const page = lookupEventsPage();

    // Act
    const calls = (page.Events ?? []).map((event) => parseCloudTrailRecord(event.CloudTrailEvent));

    // Assess
    expect(calls.map((call) => [call?.eventId, call?.errorCode])).toEqual([
      ['2d3e4f5a-6b7c-48d9-9eaf-b0c1d2e3f4a5', 'AccessDenied'],
      ['5a0e3c62-7b1f-4d2e-8c9a-1e2f3a4b5c6d', undefined],
    ]);
  });

  test.each([
    ['a console sign-in', cloudTrailRecord('console-signin'), /no userIdentity\.accessKeyId \(userIdentity\.type IAMUser\)/, false],
    [
      'an empty accessKeyId',
      { ...cloudTrailRecord('iam-user-awscli'), userIdentity: { type: 'IAMUser', accessKeyId: '' } },
      /no userIdentity\.accessKeyId/,
      false,
    ],
    ['no eventID', { ...cloudTrailRecord('iam-user-awscli'), eventID: undefined }, /no eventID/, true],
    ['no eventTime', { ...cloudTrailRecord('iam-user-awscli'), eventTime: null }, /no eventTime/, true],
    ['an eventTime that is no date', { ...cloudTrailRecord('iam-user-awscli'), eventTime: 'yesterday' }, /not a date/, true],
    ['no userIdentity', { ...cloudTrailRecord('iam-user-awscli'), userIdentity: undefined }, /no userIdentity$/, true],
    ['text that is not JSON', '{"eventID": ', /not JSON/, true],
    ['an array', [], /not a JSON object/, true],
    ['nothing', undefined, /not a JSON object/, true],
  ])('%s gives no call, and says why', (_, raw, reason, unreadable) => {
    // Act
    const reading = readCloudTrailRecord(raw);

    // Assess
    expect(reading).toEqual({ skipped: expect.stringMatching(reason), unreadable });
    expect(parseCloudTrailRecord(raw)).toBeUndefined();
  });
});
