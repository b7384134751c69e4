import type { AwsSecurityFinding } from '../aws/security-hub.ts';

/**
 * One Security Hub finding per access key, in the AWS Security Finding Format (ASFF), so a security
 * team sees in Security Hub what the rotator knows: keys due and overdue, unused, exempt (until when),
 * rotations that need a person, and contained leaks. The finding id derives from account, user and
 * key, so every import of the same key updates one finding (BatchImportFindings is an upsert by
 * ProductArn + Id); when the key is rotated or deleted the finding is archived, so Security Hub shows
 * progress rather than a growing pile. Never a secret: ids, names, dates, the owner, a command.
 *
 * AWS (Security Hub API reference, BatchImportFindings): a provider cannot change Workflow, Note,
 * UserDefinedFields or VerificationState of a finding it already created, and updates Severity and
 * Types through FindingProviderFields; the account that calls must be the finding's AwsAccountId (the
 * default product ARN). A finding that no longer applies is archived (RecordState ARCHIVED), and
 * Compliance.Status PASSED says the key now meets the rotation rule. RESOLVED is set only where the
 * provider may set it, on a finding's first import.
 */

export const GENERATOR_ID = 'iam-key-rotator';

/** What a key's finding says, from the scan or the workflow. */
export type KeyFindingState =
  'due-soon' | 'due' | 'overdue' | 'unused' | 'exempt' | 'needs-attention' | 'rotation-failed' | 'compromised' | 'resolved';

export interface KeyFindingFact {
  readonly state: KeyFindingState;
  readonly accountId: string;
  readonly region: string;
  readonly partition?: string;
  readonly userName: string;
  readonly accessKeyId: string;
  readonly owner: string | null;
  /** When the key was created (ISO): the finding's CreatedAt, the same on every import. */
  readonly keyCreatedAt: string | null;
  readonly keyStatus?: 'Active' | 'Inactive';
  /** A sentence on why (the scan's reason, the workflow's cause). */
  readonly detail: string;
  readonly exemptUntil?: string | null;
  /** The rotation's execution, linked from the finding. */
  readonly executionArn?: string | null;
  /** The command that deals with it, for the remediation text. */
  readonly remedy: string;
}

const SEVERITY: Record<KeyFindingState, 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL'> = {
  'due-soon': 'LOW',
  due: 'MEDIUM',
  overdue: 'HIGH',
  unused: 'MEDIUM',
  exempt: 'INFORMATIONAL',
  'needs-attention': 'MEDIUM',
  'rotation-failed': 'HIGH',
  compromised: 'CRITICAL',
  resolved: 'INFORMATIONAL',
};

const TITLE: Record<KeyFindingState, (fact: KeyFindingFact) => string> = {
  'due-soon': (f) => `Access key of ${f.userName} is due for rotation soon`,
  due: (f) => `Access key of ${f.userName} is past its rotation window; its rotation is starting`,
  overdue: (f) => `Access key of ${f.userName} is past its rotation window and not rotating`,
  unused: (f) => `Access key of ${f.userName} is unused`,
  exempt: (f) => `Access key of ${f.userName} is exempt from rotation${f.exemptUntil ? ` until ${f.exemptUntil}` : ''}`,
  'needs-attention': (f) => `Rotation of the access key of ${f.userName} needs attention`,
  'rotation-failed': (f) => `Rotation of the access key of ${f.userName} failed`,
  compromised: (f) => `Leaked access key of ${f.userName} contained`,
  resolved: (f) => `Access key of ${f.userName} rotated or removed`,
};

const COMPLIANCE: Record<KeyFindingState, 'PASSED' | 'WARNING' | 'FAILED'> = {
  'due-soon': 'WARNING',
  due: 'FAILED',
  overdue: 'FAILED',
  unused: 'WARNING',
  exempt: 'WARNING',
  'needs-attention': 'FAILED',
  'rotation-failed': 'FAILED',
  compromised: 'FAILED',
  resolved: 'PASSED',
};

export function findingId(accountId: string, userName: string, accessKeyId: string): string {
  return `${GENERATOR_ID}/${accountId}/${userName}/${accessKeyId}`;
}

export function productArn(partition: string, region: string, accountId: string): string {
  return `arn:${partition}:securityhub:${region}:${accountId}:product/${accountId}/default`;
}

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

