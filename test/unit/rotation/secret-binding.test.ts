import { describe, expect, test } from '@jest/globals';
import {
  bindingProblems,
  notBoundError,
  readGrants,
  sameKmsKey,
  type BindingRule,
  type SecretFacts,
} from '#shared/rotation/secret-binding.ts';

const KEY_ID = '0a1b2c3d-1111-2222-3333-444455556666';
const KEY_ARN = `arn:aws:kms:eu-west-1:123456789012:key/${KEY_ID}`;

describe('sameKmsKey: is the secret encrypted with the rotator’s key?', () => {
  test.each([
    ['the same ARN', KEY_ARN, KEY_ARN, true],
    ['a key id and its ARN', KEY_ARN, KEY_ID, true],
    ['an ARN and its key id', KEY_ID, KEY_ARN, true],
    ['two ARNs of the same id in other accounts', KEY_ARN, `arn:aws:kms:eu-west-1:210987654321:key/${KEY_ID}`, false],
    ['another key', KEY_ARN, 'arn:aws:kms:eu-west-1:123456789012:key/dead0000-beef-0000-0000-000000000000', false],
    ['the AWS managed key (field omitted) for a customer key', KEY_ARN, undefined, false],
    ['an alias, not resolved', KEY_ARN, 'arn:aws:kms:eu-west-1:123456789012:alias/iam-key-rotator-prod', false],
    ['the same alias text', 'alias/iam-key-rotator-prod', 'alias/iam-key-rotator-prod', true],
    ['the AWS managed key expected, field omitted', '', undefined, true],
    ['the AWS managed key expected, its alias ARN', '', 'arn:aws:kms:eu-west-1:123456789012:alias/aws/secretsmanager', true],
    ['the AWS managed key expected, a customer key', '', KEY_ARN, false],
  ])('%s', (_case, expected, actual, same) => {
    // Act & Assess
    expect(sameKmsKey(expected, actual)).toBe(same);
  });
});

const policy = (...statements: object[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });

describe('readGrants: resource policy statements that let a principal read the secret', () => {
  test.each([
    ['GetSecretValue', policy({ Sid: 'Read', Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue' }), ['Sid Read']],
    ['a wildcard, in another case', policy({ Effect: 'Allow', Principal: '*', Action: ['SecretsManager:Get*'] }), ['statement 1']],
    ['every action', policy({ Effect: 'Allow', Principal: '*', Action: '*' }), ['statement 1']],
    [
      'PutResourcePolicy, which lets its holder grant itself read',
      policy({ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:PutResourcePolicy' }),
      ['statement 1'],
    ],
    [
      'NotAction that leaves read allowed',
      policy({ Effect: 'Allow', Principal: '*', NotAction: 'secretsmanager:DeleteSecret' }),
      ['statement 1'],
    ],
    [
      'a single statement, not an array',
      JSON.stringify({ Statement: { Sid: 'One', Effect: 'Allow', Action: 'secretsmanager:*' } }),
      ['Sid One'],
    ],
    ['a policy that is not JSON', '{', ['a resource policy that is not valid JSON']],
    ['DescribeSecret only', policy({ Effect: 'Allow', Principal: '*', Action: 'secretsmanager:DescribeSecret' }), []],
    ['a Deny', policy({ Effect: 'Deny', Principal: '*', Action: '*' }), []],
    [
      'NotAction that excludes every read action',
      policy({ Effect: 'Allow', Principal: '*', NotAction: ['secretsmanager:GetSecretValue', 'secretsmanager:PutResourcePolicy'] }),
      [],
    ],
  ])('%s', (_case, text, grants) => {
    // Act & Assess
    expect(readGrants(text)).toEqual(grants);
  });
});

const RULE: BindingRule = {
  userName: 'alice',
  secretName: 'iam-key-rotator/alice',
  defaultName: 'iam-key-rotator/alice',
  expectedKmsKeyId: KEY_ARN,
};
const OURS = new Map([
  ['managed-by', 'iam-key-rotator'],
  ['iam-user', 'alice'],
]);
const facts = (overrides: Partial<SecretFacts>): SecretFacts => ({
  exists: true,
  tags: OURS,
  kmsKeyId: KEY_ARN,
  resourcePolicy: undefined,
  ...overrides,
});
const kinds = (secretFacts: SecretFacts, rule: BindingRule = RULE) => bindingProblems(secretFacts, rule).map((problem) => problem.kind);

describe('bindingProblems: may this secret receive the user’s key?', () => {
  const TAGGED: BindingRule = { ...RULE, secretName: 'iam-key-rotator/billing/aws-key' };

  test.each([
    ['a secret that does not exist yet (the rotator creates it)', facts({ exists: false, tags: new Map(), kmsKeyId: 'other' }), RULE, []],
    ['the default secret, pre-created without tags, under the stack’s key', facts({ tags: new Map() }), RULE, []],
    ['a tag-named secret the rotator created for the user', facts({}), TAGGED, []],
    ['a tag-named secret without the rotator’s tags', facts({ tags: new Map() }), TAGGED, ['not-created-for-user']],
    [
      'a tag-named secret tagged managed-by only',
      facts({ tags: new Map([['managed-by', 'iam-key-rotator']]) }),
      TAGGED,
      ['not-created-for-user'],
    ],
    ['a secret whose iam-user tag names another user', facts({ tags: new Map([['iam-user', 'bob']]) }), RULE, ['bound-to-other-user']],
    ['another KMS key', facts({ kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/other' }), RULE, ['foreign-kms-key']],
    ['the AWS managed key where the stack’s key is expected', facts({ kmsKeyId: undefined }), RULE, ['foreign-kms-key']],
    [
      'a read grant in its resource policy',
      facts({ resourcePolicy: policy({ Effect: 'Allow', Principal: '*', Action: '*' }) }),
      RULE,
      ['readable-by-others'],
    ],
    [
      'all at once',
      facts({ tags: new Map(), kmsKeyId: undefined, resourcePolicy: policy({ Effect: 'Allow', Action: '*' }) }),
      TAGGED,
      ['not-created-for-user', 'foreign-kms-key', 'readable-by-others'],
    ],
  ])('%s', (_case, secretFacts, rule, expected) => {
    // Act & Assess
    expect(kinds(secretFacts, rule)).toEqual(expected);
  });

  test('the refusal names the secret, each problem and its fix, and is a SecretNotBoundError', () => {
    // Prepare
    const rule = { ...TAGGED, secretName: 'iam-key-rotator/attacker-dropbox' };
    const problems = bindingProblems(facts({ tags: new Map(), kmsKeyId: undefined }), rule);

    // Act
    const error = notBoundError(rule, problems);

    // Assess
    expect(error.name).toBe('SecretNotBoundError');
    expect(error.secretName).toBe('iam-key-rotator/attacker-dropbox');
    expect(error.message).toMatch(/^Secret iam-key-rotator\/attacker-dropbox is not bound to IAM user alice/);
    expect(error.message).toContain('the rotator did not create it for alice');
    expect(error.message).toContain('remove the rotation:secret-name tag to use iam-key-rotator/alice');
    expect(error.message).toContain(`--kms-key-id ${KEY_ARN}`);
    expect(error.message).toContain('No new key was created and nothing was written to the secret');
  });
});
