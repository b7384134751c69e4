import { randomUUID } from 'node:crypto';

/**
 * One CloudTrail record of a call signed with an IAM user's access key, in the shape AWS documents
 * ("CloudTrail record contents for management, data, and network activity events", CloudTrail User
 * Guide) and real records show. The local stand-in writes only what a call made with a long-term
 * user key yields: no session context, no `invokedBy`, no `tlsDetails` (moto speaks plain HTTP).
 */
export interface CloudTrailRecord {
  readonly eventVersion: string;
  readonly userIdentity: {
    readonly type: 'IAMUser';
    /** The user's unique id (GetUser's UserId). */
    readonly principalId: string;
    readonly arn: string;
    readonly accountId: string;
    readonly accessKeyId: string;
    readonly userName: string;
  };
  /** When the request was made, to the second, UTC. */
  readonly eventTime: string;
  readonly eventSource: string;
  readonly eventName: string;
  readonly awsRegion: string;
  readonly sourceIPAddress: string;
  readonly userAgent: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  /**
   * Null but for the names containment and `usage` read (shared/aws/cloudtrail-record.ts,
   * call-resources.ts): the role an AssumeRole targeted, the user a CreateAccessKey acted on, the bucket
   * and object key of an S3 call. Nothing else is written: a parameter can be a secret.
   */
  readonly requestParameters: RecordedParameters | null;
  /**
   * The S3 bucket (and object) a call acted on, as S3's records list them ("CloudTrail log file
   * entries for Amazon S3", S3 User Guide): absent for every other call, as the stand-in knows no other
   * service's resource types.
   */
  readonly resources?: readonly { readonly type: string; readonly ARN: string; readonly accountId?: string }[];
  /**
   * Null but for the id of the key a CreateAccessKey created (AWS leaves the secret out; so does this),
   * or of the session a GetSessionToken, GetFederationToken or AssumeRole opened (AWS also records the
   * session token; this leaves it out: nothing reads it).
   */
  readonly responseElements:
    | { readonly accessKey: { readonly accessKeyId: string } }
    | { readonly credentials: { readonly accessKeyId: string; readonly expiration?: string } }
    | null;
  readonly requestID: string;
  readonly eventID: string;
  readonly readOnly: boolean;
  readonly eventType: 'AwsApiCall';
  readonly managementEvent: boolean;
  readonly recipientAccountId: string;
  readonly eventCategory: 'Management' | 'Data';
}

/**
 * The request parameters the stand-in records: those AWS records under these names for AssumeRole and
 * CreateAccessKey, and the bucket and object key of an S3 call (S3 records them as bucketName and key).
 */
export interface RecordedParameters {
  readonly roleArn?: string;
  readonly userName?: string;
  readonly bucketName?: string;
  readonly key?: string;
}

/** The user behind a key, as IAM names it. */
export interface KeyOwner {
  readonly userName: string;
  /** GetUser's UserId: CloudTrail's principalId for an IAM user. */
  readonly userId: string;
  readonly arn: string;
  readonly accountId: string;
}

/** What the recorder saw of one request and its outcome. */
export interface ObservedCall {
  readonly at: Date;
  readonly accessKeyId: string;
  readonly owner: KeyOwner;
  /** The SigV4 signing name of the service, e.g. `sts`, `s3`. */
  readonly service: string;
  /** The SigV4 signing region. */
  readonly region: string;
  /** The SDK's command name without its `Command` suffix, e.g. `GetCallerIdentity`. */
  readonly operation: string;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly requestId: string | undefined;
  /** Set when the service refused the call after authenticating it. */
  readonly error?: { readonly code: string; readonly message: string | undefined };
  /** What the call acted on (recordedParameters). */
  readonly parameters?: RecordedParameters;
  /** The key a CreateAccessKey created (its id only). */
  readonly createdAccessKeyId?: string;
  /** The session a GetSessionToken, GetFederationToken or AssumeRole opened (its key id and expiry only). */
  readonly session?: { readonly accessKeyId: string; readonly expiration?: string };
}

/**
 * The parameters CloudTrail would record that containment reads, from the SDK command's input: the
 * target role of an AssumeRole, the user of a CreateAccessKey. Only those names are copied; every
 * other field of the input (a policy document, a session policy, a password) is left behind.
 */