function executionUrl(executionArn: string): string {
  const region = executionArn.split(':')[3] ?? 'us-east-1';
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/** The ASFF finding for one key, at `now`. Limits from the ASFF reference: Title 256, Description 1,024, Recommendation.Text 512, ProductFields values 2,048. */
export function keyFinding(fact: KeyFindingFact, now: Date): AwsSecurityFinding {
  const partition = fact.partition ?? 'aws';
  const resolved = fact.state === 'resolved';
  const updatedAt = now.toISOString();
  const types = [fact.state === 'compromised' ? 'TTPs/Credential Access' : 'Software and Configuration Checks/AWS Security Best Practices'];
  return {
    SchemaVersion: '2018-10-08',
    Id: findingId(fact.accountId, fact.userName, fact.accessKeyId),
    ProductArn: productArn(partition, fact.region, fact.accountId),
    GeneratorId: GENERATOR_ID,
    AwsAccountId: fact.accountId,
    Types: types,
    CreatedAt: fact.keyCreatedAt ?? updatedAt,
    UpdatedAt: updatedAt,
    Severity: { Label: SEVERITY[fact.state] },
    // Where a provider updates severity and types after the first import; top-level Severity and Types
    // are required on creation and then belong to the people who triage (BatchImportFindings reference).
    FindingProviderFields: { Severity: { Label: SEVERITY[fact.state], Original: fact.state }, Types: types },
    Title: clip(TITLE[fact.state](fact), 256),
    Description: clip(
      `IAM user ${fact.userName}, access key ${fact.accessKeyId}, account ${fact.accountId}, ${fact.region}. ${fact.detail}`,
      1024,
    ),
    Remediation: { Recommendation: { Text: clip(fact.remedy, 512) } },
    ...(fact.executionArn ? { SourceUrl: executionUrl(fact.executionArn) } : {}),
    ProductFields: {
      'iam-key-rotator/State': fact.state,
      'iam-key-rotator/UserName': fact.userName,
      'iam-key-rotator/AccessKeyId': fact.accessKeyId,
      'iam-key-rotator/Owner': fact.owner ?? 'unknown',
      ...(fact.exemptUntil ? { 'iam-key-rotator/ExemptUntil': fact.exemptUntil } : {}),
      ...(fact.executionArn ? { 'iam-key-rotator/Execution': fact.executionArn } : {}),
    },
    Resources: [
      {
        Type: 'AwsIamAccessKey',
        Id: fact.accessKeyId,
        Partition: partition,
        Region: fact.region,
        Details: {
          AwsIamAccessKey: {
            PrincipalName: fact.userName,
            PrincipalType: 'IAMUser',
            ...(fact.keyStatus ? { Status: fact.keyStatus } : {}),
            ...(fact.keyCreatedAt ? { CreatedAt: fact.keyCreatedAt } : {}),
          },
        },
      },
    ],
    Compliance: { Status: COMPLIANCE[fact.state] },
    RecordState: resolved ? 'ARCHIVED' : 'ACTIVE',
    ...(resolved ? { Workflow: { Status: 'RESOLVED' } } : {}),
  };
}

/** ASFF's required top-level attributes (ASFF reference, "Required top-level attributes"). */
const REQUIRED = [
  'SchemaVersion',
  'Id',
  'ProductArn',
  'GeneratorId',
  'AwsAccountId',
  'Types',
  'CreatedAt',
  'UpdatedAt',
  'Severity',
  'Title',
  'Description',
  'Resources',
];

/**
 * What Security Hub would refuse in a finding: a missing required attribute or a value past its
 * limit. moto accepts any finding, so the writer checks here what AWS checks there.
 */
export function asffProblems(finding: AwsSecurityFinding): string[] {
  const problems = REQUIRED.filter((name) => finding[name] === undefined || finding[name] === '').map((name) => `${name} is missing`);
  const text = (name: string, max: number): void => {
    const value = finding[name];
    if (typeof value === 'string' && value.length > max) problems.push(`${name} is longer than ${max} characters`);
  };
  text('Id', 512);
  text('GeneratorId', 512);
  text('Title', 256);
  text('Description', 1024);
  const resources = finding.Resources;
  if (!Array.isArray(resources) || resources.length === 0 || resources.length > 32) problems.push('Resources must hold 1 to 32 resources');
  const fields = finding.ProductFields as Record<string, unknown> | undefined;
  if (fields && Object.keys(fields).length > 50) problems.push('ProductFields holds more than 50 fields');
  return problems;
}
