import { MAX_TARGET_LENGTH } from './key-calls.ts';

/**
 * The resources a CloudTrail record says its call acted on, as ARNs, for `iam-key-rotator usage`
 * (which proposes a policy scoped to them). Read only on request (readCloudTrailRecord's
 * `resources` option): the rotation's steps never keep them, since a resource name (an object key, a
 * table) says more about a consumer than its notices need.
 *
 * Two places name a resource: the record's `resources[]` (CloudTrail fills it for many data and
 * management events, "CloudTrail record contents"), and a few well-known request parameters, which
 * are the only parameters read: S3's bucketName and key, roleArn, topicArn, queueUrl, tableName,
 * functionName, an ARN-shaped secretId or keyId, and SSM's parameter name. Nothing else of the
 * request (a policy document, a secret's value, a message body) is looked at.
 */

/** A record naming more resources than this (a DeleteObjects of a thousand keys) keeps the first ones. */
export const MAX_RESOURCES_PER_CALL = 20;

type Json = Readonly<Record<string, unknown>>;

export function resourcesOfRecord(record: Json): string[] {
  const found: string[] = [];
  const add = (arn: string | undefined): void => {
    if (arn === undefined || !arn.startsWith('arn:') || arn.length > MAX_TARGET_LENGTH) return;
    if (!found.includes(arn) && found.length < MAX_RESOURCES_PER_CALL) found.push(arn);
  };
  if (Array.isArray(record.resources)) {
    for (const resource of record.resources as unknown[]) if (isObject(resource)) add(text(resource.ARN));
  }
  for (const arn of parameterArns(record)) add(arn);
  return found;
}

/** The ARNs the well-known request parameters name; an account or region the record does not give leaves a parameter unread. */
function parameterArns(record: Json): string[] {
  const parameters = record.requestParameters;
  if (!isObject(parameters)) return [];
  const service = (text(record.eventSource) ?? '').replace(/\.amazonaws\.com$/, '');
  const region = text(record.awsRegion);
  const account = text(record.recipientAccountId) ?? (isObject(record.userIdentity) ? text(record.userIdentity.accountId) : undefined);
  const partition = region?.startsWith('cn-') ? 'aws-cn' : region?.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  const arns: (string | undefined)[] = [];
  const arnParameter = (name: string): string | undefined => {
    const value = text(parameters[name]);
    return value?.startsWith('arn:') ? value : undefined;
  };
  arns.push(arnParameter('roleArn'), arnParameter('topicArn'), arnParameter('targetArn'));
  if (service === 's3') {
    const bucket = text(parameters.bucketName);
    const key = text(parameters.key);
    if (bucket !== undefined) {
      arns.push(`arn:${partition}:s3:::${bucket}`);
      if (key !== undefined) arns.push(`arn:${partition}:s3:::${bucket}/${key}`);
    }
  }
  const regional = region !== undefined && account !== undefined;
  const queueUrl = text(parameters.queueUrl);
  if (service === 'sqs' && queueUrl !== undefined) {
    // https://sqs.<region>.amazonaws.com/<account>/<name>: the URL holds the queue's own account and name.
    const match = /\/(\d{12})\/([\w-]{1,80}(?:\.fifo)?)$/.exec(queueUrl);
    if (match?.[1] !== undefined && match[2] !== undefined && region !== undefined)
      arns.push(`arn:${partition}:sqs:${region}:${match[1]}:${match[2]}`);
  }
  const table = text(parameters.tableName);
  if (service === 'dynamodb' && table !== undefined)
    arns.push(table.startsWith('arn:') ? table : regional ? `arn:${partition}:dynamodb:${region}:${account}:table/${table}` : undefined);
  const fn = text(parameters.functionName);
  if (service === 'lambda' && fn !== undefined)
    arns.push(fn.startsWith('arn:') ? fn : regional ? `arn:${partition}:lambda:${region}:${account}:function:${fn}` : undefined);
  // A secret named without its ARN has a random six-character suffix the record does not give: only an ARN is kept.
  if (service === 'secretsmanager') arns.push(arnParameter('secretId'));
  if (service === 'kms') arns.push(arnParameter('keyId'));
  const name = text(parameters.name);
  if (service === 'ssm' && name !== undefined && regional)
    arns.push(
      name.startsWith('arn:') ? name : `arn:${partition}:ssm:${region}:${account}:parameter${name.startsWith('/') ? '' : '/'}${name}`,
    );
  return arns.filter((arn): arn is string => arn !== undefined);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