export function recordedParameters(operation: string, input: unknown): RecordedParameters | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const field = (name: string): string | undefined => {
    const value = (input as Readonly<Record<string, unknown>>)[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  if (operation === 'AssumeRole') {
    const roleArn = field('RoleArn');
    return roleArn === undefined ? undefined : { roleArn };
  }
  if (operation === 'CreateAccessKey') {
    const userName = field('UserName');
    return userName === undefined ? undefined : { userName };
  }
  // S3's commands name their bucket `Bucket` and their object `Key`; no other command the consumers send does.
  const bucketName = field('Bucket');
  if (bucketName !== undefined) {
    const key = field('Key');
    return { bucketName, ...(key === undefined ? {} : { key }) };
  }
  return undefined;
}

/** The resources an S3 record lists: the object (when the call named one), then its bucket with the bucket owner's account. */
function s3Resources(call: ObservedCall): CloudTrailRecord['resources'] {
  const bucket = call.service === 's3' ? call.parameters?.bucketName : undefined;
  if (bucket === undefined) return undefined;
  const key = call.parameters?.key;
  return [
    ...(key === undefined ? [] : [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` }]),
    { accountId: call.owner.accountId, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
  ];
}

/** The id of the key a CreateAccessKey output holds; never its SecretAccessKey. */
export function createdAccessKeyIdOf(operation: string, output: unknown): string | undefined {
  if (operation !== 'CreateAccessKey' || typeof output !== 'object' || output === null || !('AccessKey' in output)) return undefined;
  const key = output.AccessKey;
  if (typeof key !== 'object' || key === null || !('AccessKeyId' in key)) return undefined;
  return typeof key.AccessKeyId === 'string' ? key.AccessKeyId : undefined;
}

const SESSION_OPERATIONS = new Set(['GetSessionToken', 'GetFederationToken', 'AssumeRole']);

/** The key id and expiry of the session an STS output holds; never its SecretAccessKey or SessionToken. */
export function sessionOf(operation: string, output: unknown): ObservedCall['session'] {
  if (!SESSION_OPERATIONS.has(operation) || typeof output !== 'object' || output === null || !('Credentials' in output)) return undefined;
  const credentials = output.Credentials;
  if (typeof credentials !== 'object' || credentials === null || !('AccessKeyId' in credentials)) return undefined;
  if (typeof credentials.AccessKeyId !== 'string') return undefined;
  const expiration =
    'Expiration' in credentials && credentials.Expiration instanceof Date ? credentials.Expiration.toISOString() : undefined;
  return { accessKeyId: credentials.AccessKeyId, ...(expiration === undefined ? {} : { expiration }) };
}

/** The version the real STS and S3 records of IAM-user calls carry (CloudTrail raises it as fields are added). */
const EVENT_VERSION = '1.08';

/**
 * Operations CloudTrail logs as data events (CloudTrail User Guide, "Logging data events"): a trail
 * records them only when its event selectors ask for them, event history never. The services the
 * simulated consumers may plausibly call; every other operation is a management event.
 */
const DATA_EVENTS: Readonly<Record<string, (operation: string) => boolean>> = {
  s3: (operation) => /Object|MultipartUpload|UploadPart|^ListParts$/.test(operation),
  lambda: (operation) => operation === 'Invoke' || operation === 'InvokeWithResponseStream',
  dynamodb: (operation) =>
    /^(Get|Put|Delete|Update)Item$|^Batch(Get|Write)Item$|^Transact(Get|Write)Items$|^Query$|^Scan$|^ExecuteStatement$/.test(operation),
};

export function eventCategory(service: string, operation: string): 'Management' | 'Data' {
  return DATA_EVENTS[service]?.(operation) ? 'Data' : 'Management';
}

/** An approximation of CloudTrail's per-operation readOnly flag, by the verbs AWS uses for reads. */
export function isReadOnly(operation: string): boolean {
  return /^(Get|List|Describe|Head|Lookup|BatchGet|Query|Scan|Search|Filter|Select)/.test(operation);
}

/** CloudTrail writes eventTime to the second ("2021-07-29T13:02:53Z"). */
export function eventTime(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

export function cloudTrailRecord(call: ObservedCall): CloudTrailRecord {
  const category = eventCategory(call.service, call.operation);
  const resources = s3Resources(call);
  return {
    eventVersion: EVENT_VERSION,
    userIdentity: {
      type: 'IAMUser',
      principalId: call.owner.userId,
      arn: call.owner.arn,
      accountId: call.owner.accountId,
      accessKeyId: call.accessKeyId,
      userName: call.owner.userName,
    },
    eventTime: eventTime(call.at),
    eventSource: `${call.service}.amazonaws.com`,
    eventName: call.operation,
    awsRegion: call.region,
    sourceIPAddress: call.sourceIp,
    // S3 records the agent in brackets, as real S3 records show ("[aws-cli/2.2.23 … command/s3.ls]").
    userAgent: call.service === 's3' ? `[${call.userAgent}]` : call.userAgent,
    ...(call.error
      ? { errorCode: call.error.code, ...(call.error.message === undefined ? {} : { errorMessage: call.error.message }) }
      : {}),
    requestParameters: call.parameters ?? null,
    responseElements:
      call.createdAccessKeyId !== undefined
        ? { accessKey: { accessKeyId: call.createdAccessKeyId } }
        : call.session !== undefined
          ? { credentials: call.session }
          : null,
    requestID: call.requestId ?? randomUUID(),
    eventID: randomUUID(),
    readOnly: isReadOnly(call.operation),
    ...(resources === undefined ? {} : { resources }),
    eventType: 'AwsApiCall',
    managementEvent: category === 'Management',
    recipientAccountId: call.owner.accountId,
    eventCategory: category,
  };
}
