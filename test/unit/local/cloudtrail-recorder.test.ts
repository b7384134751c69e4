import { Readable } from 'node:stream';
import { beforeEach, describe, expect, test } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  ResourceAlreadyExistsException,
} from '@aws-sdk/client-cloudwatch-logs';
import { GetAccessKeyLastUsedCommand, GetUserCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CloudTrailRecorder, withLocalTrail } from '#local/cloudtrail-recorder.ts';
import type { CloudTrailRecord } from '#local/cloudtrail-record.ts';

const iamMock = mockClient(IAMClient);
const logsMock = mockClient(CloudWatchLogsClient);
// AWS's documentation example key: never a real one.
const KEY = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const USER_ARN = 'arn:aws:iam::123456789012:user/apps/reports-sync';
const AT = new Date('2026-11-30T08:15:42.345Z');

/** An STS client whose requests are answered by `answer` instead of the network. */
function stsAnswering(answer: () => Promise<{ status: number; body: string }>): STSClient {
  return new STSClient({
    region: 'us-east-1',
    credentials: KEY,
    maxAttempts: 3,
    requestHandler: {
      handle: async () => {
        const { status, body } = await answer();
        return {
          response: {
            statusCode: status,
            headers: { 'content-type': 'text/xml', 'x-amzn-requestid': 'req-1' },
            body: Readable.from([Buffer.from(body)]),
          },
        };
      },
    },
  });
}

const identityBody = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${USER_ARN}</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
const errorBody = (code: string, message: string): string =>
  `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`;
const DENIED =
  'User: arn:aws:iam::123456789012:user/apps/reports-sync is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/reports';

function recorder(options: Partial<ConstructorParameters<typeof CloudTrailRecorder>[0]> = {}): CloudTrailRecorder {
  return new CloudTrailRecorder({ iam: new IAMClient({}), logs: new CloudWatchLogsClient({}), clock: () => AT, ...options });
}

function written(): CloudTrailRecord[] {
  return logsMock
    .commandCalls(PutLogEventsCommand)
    .flatMap((call) => call.args[0].input.logEvents ?? [])
    .map((event) => JSON.parse(event.message ?? '{}') as CloudTrailRecord);
}

beforeEach(() => {
  iamMock.reset();
  logsMock.reset();
  iamMock.on(GetAccessKeyLastUsedCommand).resolves({ UserName: 'reports-sync' });
  iamMock.on(GetUserCommand).resolves({
    User: { UserName: 'reports-sync', UserId: 'AIDAEXAMPLE', Arn: USER_ARN, Path: '/apps/', CreateDate: AT },
  });
  iamMock
    .on(ListAccessKeysCommand)
    .resolves({ AccessKeyMetadata: [{ AccessKeyId: KEY.accessKeyId, Status: 'Active', UserName: 'reports-sync' }] });
  logsMock.on(CreateLogGroupCommand).resolves({});
  logsMock.on(CreateLogStreamCommand).resolves({});
  logsMock.on(PutLogEventsCommand).resolves({});
});

