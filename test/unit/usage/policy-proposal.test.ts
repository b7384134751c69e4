import { describe, expect, test } from '@jest/globals';
import type { ActionUse } from '#shared/usage/key-usage.ts';
import { MANAGED_POLICY_MAX_CHARS, MAX_OBJECT_ARNS, proposePolicy } from '#shared/usage/policy-proposal.ts';

const BUCKET = 'arn:aws:s3:::reports';

function use(action: string, overrides: Partial<ActionUse> = {}): ActionUse {
  return {
    action,
    events: [`${action.split(':')[0]}.amazonaws.com ${action.split(':')[1]}`],
    allowed: 1,
    refused: 0,
    resources: [],
    withoutResource: 0,
    lastSeen: '2026-11-20T10:00:00.000Z',
    ...overrides,
  };
}

describe('proposePolicy', () => {
  test('actions grouped by service and resource list, on the ARNs seen; "*" only where forced, each with a note', () => {
    // Act
    const proposal = proposePolicy([
      use('s3:GetBucketLocation', { resources: [BUCKET] }),
      use('s3:GetObject', { resources: [`${BUCKET}/a.csv`] }),
      use('s3:ListAllMyBuckets'),
      use('s3:ListBucket', { resources: [BUCKET] }),
      use('sts:AssumeRole', { resources: ['arn:aws:iam::111122223333:role/deployer'] }),
      use('sts:GetCallerIdentity'),
    ]);

    // Assess
    expect(proposal.document).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'S3Used1', Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListBucket'], Resource: [BUCKET] },
        { Sid: 'S3Used2', Effect: 'Allow', Action: ['s3:GetObject'], Resource: [`${BUCKET}/a.csv`] },
        { Sid: 'S3Used3', Effect: 'Allow', Action: ['s3:ListAllMyBuckets'], Resource: ['*'] },
        { Sid: 'StsUsed1', Effect: 'Allow', Action: ['sts:AssumeRole'], Resource: ['arn:aws:iam::111122223333:role/deployer'] },
        { Sid: 'StsUsed2', Effect: 'Allow', Action: ['sts:GetCallerIdentity'], Resource: ['*'] },
      ],
    });
    expect(proposal.notes).toEqual([
      expect.stringMatching(/^s3:ListAllMyBuckets takes no resource ARN/),
      expect.stringMatching(/^sts:GetCallerIdentity takes no resource and needs no permission/),
    ]);
    expect(proposal.characters).toBe(JSON.stringify(proposal.document).length);
  });

  test('an action whose records named no resource is proposed on "*" with a note to scope it by hand', () => {
    // Act
    const proposal = proposePolicy([use('sqs:SendMessage')]);

    // Assess
    expect(proposal.document.Statement).toEqual([{ Sid: 'SqsUsed1', Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: ['*'] }]);
    expect(proposal.notes).toEqual([
      expect.stringMatching(/^sqs:SendMessage: no resource could be read from its records .* scope it by hand/),
    ]);
  });

  test('an action only ever refused is left out, and said so; one some of whose calls named no resource is noted', () => {
    // Act
    const proposal = proposePolicy([
      use('s3:PutObject', { allowed: 0, refused: 3 }),
      use('dynamodb:GetItem', { allowed: 4, withoutResource: 1, resources: ['arn:aws:dynamodb:eu-west-1:111122223333:table/orders'] }),
    ]);

    // Assess
    expect(proposal.document.Statement.map((statement) => statement.Action)).toEqual([['dynamodb:GetItem']]);
    expect(proposal.notes).toEqual([
      expect.stringMatching(/^s3:PutObject was refused 3 time\(s\) .* left out/),
      expect.stringMatching(/^dynamodb:GetItem: 1 of its 4 calls named no resource/),
    ]);
  });

  test(`more than ${MAX_OBJECT_ARNS} objects of one bucket stay listed, and a note suggests their deepest common folder; fewer get no note`, () => {
    // Prepare
    const many = Array.from({ length: MAX_OBJECT_ARNS + 1 }, (_, day) => `${BUCKET}/daily/2026-11-${String(day + 1).padStart(2, '0')}.csv`);

    // Act
    const suggested = proposePolicy([use('s3:GetObject', { resources: many })]);
    const listed = proposePolicy([use('s3:GetObject', { resources: many.slice(0, MAX_OBJECT_ARNS) })]);

    // Assess
    expect(suggested.document.Statement[0]?.Resource).toEqual(many);
    expect(suggested.notes).toEqual([
      expect.stringMatching(/21 objects of reports were used and are listed one by one; arn:aws:s3:::reports\/daily\/\* would cover them/),
    ]);
    expect(listed.document.Statement[0]?.Resource).toHaveLength(MAX_OBJECT_ARNS);
    expect(listed.notes).toEqual([]);
  });

  test('no allowed call: an empty policy, and a note that says why it cannot be used as it is', () => {
    // Act
    const proposal = proposePolicy([]);

    // Assess
    expect(proposal.document.Statement).toEqual([]);
    expect(proposal.notes).toEqual([expect.stringMatching(/^no allowed call was seen in the window/)]);
  });

  test('a policy over the managed-policy quota says so', () => {
    // Prepare
    const resources = Array.from({ length: 300 }, (_, n) => `arn:aws:dynamodb:eu-west-1:111122223333:table/table-number-${n}`);

    // Act
    const proposal = proposePolicy([use('dynamodb:GetItem', { resources })]);

    // Assess
    expect(proposal.characters).toBeGreaterThan(MANAGED_POLICY_MAX_CHARS);
    expect(proposal.notes.at(-1)).toMatch(/over the 6144 a managed policy may hold/);
  });
});
