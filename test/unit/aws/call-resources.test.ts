import { describe, expect, test } from '@jest/globals';
import { MAX_RESOURCES_PER_CALL, resourcesOfRecord } from '#shared/aws/call-resources.ts';
import { parseCloudTrailRecord } from '#shared/aws/cloudtrail-record.ts';
import { cloudTrailRecord, FIXTURE_KEY, syntheticRecord } from '../../helpers/cloudtrail-fixtures.ts';

const AT = new Date('2026-11-29T10:00:00Z');

function recordOf(eventSource: string, eventName: string, requestParameters: Record<string, unknown>): Record<string, unknown> {
  return { ...syntheticRecord({ eventId: `${eventName}-1`, at: AT, accessKeyId: FIXTURE_KEY, eventName, requestParameters }), eventSource };
}

describe('resourcesOfRecord', () => {
  test('an S3 GetObject names its object and bucket, from resources[] and from bucketName and key, once each', () => {
    // Act
    const resources = resourcesOfRecord(cloudTrailRecord('data-event-s3-getobject'));

    // Assess
    expect(resources).toEqual(['arn:aws:s3:::amzn-s3-demo-bucket/reports/2026-11-19.csv', 'arn:aws:s3:::amzn-s3-demo-bucket']);
  });

  test('a secret read by ARN names the secret; a KMS call names its key', () => {
    // Act & Assess
    expect(resourcesOfRecord(cloudTrailRecord('iam-user-boto3'))).toEqual([
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:reporting/db-AbCdEf',
    ]);
    expect(resourcesOfRecord(cloudTrailRecord('invoked-by-service'))).toEqual([
      'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    ]);
  });

  test.each([
    [
      'sts.amazonaws.com',
      'AssumeRole',
      { roleArn: 'arn:aws:iam::111122223333:role/deployer', roleSessionName: 's' },
      'arn:aws:iam::111122223333:role/deployer',
    ],
    [
      'sns.amazonaws.com',
      'Publish',
      { topicArn: 'arn:aws:sns:us-east-1:111122223333:alerts', message: 'hello' },
      'arn:aws:sns:us-east-1:111122223333:alerts',
    ],
    [
      'sqs.amazonaws.com',
      'SendMessage',
      { queueUrl: 'https://sqs.us-east-1.amazonaws.com/444455556666/jobs.fifo' },
      'arn:aws:sqs:us-east-1:444455556666:jobs.fifo',
    ],
    [
      'dynamodb.amazonaws.com',
      'GetItem',
      { tableName: 'orders', key: { id: { S: '1' } } },
      'arn:aws:dynamodb:us-east-1:111122223333:table/orders',
    ],
    ['lambda.amazonaws.com', 'Invoke', { functionName: 'resize' }, 'arn:aws:lambda:us-east-1:111122223333:function:resize'],
    [
      'ssm.amazonaws.com',
      'GetParameter',
      { name: '/app/db-host', withDecryption: true },
      'arn:aws:ssm:us-east-1:111122223333:parameter/app/db-host',
    ],
  ] as const)('%s %s names its resource by ARN, and nothing else of the request', (eventSource, eventName, parameters, arn) => {
    // Act
    const resources = resourcesOfRecord(recordOf(eventSource, eventName, parameters));

    // Assess
    expect(resources).toEqual([arn]);
  });

  test('a secret named without its ARN is not guessed: its ARN ends in a suffix the record does not give', () => {
    // Act & Assess
    expect(resourcesOfRecord(recordOf('secretsmanager.amazonaws.com', 'GetSecretValue', { secretId: 'reporting/db' }))).toEqual([]);
  });

  test(`a record naming many resources keeps the first ${MAX_RESOURCES_PER_CALL}`, () => {
    // Prepare
    const record = {
      ...recordOf('s3.amazonaws.com', 'DeleteObjects', {}),
      resources: Array.from({ length: 50 }, (_, index) => ({ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::bucket/${index}` })),
    };

    // Act
    const resources = resourcesOfRecord(record);

    // Assess
    expect(resources).toHaveLength(MAX_RESOURCES_PER_CALL);
    expect(resources[0]).toBe('arn:aws:s3:::bucket/0');
  });

  test('the parser keeps resources only when asked: the rotation’s reads hold no resource names', () => {
    // Prepare
    const record = cloudTrailRecord('data-event-s3-getobject');

    // Act
    const plain = parseCloudTrailRecord(record);
    const withResources = parseCloudTrailRecord(record, { resources: true });

    // Assess
    expect(plain).not.toHaveProperty('resources');
    expect(withResources?.resources).toEqual([
      'arn:aws:s3:::amzn-s3-demo-bucket/reports/2026-11-19.csv',
      'arn:aws:s3:::amzn-s3-demo-bucket',
    ]);
  });
});
