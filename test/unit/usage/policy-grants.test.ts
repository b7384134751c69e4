import { describe, expect, test } from '@jest/globals';
import { actionMatches } from '#shared/aws/iam-action.ts';
import { compareGrants, decodePolicyDocument, grantsOf, type PolicySource } from '#shared/usage/policy-grants.ts';

function source(kind: PolicySource['kind'], name: string, statements: unknown, extra: Partial<PolicySource> = {}): PolicySource {
  return { kind, name, document: JSON.stringify({ Version: '2012-10-17', Statement: statements }), ...extra };
}

describe('grantsOf', () => {
  test('reads attached, inline and group policies, URL-encoded as IAM returns them or plain, one statement or many', () => {
    // Prepare
    const sources: PolicySource[] = [
      {
        kind: 'attached',
        name: 'Reads',
        arn: 'arn:aws:iam::111122223333:policy/Reads',
        document: encodeURIComponent(
          JSON.stringify({ Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*' }] }),
        ),
      },
      source('inline', 'tables', { Effect: 'Allow', Action: 'dynamodb:Get*', Resource: '*' }),
      source('group-inline', 'queues', [{ Effect: 'Deny', Action: 'sqs:DeleteQueue', Resource: '*' }], { group: 'ops' }),
    ];

    // Act
    const { grants, problems } = grantsOf(sources);

    // Assess
    expect(problems).toEqual([]);
    expect(grants).toEqual([
      { action: 's3:GetObject', effect: 'Allow', notAction: false, policy: 'managed Reads' },
      { action: 's3:ListBucket', effect: 'Allow', notAction: false, policy: 'managed Reads' },
      { action: 'dynamodb:Get*', effect: 'Allow', notAction: false, policy: 'inline tables' },
      { action: 'sqs:DeleteQueue', effect: 'Deny', notAction: false, policy: 'group ops: inline queues' },
    ]);
  });

  test('a document that cannot be read is named, and the others are still compared', () => {
    // Act
    const { grants, problems } = grantsOf([
      { kind: 'inline', name: 'broken', document: '%7Bnot json' },
      { kind: 'inline', name: 'empty', document: '{}' },
      source('inline', 'ok', [{ Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }]),
    ]);

    // Assess
    expect(problems).toEqual([
      'inline broken: the document is not JSON; its grants were not compared',
      'inline empty: the document has no Statement; its grants were not compared',
    ]);
    expect(grants.map((grant) => grant.action)).toEqual(['sns:Publish']);
  });

  test('decodePolicyDocument takes URL-encoded and plain JSON alike', () => {
    // Act & Assess
    expect(decodePolicyDocument('%7B%22a%22%3A1%7D')).toEqual({ a: 1 });
    expect(decodePolicyDocument(' {"a":1}')).toEqual({ a: 1 });
  });
});

describe('compareGrants', () => {
  const { grants } = grantsOf([
    source('attached', 'App', [
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 'S3:ListBucket'], Resource: '*' },
      { Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' },
      { Effect: 'Allow', Action: 'sqs:Send*', Resource: '*' },
    ]),
    source('inline', 'extra', { Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }),
  ]);

  test('literal grants never used are listed with every policy granting them; used ones apart, case-insensitively', () => {
    // Act
    const comparison = compareGrants(grants, ['s3:GetObject', 's3:ListBucket', 'sqs:SendMessage']);

    // Assess
    expect(comparison.unused).toEqual([{ action: 's3:PutObject', policies: ['inline extra', 'managed App'] }]);
    expect(comparison.used.map((entry) => entry.action)).toEqual(['s3:GetObject', 'S3:ListBucket']);
  });

  test('wildcard grants are reported as written with the used actions they cover, never expanded', () => {
    // Act
    const comparison = compareGrants(grants, ['sqs:SendMessage', 's3:GetObject']);

    // Assess
    expect(comparison.wildcards).toEqual([
      { pattern: 'dynamodb:*', policies: ['managed App'], covers: [] },
      { pattern: 'sqs:Send*', policies: ['managed App'], covers: ['sqs:SendMessage'] },
    ]);
  });

  test('a used action no policy covers is named, but not one that needs no permission', () => {
    // Act
    const comparison = compareGrants(grants, ['kms:Decrypt', 'sts:GetCallerIdentity']);

    // Assess
    expect(comparison.notGranted).toEqual(['kms:Decrypt']);
  });

  test('a NotAction grant is reported as such, and covers everything but its exceptions', () => {
    // Prepare
    const notAction = grantsOf([source('inline', 'broad', { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' })]).grants;

    // Act
    const comparison = compareGrants(notAction, ['s3:GetObject', 'iam:CreateUser']);

    // Assess
    expect(comparison.notActions).toEqual([{ policy: 'inline broad', except: ['iam:*'] }]);
    expect(comparison.notGranted).toEqual(['iam:CreateUser']);
  });

  test('an unused grant whose calls the sources could not see says so', () => {
    // Act
    const comparison = compareGrants(grants, [], { unseen: (action) => (action === 's3:GetObject' ? 'a data event' : undefined) });

    // Assess
    expect(comparison.unused.find((entry) => entry.action === 's3:GetObject')).toEqual({
      action: 's3:GetObject',
      policies: ['managed App'],
      mayBeUnseen: 'a data event',
    });
    expect(comparison.unused.find((entry) => entry.action === 's3:PutObject')).not.toHaveProperty('mayBeUnseen');
  });

  test.each([
    ['s3:Get*', 's3:GetObject', true],
    ['s3:Get*', 's3:PutObject', false],
    ['*', 'kms:Decrypt', true],
    ['s3:GetObject?ersion', 's3:GetObjectVersion', true],
    ['S3:getobject', 's3:GetObject', true],
    ['s3:Get.bject', 's3:GetObject', false],
  ] as const)('%s matches %s: %s', (pattern, action, matches) => {
    // Act & Assess
    expect(actionMatches(pattern, action)).toBe(matches);
  });
});
