import { describe, expect, test } from '@jest/globals';
import { iamActionsOf, isDataEventAction, isUnscoped, resourcesForAction, servicePrefixOf } from '#shared/usage/actions.ts';

describe('iamActionsOf', () => {
  test.each([
    ['s3.amazonaws.com', 'ListObjectsV2', ['s3:ListBucket']],
    ['s3.amazonaws.com', 'ListObjects', ['s3:ListBucket']],
    ['s3.amazonaws.com', 'HeadBucket', ['s3:ListBucket']],
    ['s3.amazonaws.com', 'ListBuckets', ['s3:ListAllMyBuckets']],
    ['s3.amazonaws.com', 'HeadObject', ['s3:GetObject']],
    ['s3.amazonaws.com', 'UploadPart', ['s3:PutObject']],
    ['s3.amazonaws.com', 'GetBucketLocation', ['s3:GetBucketLocation']],
    ['lambda.amazonaws.com', 'Invoke', ['lambda:InvokeFunction']],
    ['lambda.amazonaws.com', 'UpdateFunctionCode20150331v2', ['lambda:UpdateFunctionCode']],
    ['monitoring.amazonaws.com', 'PutMetricData', ['cloudwatch:PutMetricData']],
    ['sts.amazonaws.com', 'GetCallerIdentity', ['sts:GetCallerIdentity']],
    ['dynamodb.amazonaws.com', 'GetItem', ['dynamodb:GetItem']],
  ] as const)('%s %s needs %j', (eventSource, eventName, actions) => {
    // Act & Assess
    expect(iamActionsOf({ eventSource, eventName })).toEqual(actions);
  });

  test('a record without a source or a name needs nothing that can be named', () => {
    // Act & Assess
    expect(iamActionsOf({ eventSource: '', eventName: 'GetObject' })).toEqual([]);
    expect(iamActionsOf({ eventSource: 's3.amazonaws.com', eventName: '' })).toEqual([]);
    expect(servicePrefixOf('s3.amazonaws.com.cn')).toBe('s3');
  });
});

describe('resources and scope', () => {
  const OBJECT = 'arn:aws:s3:::reports/daily/1.csv';
  const BUCKET = 'arn:aws:s3:::reports';

  test('S3 checks an object action on the object and a bucket action on the bucket, though a record lists both', () => {
    // Act & Assess
    expect(resourcesForAction('s3:GetObject', [OBJECT, BUCKET])).toEqual([OBJECT]);
    expect(resourcesForAction('s3:ListBucket', [BUCKET])).toEqual([BUCKET]);
    expect(resourcesForAction('s3:GetBucketObjectLockConfiguration', [BUCKET])).toEqual([BUCKET]);
    expect(resourcesForAction('sts:AssumeRole', ['arn:aws:iam::111122223333:role/deployer'])).toEqual([
      'arn:aws:iam::111122223333:role/deployer',
    ]);
  });

  test.each([
    ['sts:GetCallerIdentity', true],
    ['s3:ListAllMyBuckets', true],
    ['ec2:DescribeInstances', true],
    ['s3:ListBucket', false],
    ['sts:AssumeRole', false],
  ] as const)('%s takes no resource: %s', (action, unscoped) => {
    // Act & Assess
    expect(isUnscoped(action)).toBe(unscoped);
  });

  test.each([
    ['s3:GetObject', true],
    ['s3:ListBucket', true],
    ['s3:GetBucketLocation', false],
    ['dynamodb:Query', true],
    ['dynamodb:DescribeTable', false],
    ['lambda:InvokeFunction', true],
    ['sqs:SendMessage', false],
  ] as const)('%s is a data event: %s', (action, data) => {
    // Act & Assess
    expect(isDataEventAction(action)).toBe(data);
  });
});
