/**
 * From what CloudTrail calls an event to what IAM calls the permission it needs. Mostly they agree
 * (`dynamodb.amazonaws.com` `GetItem` is `dynamodb:GetItem`), but not always: S3 names several API
 * operations after one permission (ListObjectsV2 and HeadBucket need s3:ListBucket, HeadObject
 * s3:GetObject; "Amazon S3 API operations and permissions", S3 User Guide), Lambda's event names
 * carry an API version (`GetFunction20150331v2`) and its Invoke needs lambda:InvokeFunction, and a few
 * event sources are not the action prefix (`monitoring` is `cloudwatch`). What is not in these tables
 * is taken as it comes, which is right for most services.
 */

/** eventSource host → IAM action prefix, where they differ. */
const PREFIX_OF_SOURCE: Readonly<Record<string, string>> = {
  monitoring: 'cloudwatch',
  email: 'ses',
  'api.ecr': 'ecr',
  'api.pricing': 'pricing',
};

/** S3 operation → the permissions it needs (most operations need the permission of their own name). */
const S3_PERMISSIONS: Readonly<Record<string, readonly string[]>> = {
  ListBuckets: ['ListAllMyBuckets'],
  ListObjects: ['ListBucket'],
  ListObjectsV2: ['ListBucket'],
  HeadBucket: ['ListBucket'],
  ListObjectVersions: ['ListBucketVersions'],
  ListMultipartUploads: ['ListBucketMultipartUploads'],
  ListParts: ['ListMultipartUploadParts'],
  HeadObject: ['GetObject'],
  GetObjectAttributes: ['GetObject', 'GetObjectAttributes'],
  CreateMultipartUpload: ['PutObject'],
  UploadPart: ['PutObject'],
  CompleteMultipartUpload: ['PutObject'],
  // CopyObject also reads its source (s3:GetObject on it), which the record names only in a header.
  CopyObject: ['PutObject'],
  UploadPartCopy: ['PutObject'],
  DeleteObjects: ['DeleteObject'],
  AbortMultipartUpload: ['AbortMultipartUpload'],
};

const LAMBDA_PERMISSIONS: Readonly<Record<string, readonly string[]>> = {
  Invoke: ['InvokeFunction'],
  InvokeAsync: ['InvokeFunction'],
  InvokeWithResponseStream: ['InvokeFunction'],
};

/** The IAM action prefix of an event source: `s3.amazonaws.com` → `s3`. */
export function servicePrefixOf(eventSource: string): string {
  const host = eventSource.replace(/\.amazonaws\.com(\.cn)?$/, '');
  return PREFIX_OF_SOURCE[host] ?? host;
}

/** The IAM actions a call needed, `service:Action`, as IAM spells them. */
export function iamActionsOf(call: { readonly eventSource: string; readonly eventName: string }): string[] {
  const prefix = servicePrefixOf(call.eventSource);
  if (prefix === '' || call.eventName === '') return [];
  if (prefix === 's3') return (S3_PERMISSIONS[call.eventName] ?? [call.eventName]).map((name) => `s3:${name}`);
  if (prefix === 'lambda') {
    // Lambda records the API version in the event name: CreateFunction20150331, UpdateFunctionCode20150331v2.
    const name = call.eventName.replace(/\d{8}(v\d+)?$/, '');
    return (LAMBDA_PERMISSIONS[name] ?? [name]).map((action) => `lambda:${action}`);
  }
  return [`${prefix}:${call.eventName}`];
}

/**
 * Actions that take no resource ARN at all (the Service Authorization Reference lists no resource
 * type for them): a policy can only grant them on "*", whatever the records say. Those the consumers
 * of an access key commonly call; an action not listed here with no resource in its records gets
 * "*" and a note to scope it by hand.
 */
const UNSCOPED: ReadonlySet<string> = new Set([
  'sts:GetCallerIdentity',
  'sts:GetSessionToken',
  'sts:DecodeAuthorizationMessage',
  'sts:GetAccessKeyInfo',
  's3:ListAllMyBuckets',
  'cloudtrail:LookupEvents',
  'cloudwatch:PutMetricData',
  'cloudwatch:GetMetricData',
  'cloudwatch:ListMetrics',
  'iam:GenerateCredentialReport',
  'iam:GetCredentialReport',
  'iam:GetAccountAuthorizationDetails',
  'iam:GetAccountSummary',
  'iam:ListAccountAliases',
  'ecr:GetAuthorizationToken',
  'kms:ListKeys',
  'kms:ListAliases',
  'secretsmanager:ListSecrets',
  'secretsmanager:GetRandomPassword',
  'sns:ListTopics',
  'sqs:ListQueues',
  'dynamodb:ListTables',
  'lambda:ListFunctions',
  'ssm:DescribeParameters',
  'logs:DescribeLogGroups',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
]);

/** Whether IAM lets this action be granted only on "*" (EC2's Describe* too: none of them takes a resource). */
export function isUnscoped(action: string): boolean {
  return UNSCOPED.has(action) || /^ec2:Describe/.test(action);
}

/** Why an unscoped action needs "*", for the proposal's notes. */
export function unscopedReason(action: string): string {
  if (action === 'sts:GetCallerIdentity')
    return 'sts:GetCallerIdentity takes no resource and needs no permission (no policy can deny it); it is listed on "*" so the policy shows every call the consumer makes';
  return `${action} takes no resource ARN (Service Authorization Reference): IAM grants it on "*" only`;
}

/**
 * The resources of a call that an action of it is granted on. S3 checks bucket operations against
 * the bucket (`arn:aws:s3:::b`) and object operations against the object (`arn:aws:s3:::b/key`), and
 * its records list both for an object call; every other service's records name the resource the
 * permission is checked on.
 */
export function resourcesForAction(action: string, resources: readonly string[]): string[] {
  if (!action.startsWith('s3:')) return [...resources];
  const objectLevel = OBJECT_LEVEL_S3.test(action.slice(3));
  return resources.filter((arn) => {
    const match = /^arn:[\w-]+:s3:::([^/]+)(\/.*)?$/.exec(arn);
    if (!match) return true;
    return objectLevel === (match[2] !== undefined);
  });
}

/** S3 permissions checked on an object rather than a bucket (GetObjectVersion, PutObjectAcl… start so; GetBucketObjectLockConfiguration does not). */
const OBJECT_LEVEL_S3 =
  /^(GetObject|PutObject|DeleteObject|RestoreObject|AbortMultipartUpload|ListMultipartUploadParts|BypassGovernanceRetention|Replicate(Object|Delete|Tags))/;

/**
 * Actions whose calls CloudTrail logs as data events ("Logging data events", CloudTrail User Guide):
 * never in event history, in a trail only when its selectors ask for them. A grant of one that no
 * record shows may still be used, unless a trail that logs data events was read.
 */
export function isDataEventAction(action: string): boolean {
  const [service = '', name = ''] = action.split(':');
  if (service === 's3') return OBJECT_LEVEL_S3.test(name) || /^ListBucket(Versions|MultipartUploads)?$/.test(name);
  if (service === 'dynamodb')
    return /^(GetItem|PutItem|DeleteItem|UpdateItem|BatchGetItem|BatchWriteItem|ConditionCheckItem|Query|Scan|PartiQL\w+|GetRecords|GetShardIterator)$/.test(
      name,
    );
  if (service === 'lambda') return name === 'InvokeFunction';
  if (service === 'sns') return name === 'Publish';
  return false;
}

/** Actions that need no permission at all: no grant is missing when a call of one was allowed. */
export function needsNoPermission(action: string): boolean {
  return action === 'sts:GetCallerIdentity';
}
