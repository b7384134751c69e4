import { resourcesOfRecord } from './call-resources.ts';
import { MAX_TARGET_LENGTH, type KeyCall } from './key-calls.ts';

/**
 * One CloudTrail record → the KeyCall it tells about. The same JSON arrives three ways: as an element
 * of a log file's `Records` array (S3), as one log event's message (a trail delivered to CloudWatch
 * Logs), and as the `CloudTrailEvent` string of a LookupEvents event. Read leniently: CloudTrail adds
 * fields with every minor eventVersion and leaves out the ones that do not apply ("CloudTrail record
 * contents", AWS CloudTrail user guide), so only eventID, eventTime and userIdentity.accessKeyId are
 * required, and nothing but the KeyCall fields is kept: of requestParameters and responseElements
 * (which may quote secrets: a CreateAccessKey's secretAccessKey, an AssumeRole's sessionToken, a
 * CreateLoginProfile's password) only the names targetOf and createdKeyOf pick.
 */

/**
 * A record's call, or why it has none: `unreadable` when the record itself is broken (not JSON, no
 * eventID or eventTime), not when it is simply no call signed with an access key (a console sign-in).
 */
export type RecordReading = { readonly call: KeyCall } | { readonly skipped: string; readonly unreadable: boolean };

export interface RecordReadingOptions {
  /** Keep the resources the record names (KeyCall.resources): for `usage` only; the rotation never asks. */
  readonly resources?: boolean;
}

/** The KeyCall of one record (an object, or its JSON text), or undefined when it is not a call signed with an access key. */
export function parseCloudTrailRecord(raw: unknown, options: RecordReadingOptions = {}): KeyCall | undefined {
  const reading = readCloudTrailRecord(raw, options);
  return 'call' in reading ? reading.call : undefined;
}

/** As parseCloudTrailRecord, saying why a record gives no call (for scripts/check-cloudtrail-samples.ts and tests). */
export function readCloudTrailRecord(raw: unknown, options: RecordReadingOptions = {}): RecordReading {
  const record = typeof raw === 'string' ? parseJson(raw) : raw;
  if (!isObject(record)) return broken(typeof raw === 'string' ? 'not JSON' : 'not a JSON object');
  const identity = record.userIdentity;
  if (!isObject(identity)) return broken('no userIdentity');
  const accessKeyId = text(identity.accessKeyId);
  // A console sign-in, an AWS service acting on its own, a call from another account (type AWSAccount):
  // nothing was signed with an access key of this account, so there is no consumer to name.
  if (accessKeyId === undefined)
    return { skipped: `no userIdentity.accessKeyId (userIdentity.type ${text(identity.type) ?? 'absent'})`, unreadable: false };
  const eventId = text(record.eventID);
  if (eventId === undefined) return broken('no eventID');
  const eventTime = text(record.eventTime);
  if (eventTime === undefined) return broken('no eventTime');
  const at = new Date(eventTime);
  if (Number.isNaN(at.getTime())) return broken('eventTime is not a date');
  const invokedBy = text(identity.invokedBy);
  const eventName = text(record.eventName) ?? '';
  // Only a write's target: a read (ListAccessKeys of a user) tells nothing containment acts on.
  const target = READ_VERBS.test(eventName) ? undefined : targetOf(record.requestParameters);
  const createdAccessKeyId = createdKeyOf(record.responseElements);
  const sessionAccessKeyId = sessionKeyOf(record.responseElements);
  const passedRole = READ_VERBS.test(eventName) ? undefined : passedRoleOf(record.requestParameters);
  const resources = options.resources ? resourcesOfRecord(record) : undefined;
  return {
    call: {
      eventId,
      at,
      accessKeyId,
      // An AWS service calling on the key's behalf records its own name here (`lambda.amazonaws.com`);
      // an older record may leave the field out and name the service in invokedBy only.
      sourceIp: text(record.sourceIPAddress) ?? invokedBy ?? '',
      invokedBy,
      // CloudTrail truncates long user agents and leaves the field out for some service calls; S3 wraps
      // the CLI's in brackets. Kept as recorded: telling consumers apart is the reader's business.
      userAgent: text(record.userAgent) ?? '',
      eventSource: text(record.eventSource) ?? '',
      eventName,
      region: text(record.awsRegion) ?? '',
      errorCode: text(record.errorCode),
      category: categoryOf(record),
      ...(target === undefined ? {} : { target }),
      ...(createdAccessKeyId === undefined ? {} : { createdAccessKeyId }),
      ...(sessionAccessKeyId === undefined ? {} : { sessionAccessKeyId }),
      ...(passedRole === undefined ? {} : { passedRole }),
      ...(resources === undefined ? {} : { resources }),
    },
  };
}

