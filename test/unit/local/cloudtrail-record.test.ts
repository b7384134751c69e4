import { describe, expect, test } from '@jest/globals';
import {
  cloudTrailRecord,
  createdAccessKeyIdOf,
  eventCategory,
  eventTime,
  isReadOnly,
  recordedParameters,
  type ObservedCall,
} from '#local/cloudtrail-record.ts';
import { parseCloudTrailRecord } from '#shared/aws/cloudtrail-record.ts';

const CALL: ObservedCall = {
  at: new Date('2026-11-30T08:15:42.999Z'),
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  owner: { userName: 'reports-sync', userId: 'AIDAEXAMPLE', arn: 'arn:aws:iam::123456789012:user/reports-sync', accountId: '123456789012' },
  service: 's3',
  region: 'eu-west-1',
  operation: 'GetObject',
  sourceIp: '198.51.100.7',
  userAgent: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64',
  requestId: 'req-1',
};

describe('cloudTrailRecord', () => {
  test('an S3 object read is a data event whose agent S3 writes in brackets', () => {
    // Act
    const record = cloudTrailRecord(CALL);

    // Assess
    expect(record).toMatchObject({
      eventSource: 's3.amazonaws.com',
      eventName: 'GetObject',
      awsRegion: 'eu-west-1',
      userAgent: '[aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64]',
      eventCategory: 'Data',
      managementEvent: false,
      readOnly: true,
      eventTime: '2026-11-30T08:15:42Z',
    });
  });

  test('an error without a message is recorded by its code alone', () => {
    // Act
    const record = cloudTrailRecord({
      ...CALL,
      service: 'iam',
      operation: 'GetUser',
      error: { code: 'NoSuchEntityException', message: undefined },
    });

    // Assess
    expect(record.errorCode).toBe('NoSuchEntityException');
    expect(record).not.toHaveProperty('errorMessage');
  });

  test('every record gets a fresh eventID, and a request id of its own when the service gave none', () => {
    // Act
    const first = cloudTrailRecord({ ...CALL, requestId: undefined });
    const second = cloudTrailRecord({ ...CALL, requestId: undefined });

    // Assess
    expect(first.eventID).not.toBe(second.eventID);
    expect(first.requestID).not.toBe(second.requestID);
  });
});

describe('event classification', () => {
  test.each([
    ['s3', 'PutObject', 'Data'],
    ['s3', 'ListBuckets', 'Management'],
    ['lambda', 'Invoke', 'Data'],
    ['dynamodb', 'GetItem', 'Data'],
    ['dynamodb', 'CreateTable', 'Management'],
    ['sts', 'GetCallerIdentity', 'Management'],
  ])('%s %s is a %s event', (service, operation, category) => {
    // Act & Assess
    expect(eventCategory(service, operation)).toBe(category);
  });

  test.each([
    ['GetCallerIdentity', true],
    ['ListAccessKeys', true],
    ['DescribeSecret', true],
    ['PutObject', false],
    ['AssumeRole', false],
  ])('%s is readOnly: %s', (operation, readOnly) => {
    // Act & Assess
    expect(isReadOnly(operation)).toBe(readOnly);
  });

  test('eventTime is to the second, as CloudTrail writes it', () => {
    // Act & Assess
    expect(eventTime(new Date('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02T03:04:05Z');
  });
});

describe('the parameters the stand-in records', () => {
  test('an AssumeRole records its role ARN, nothing else of its input', () => {
    // Act
    const parameters = recordedParameters('AssumeRole', {
      RoleArn: 'arn:aws:iam::123456789012:role/deployer',
      RoleSessionName: 's',
      Policy: '{}',
    });

    // Assess
    expect(parameters).toEqual({ roleArn: 'arn:aws:iam::123456789012:role/deployer' });
  });

  test('a CreateAccessKey records its user and the created key id, never the secret; the shared parser reads both back', () => {
    // Prepare
    const parameters = recordedParameters('CreateAccessKey', { UserName: 'backdoor' });
    const createdAccessKeyId = createdAccessKeyIdOf('CreateAccessKey', {
      AccessKey: { AccessKeyId: 'AKIABACKDOOR00000001', SecretAccessKey: 'SECRET-VALUE', UserName: 'backdoor' },
    });

    // Act
    const record = cloudTrailRecord({
      ...CALL,
      service: 'iam',
      region: 'us-east-1',
      operation: 'CreateAccessKey',
      ...(parameters ? { parameters } : {}),
      ...(createdAccessKeyId ? { createdAccessKeyId } : {}),
    });

    // Assess
    expect(record.requestParameters).toEqual({ userName: 'backdoor' });
    expect(record.responseElements).toEqual({ accessKey: { accessKeyId: 'AKIABACKDOOR00000001' } });
    expect(JSON.stringify(record)).not.toContain('SECRET-VALUE');
    expect(parseCloudTrailRecord(record)).toMatchObject({ target: 'backdoor', createdAccessKeyId: 'AKIABACKDOOR00000001' });
  });

  test('an S3 call records its bucket and object key, and lists them as resources the way S3 records do; the shared parser reads them back on request', () => {
    // Prepare
    const parameters = recordedParameters('GetObject', { Bucket: 'reports', Key: 'daily/2026-11-30.csv', SSECustomerKey: 'KEY-VALUE' });

    // Act
    const record = cloudTrailRecord({ ...CALL, ...(parameters ? { parameters } : {}) });

    // Assess
    expect(record.requestParameters).toEqual({ bucketName: 'reports', key: 'daily/2026-11-30.csv' });
    expect(record.resources).toEqual([
      { type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::reports/daily/2026-11-30.csv' },
      { accountId: '123456789012', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::reports' },
    ]);
    expect(JSON.stringify(record)).not.toContain('KEY-VALUE');
    expect(parseCloudTrailRecord(record)?.resources).toBeUndefined();
    expect(parseCloudTrailRecord(record, { resources: true })?.resources).toEqual([
      'arn:aws:s3:::reports/daily/2026-11-30.csv',
      'arn:aws:s3:::reports',
    ]);
  });

  test('a bucket-level S3 call lists its bucket only; a call with no bucket lists no resource', () => {
    // Prepare
    const parameters = recordedParameters('GetBucketLocation', { Bucket: 'reports' });

    // Act
    const bucketCall = cloudTrailRecord({ ...CALL, operation: 'GetBucketLocation', ...(parameters ? { parameters } : {}) });
    const listBuckets = cloudTrailRecord({ ...CALL, operation: 'ListBuckets' });

    // Assess
    expect(bucketCall.resources).toEqual([{ accountId: '123456789012', type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::reports' }]);
    expect(listBuckets).not.toHaveProperty('resources');
    expect(listBuckets.requestParameters).toBeNull();
  });

  test('any other operation records no parameters', () => {
    // Act & Assess
    expect(recordedParameters('PutUserPolicy', { UserName: 'u', PolicyDocument: '{}' })).toBeUndefined();
    expect(createdAccessKeyIdOf('GetCallerIdentity', { AccessKey: { AccessKeyId: 'AKIA' } })).toBeUndefined();
  });
});
