import { describe, expect, test } from '@jest/globals';
import { AwsServiceError, serviceEndpoint, signedJsonClient } from '#shared/aws/signed-json.ts';

const credentials = async () => ({ accessKeyId: 'AKIAEXAMPLE000000001', secretAccessKey: 'not-a-real-secret' });

/** A service that answers each request from the list in turn, recording what it was sent. */
function service(...answers: { status: number; body: unknown; headers?: Record<string, string> }[]) {
  const sent: { url: string; headers: Headers; body: string }[] = [];
  const fetch = (async (url: URL | string, init?: RequestInit) => {
    sent.push({ url: String(url), headers: new Headers(init?.headers), body: String(init?.body) });
    const answer = answers.length > 1 ? answers.shift() : answers[0];
    return new Response(JSON.stringify(answer?.body ?? {}), { status: answer?.status ?? 200, headers: answer?.headers });
  }) as typeof globalThis.fetch;
  return { fetch, sent };
}

describe('signedJsonClient', () => {
  test('signs with SigV4 for the service and Region, and sends the JSON body and headers it is given', async () => {
    // Prepare
    const ssm = service({ status: 200, body: { Parameter: { Value: 'v' } } });
    const send = signedJsonClient({
      service: 'ssm',
      region: 'eu-west-1',
      credentials,
      endpoint: 'https://ssm.eu-west-1.amazonaws.com',
      fetch: ssm.fetch,
    });

    // Act
    const output = await send({
      path: '/',
      body: { Name: '/p' },
      contentType: 'application/x-amz-json-1.1',
      headers: { 'x-amz-target': 'AmazonSSM.GetParameter' },
    });

    // Assess
    expect(output).toEqual({ Parameter: { Value: 'v' } });
    const [request] = ssm.sent;
    expect(request?.url).toBe('https://ssm.eu-west-1.amazonaws.com/');
    expect(request?.body).toBe('{"Name":"/p"}');
    expect(request?.headers.get('x-amz-target')).toBe('AmazonSSM.GetParameter');
    expect(request?.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(request?.headers.get('authorization')).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE000000001\/\d{8}\/eu-west-1\/ssm\/aws4_request, SignedHeaders=[^,]*host[^,]*x-amz-target/,
    );
    expect(request?.headers.get('x-amz-content-sha256') ?? request?.headers.get('x-amz-date')).toBeTruthy();
  });

  test('an error is named by the service’s error code (JSON __type, or the REST x-amzn-ErrorType header)', async () => {
    // Prepare
    const json = service({ status: 400, body: { __type: 'com.amazonaws.ssm#ParameterNotFound', message: 'no such parameter' } });
    const rest = service({
      status: 403,
      body: { Message: 'not allowed' },
      headers: { 'x-amzn-ErrorType': 'AccessDeniedException:http://internal' },
    });
    const options = { service: 's', region: 'us-east-1', credentials, endpoint: 'https://s.amazonaws.com' };

    // Act & Assess
    await expect(signedJsonClient({ ...options, fetch: json.fetch })({ path: '/', body: {} })).rejects.toMatchObject({
      name: 'ParameterNotFound',
      message: 'no such parameter',
      status: 400,
    });
    await expect(signedJsonClient({ ...options, fetch: rest.fetch })({ path: '/x', body: {} })).rejects.toBeInstanceOf(AwsServiceError);
    await expect(signedJsonClient({ ...options, fetch: rest.fetch })({ path: '/x', body: {} })).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });

  test('throttling and server errors are retried, up to maxAttempts', async () => {
    // Prepare: throttled, then a 503, then the answer.
    const flaky = service(
      { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } },
      { status: 503, body: {} },
      { status: 200, body: { ok: true } },
    );
    const send = signedJsonClient({
      service: 's',
      region: 'us-east-1',
      credentials,
      endpoint: 'https://s.amazonaws.com',
      fetch: flaky.fetch,
      maxAttempts: 3,
    });

    // Act
    const output = await send({ path: '/', body: {} });

    // Assess
    expect(output).toEqual({ ok: true });
    expect(flaky.sent).toHaveLength(3);
  });

  test('the endpoint follows the SDK: AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, then the Regional host', () => {
    // Act & Assess
    expect(serviceEndpoint('SSM', 'ssm.eu-west-1.amazonaws.com', {})).toBe('https://ssm.eu-west-1.amazonaws.com');
    expect(serviceEndpoint('SSM', 'ssm.eu-west-1.amazonaws.com', { AWS_ENDPOINT_URL: 'http://localhost:5000' })).toBe(
      'http://localhost:5000',
    );
    expect(
      serviceEndpoint('SSM', 'ssm.eu-west-1.amazonaws.com', {
        AWS_ENDPOINT_URL: 'http://localhost:5000',
        AWS_ENDPOINT_URL_SSM: 'http://localhost:6000',
      }),
    ).toBe('http://localhost:6000');
  });
});