/** The verbs AWS names its reads with. */
const READ_VERBS = /^(Get|List|Describe|Head|Lookup|BatchGet|Query|Scan|Search|Filter|Select|Generate|Simulate|Decode)/;

/**
 * The resource a write acted on, by the parameter names IAM and STS record: roleArn (AssumeRole),
 * roleName (CreateRole, UpdateAssumeRolePolicy, Attach/PutRolePolicy), userName (CreateUser,
 * CreateAccessKey, Create/UpdateLoginProfile, Attach/PutUserPolicy). Only these names are read.
 */
function targetOf(parameters: unknown): string | undefined {
  if (!isObject(parameters)) return undefined;
  const found = text(parameters.roleArn) ?? text(parameters.roleName) ?? text(parameters.userName);
  return found?.slice(0, MAX_TARGET_LENGTH);
}

/** responseElements.accessKey.accessKeyId of a CreateAccessKey (CloudTrail leaves the secret out; it is never read here). */
function createdKeyOf(elements: unknown): string | undefined {
  if (!isObject(elements) || !isObject(elements.accessKey)) return undefined;
  const id = text(elements.accessKey.accessKeyId);
  return id !== undefined && /^[A-Z0-9]{16,128}$/.test(id) ? id : undefined;
}

/** responseElements.credentials.accessKeyId of a call that opened a session (the sessionToken beside it is never read). */
function sessionKeyOf(elements: unknown): string | undefined {
  if (!isObject(elements) || !isObject(elements.credentials)) return undefined;
  const id = text(elements.credentials.accessKeyId);
  return id !== undefined && /^ASIA[A-Z0-9]{12,124}$/.test(id) ? id : undefined;
}

/**
 * The role a write passes to a service, by the parameter names the services record it under: `role`
 * (Lambda CreateFunction, UpdateFunctionConfiguration; Glue), `roleARN` (CloudFormation), `taskRoleArn`
 * and `executionRoleArn` (ECS), `serviceRole` (CodeBuild), `iamInstanceProfile.arn` or `.name` (EC2
 * RunInstances, AssociateIamInstanceProfile). `roleArn` is the call's target already (targetOf).
 */
function passedRoleOf(parameters: unknown): string | undefined {
  if (!isObject(parameters)) return undefined;
  const profile = isObject(parameters.iamInstanceProfile) ? parameters.iamInstanceProfile : undefined;
  const found =
    text(parameters.role) ??
    text(parameters.roleARN) ??
    text(parameters.taskRoleArn) ??
    text(parameters.executionRoleArn) ??
    text(parameters.serviceRole) ??
    (profile
      ? (text(profile.arn) ?? (text(profile.name) === undefined ? undefined : `instance profile ${text(profile.name) ?? ''}`))
      : undefined);
  return found?.slice(0, MAX_TARGET_LENGTH);
}

/**
 * eventCategory arrived with eventVersion 1.07; managementEvent (1.06) is the older way to tell a data
 * event, and a record with neither is from before data events existed, so a management event.
 */
function categoryOf(record: Readonly<Record<string, unknown>>): string {
  const category = text(record.eventCategory);
  if (category !== undefined) return category;
  return record.managementEvent === false ? 'Data' : 'Management';
}

function broken(skipped: string): RecordReading {
  return { skipped, unreadable: true };
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string, or undefined: CloudTrail writes "" and null as often as it leaves a field out. */
function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
