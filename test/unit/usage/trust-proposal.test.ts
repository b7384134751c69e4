import { describe, expect, test } from '@jest/globals';
import { proposeTrust, trustFileName } from '#shared/usage/trust-proposal.ts';

const ACCOUNT = { accountId: '111122223333', partition: 'aws' };

describe('proposeTrust', () => {
  test('an AWS service gets that service’s role trust; ECS pinned to the account', () => {
    // Act
    const lambda = proposeTrust({ kind: 'aws-service', service: 'lambda.amazonaws.com', evidence: '' }, ACCOUNT);
    const ecs = proposeTrust({ kind: 'aws-service', service: 'ecs-tasks.amazonaws.com', evidence: '' }, ACCOUNT);

    // Assess
    expect(lambda.kind).toBe('Lambda execution role');
    expect(lambda.document.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect(lambda.placeholders).toEqual([]);
    expect(ecs.document.Statement[0]).toMatchObject({
      Principal: { Service: 'ecs-tasks.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } },
    });
  });

  test.each([
    [
      'github-actions',
      'token.actions.githubusercontent.com',
      'sts.amazonaws.com',
      /^repo:<OWNER>\/<REPOSITORY>:ref:refs\/heads\/<BRANCH>$/,
    ],
    ['gitlab', 'gitlab.com', 'https://gitlab.com', /^project_path:<GROUP>\/<PROJECT>:ref_type:branch:ref:<BRANCH>$/],
    [
      'circleci',
      'oidc.circleci.com/org/<CIRCLECI-ORG-ID>',
      '<CIRCLECI-ORG-ID>',
      /^org\/<CIRCLECI-ORG-ID>\/project\/<PROJECT-ID>\/user\/\*$/,
    ],
  ] as const)('%s gets OIDC federation through %s, its subject a placeholder to pin', (provider, host, audience, subject) => {
    // Act
    const trust = proposeTrust({ kind: 'ci', provider, evidence: '' }, ACCOUNT);

    // Assess
    const statement = trust.document.Statement[0];
    expect(statement?.Principal).toEqual({ Federated: `arn:aws:iam::111122223333:oidc-provider/${host}` });
    expect(statement?.Action).toBe('sts:AssumeRoleWithWebIdentity');
    expect(statement?.Condition?.StringEquals).toEqual({ [`${host}:aud`]: audience });
    expect(statement?.Condition?.StringLike?.[`${host}:sub`]).toMatch(subject);
    expect(trust.placeholders.join(' ')).toMatch(/never leave it "\*"/);
  });

  test('anything else gets IAM Roles Anywhere with the three actions it needs and a certificate-subject condition', () => {
    // Act
    const trust = proposeTrust({ kind: 'outside-aws', evidence: '' }, { accountId: '111122223333', partition: 'aws-us-gov' });

    // Assess
    expect(trust.kind).toBe('IAM Roles Anywhere');
    expect(trust.document.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'rolesanywhere.amazonaws.com' },
        Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
        Condition: {
          StringEquals: { 'aws:PrincipalTag/x509Subject/CN': '<CERTIFICATE-COMMON-NAME>' },
          ArnEquals: { 'aws:SourceArn': 'arn:aws-us-gov:rolesanywhere:<REGION>:111122223333:trust-anchor/<TRUST-ANCHOR-ID>' },
        },
      },
    ]);
    expect(trust.placeholders).toHaveLength(2);
  });
});

describe('trustFileName', () => {
  test('names the consumer in safe characters, and never twice the same', () => {
    // Prepare
    const taken = new Set(['trust-198.51.100.7_aws-cli-2.json']);

    // Act & Assess
    expect(trustFileName({ source: '198.51.100.7', agent: 'aws-cli/2' }, new Set())).toBe('trust-198.51.100.7_aws-cli-2.json');
    expect(trustFileName({ source: '198.51.100.7', agent: 'aws-cli/2' }, taken)).toBe('trust-198.51.100.7_aws-cli-2-2.json');
    expect(trustFileName({ source: '2001:db8::1', agent: 'billing-etl/4 aws-sdk-js/3' }, new Set())).toBe(
      'trust-2001-db8-1_billing-etl-4-aws-sdk-js-3.json',
    );
    expect(trustFileName({ source: '../..', agent: '/' }, new Set())).toBe('trust-_.json');
  });
});