describe('the CloudTrail recorder middleware', () => {
  test('a successful call is one record, written to the stream CloudTrail names for its account and region', async () => {
    // Prepare
    const trail = recorder();
    const sts = stsAnswering(async () => ({ status: 200, body: identityBody }));
    trail.attach(sts, { sourceIp: '198.51.100.7', userAgent: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64' });

    // Act
    await sts.send(new GetCallerIdentityCommand({}));

    // Assess
    expect(logsMock).toHaveReceivedCommandWith(CreateLogGroupCommand, { logGroupName: 'iam-key-rotator-local-cloudtrail' });
    expect(logsMock).toHaveReceivedCommandWith(PutLogEventsCommand, {
      logGroupName: 'iam-key-rotator-local-cloudtrail',
      logStreamName: '123456789012_CloudTrail_us-east-1',
    });
    expect(logsMock.commandCalls(PutLogEventsCommand)[0]?.args[0].input.logEvents?.[0]?.timestamp).toBe(AT.getTime());
    expect(written()).toEqual([
      {
        eventVersion: '1.08',
        userIdentity: {
          type: 'IAMUser',
          principalId: 'AIDAEXAMPLE',
          arn: USER_ARN,
          accountId: '123456789012',
          accessKeyId: KEY.accessKeyId,
          userName: 'reports-sync',
        },
        eventTime: '2026-11-30T08:15:42Z',
        eventSource: 'sts.amazonaws.com',
        eventName: 'GetCallerIdentity',
        awsRegion: 'us-east-1',
        sourceIPAddress: '198.51.100.7',
        userAgent: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64',
        requestParameters: null,
        responseElements: null,
        requestID: 'req-1',
        eventID: expect.stringMatching(/^[0-9a-f-]{36}$/),
        readOnly: true,
        eventType: 'AwsApiCall',
        managementEvent: true,
        recipientAccountId: '123456789012',
        eventCategory: 'Management',
      },
    ]);
  });

  test('a call refused by authorization is recorded with the full identity, its error code and message', async () => {
    // Prepare
    const trail = recorder();
    const sts = stsAnswering(async () => ({ status: 403, body: errorBody('AccessDenied', DENIED) }));
    trail.attach(sts, { sourceIp: '203.0.113.25' });

    // Act
    const refused = await sts
      .send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::123456789012:role/reports', RoleSessionName: 's' }))
      .catch((error: unknown) => error);

    // Assess
    expect(refused).toMatchObject({ name: 'AccessDenied' });
    expect(written()).toEqual([
      expect.objectContaining({
        eventName: 'AssumeRole',
        readOnly: false,
        errorCode: 'AccessDenied',
        errorMessage: DENIED,
        userIdentity: expect.objectContaining({ accessKeyId: KEY.accessKeyId, type: 'IAMUser' }),
      }),
    ]);
    expect(trail.stats()).toEqual({ recorded: 1, refused: 0, lost: 0 });
  });

  test.each([['InvalidClientTokenId'], ['SignatureDoesNotMatch'], ['ExpiredToken']])(
    'a call the service refuses with %s failed authentication: no record',
    async (code) => {
      // Prepare
      const trail = recorder();
      const sts = stsAnswering(async () => ({ status: 403, body: errorBody(code, 'refused') }));
      trail.attach(sts, { sourceIp: '203.0.113.25' });

      // Act
      const refused = await sts.send(new GetCallerIdentityCommand({})).catch((error: unknown) => error);

      // Assess
      expect(refused).toMatchObject({ name: code });
      expect(logsMock).not.toHaveReceivedCommand(PutLogEventsCommand);
    },
  );

  test('a request that reached no service (a network failure) leaves no record', async () => {
    // Prepare
    const trail = recorder();
    const sts = stsAnswering(async () => {
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    });
    trail.attach(sts, { sourceIp: '203.0.113.25' });

    // Act
    const failed = await sts.send(new GetCallerIdentityCommand({})).catch((error: unknown) => error);

    // Assess
    expect(failed).toBeInstanceOf(Error);
    expect(logsMock).not.toHaveReceivedCommand(PutLogEventsCommand);
  });

  test('an Inactive key is refused before anything is sent, as STS refuses it, and not retried', async () => {
    // Prepare
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [{ AccessKeyId: KEY.accessKeyId, Status: 'Inactive' }] });
    let sent = 0;
    const trail = recorder();
    const sts = stsAnswering(async () => {
      sent += 1;
      return { status: 200, body: identityBody };
    });
    trail.attach(sts, { sourceIp: '203.0.113.25' });

    // Act
    const refused = await sts.send(new GetCallerIdentityCommand({})).catch((error: unknown) => error);

    // Assess
    expect(refused).toMatchObject({ name: 'InvalidClientTokenId', $fault: 'client', $metadata: { httpStatusCode: 403, attempts: 1 } });
    expect(sent).toBe(0);
    expect(logsMock).not.toHaveReceivedCommand(PutLogEventsCommand);
    expect(trail.stats()).toEqual({ recorded: 0, refused: 1, lost: 0 });
  });

  test('a key IAM does not know is refused', async () => {
    // Prepare
    iamMock.on(GetAccessKeyLastUsedCommand).rejects(Object.assign(new Error('not found'), { name: 'NoSuchEntityException' }));
    const trail = recorder();
    const sts = stsAnswering(async () => ({ status: 200, body: identityBody }));
    trail.attach(sts, { sourceIp: '203.0.113.25' });

    // Act & Assess
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
    expect(logsMock).not.toHaveReceivedCommand(PutLogEventsCommand);
  });

  test('when IAM cannot say whether the key is Active, the call fails unsent and unrecorded, naming the key', async () => {
    // Prepare
    iamMock.on(ListAccessKeysCommand).rejects(Object.assign(new Error('slow down'), { name: 'Throttling' }));
    let sent = 0;
    const trail = recorder();
    const sts = stsAnswering(async () => {
      sent += 1;
      return { status: 200, body: identityBody };
    });
    trail.attach(sts, { sourceIp: '203.0.113.25' });

    // Act & Assess
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toThrow(`could not read the status of access key ${KEY.accessKeyId}`);
    expect(sent).toBe(0);
    expect(logsMock).not.toHaveReceivedCommand(PutLogEventsCommand);
  });

  test('key statuses are read once per cache period, owners once', async () => {
    // Prepare
    let now = AT;
    const trail = recorder({ clock: () => now, statusCacheMs: 250 });
    const sts = stsAnswering(async () => ({ status: 200, body: identityBody }));
    trail.attach(sts, { sourceIp: '203.0.113.25' });

    // Act: three calls within 250 ms, one after
    await Promise.all([sts.send(new GetCallerIdentityCommand({})), sts.send(new GetCallerIdentityCommand({}))]);
    now = new Date(AT.getTime() + 200);
    await sts.send(new GetCallerIdentityCommand({}));
    now = new Date(AT.getTime() + 300);
    await sts.send(new GetCallerIdentityCommand({}));

    // Assess
    expect(iamMock).toHaveReceivedCommandTimes(GetAccessKeyLastUsedCommand, 1);
    expect(iamMock).toHaveReceivedCommandTimes(ListAccessKeysCommand, 2);
    expect(trail.stats().recorded).toBe(4);
    expect(logsMock).toHaveReceivedCommandTimes(CreateLogGroupCommand, 1);
  });

  test('a log group and stream that already exist are written to', async () => {
    // Prepare
    logsMock.on(CreateLogGroupCommand).rejects(new ResourceAlreadyExistsException({ message: 'exists', $metadata: {} }));
    logsMock.on(CreateLogStreamCommand).rejects(new ResourceAlreadyExistsException({ message: 'exists', $metadata: {} }));
    const trail = recorder({ logGroupName: 'ops-trail' });
    const sts = stsAnswering(async () => ({ status: 200, body: identityBody }));
    trail.attach(sts, { sourceIp: '203.0.113.25' });

    // Act
    await sts.send(new GetCallerIdentityCommand({}));

    // Assess
    expect(logsMock).toHaveReceivedCommandWith(PutLogEventsCommand, { logGroupName: 'ops-trail' });
    expect(trail.stats()).toEqual({ recorded: 1, refused: 0, lost: 0 });
  });

  test('a record the log group will not take is counted as lost, and the call still succeeds', async () => {
    // Prepare
    logsMock.on(PutLogEventsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const trail = recorder();
    const sts = stsAnswering(async () => ({ status: 200, body: identityBody }));
    trail.attach(sts, { sourceIp: '203.0.113.25' });

    // Act
    const answer = await sts.send(new GetCallerIdentityCommand({}));

    // Assess
    expect(answer.Arn).toBe(USER_ARN);
    expect(trail.stats()).toEqual({ recorded: 0, refused: 0, lost: 1 });
  });

  test('a request signed with a session token is refused with a message that says what the recorder records', async () => {
    // Prepare
    const trail = recorder();
    const sts = new STSClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'x', sessionToken: 'token' },
      requestHandler: {
        handle: async () => ({ response: { statusCode: 200, headers: {}, body: Readable.from([Buffer.from(identityBody)]) } }),
      },
    });
    trail.attach(sts, { sourceIp: '203.0.113.25' });

    // Act & Assess
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toThrow(/IAM user access keys only/);
  });

  test('no record carries the secret access key or the signature', async () => {
    // Prepare
    const trail = recorder();
    const sts = stsAnswering(async () => ({ status: 200, body: identityBody }));
    trail.attach(sts, { sourceIp: '203.0.113.25' });

    // Act
    await sts.send(new GetCallerIdentityCommand({}));

    // Assess
    const text = JSON.stringify(written());
    expect(text).toContain(KEY.accessKeyId);
    expect(text).not.toContain(KEY.secretAccessKey);
    expect(text).not.toMatch(/Signature=|aws4_request/);
  });
});

describe('withLocalTrail', () => {
  const none = { cloudtrailLogGroup: '' };

  test('a run against moto reads the recorder’s group when no group is configured', () => {
    // Act & Assess
    expect(withLocalTrail(none, { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' })).toEqual({
      cloudtrailLogGroup: 'iam-key-rotator-local-cloudtrail',
    });
  });

  test.each([
    [
      'a configured group',
      { cloudtrailLogGroup: 'ops-trail' },
      { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', CLOUDTRAIL_LOG_GROUP: 'ops-trail' },
      'ops-trail',
    ],
    ['CLOUDTRAIL_LOG_GROUP set to nothing', none, { AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', CLOUDTRAIL_LOG_GROUP: '' }, ''],
    ['a run against AWS', none, {}, ''],
  ])('%s is left as it is', (_case, config, env, group) => {
    // Act & Assess
    expect(withLocalTrail(config, env).cloudtrailLogGroup).toBe(group);
  });
});
