import { describe, expect, test } from '@jest/globals';
import { migrationChecklist } from '#shared/usage/migration.ts';
import { proposeTrust } from '#shared/usage/trust-proposal.ts';

const ACCOUNT = { accountId: '111122223333', partition: 'aws' };

describe('migrationChecklist', () => {
  test('policy first, each consumer onto its role, then quiet, deactivate, and only then delete', () => {
    // Act
    const steps = migrationChecklist({
      userName: 'billing-export',
      accessKeyIds: ['AKIAIOSFODNN7EXAMPLE'],
      policyFile: 'policy.json',
      moves: [
        {
          consumer: '198.51.100.7 aws-cli/2',
          trustFile: 'trust-a.json',
          trust: proposeTrust({ kind: 'outside-aws', evidence: '' }, ACCOUNT),
          actions: ['s3:GetObject'],
        },
        {
          consumer: '203.0.113.40 aws-sdk-js/3',
          trustFile: 'trust-b.json',
          trust: proposeTrust({ kind: 'aws-service', service: 'lambda.amazonaws.com', evidence: '' }, ACCOUNT),
          actions: ['s3:GetObject', 'sqs:SendMessage'],
        },
      ],
      blindSpots: ['management events only'],
    });

    // Assess
    expect(steps).toHaveLength(7);
    expect(steps[0]).toMatch(
      /^Review policy\.json.*aws iam create-policy --policy-name billing-export-least-privilege --policy-document file:\/\/policy\.json$/,
    );
    expect(steps[1]).toMatch(
      /^198\.51\.100\.7 aws-cli\/2 → IAM Roles Anywhere\. It used only s3:GetObject: .*Fill in first: <CERTIFICATE-COMMON-NAME>.*file:\/\/trust-a\.json/,
    );
    expect(steps[2]).toMatch(
      /^203\.0\.113\.40 aws-sdk-js\/3 → Lambda execution role\. Create the role: .*--role-name billing-export-consumer-2/,
    );
    expect(steps[2]).not.toMatch(/It used only/);
    expect(steps[3]).toMatch(/iam-key-rotator consumers billing-export/);
    expect(steps[4]).toMatch(/iam-key-rotator retire billing-export --key AKIAIOSFODNN7EXAMPLE/);
    expect(steps[5]).toMatch(/^Once every key is retired, delete the user/);
    expect(steps[6]).toBe('The evidence could not see: management events only.');
  });

  test('roles the key assumes must trust the new roles before the switch', () => {
    // Act
    const steps = migrationChecklist({
      userName: 'deployer',
      accessKeyIds: [],
      policyFile: 'policy.json',
      moves: [],
      blindSpots: [],
      assumedRoles: ['arn:aws:iam::111122223333:role/deploy'],
    });

    // Assess
    expect(steps[1]).toMatch(/^The key assumes arn:aws:iam::111122223333:role\/deploy: each role's trust policy must allow the new roles/);
    expect(steps[3]).toMatch(/\(the user has no keys\)/);
  });
});
