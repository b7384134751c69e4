import { describe, expect, test } from '@jest/globals';
import { refusal, signatureOf } from '#local/key-authentication.ts';

// AWS's documentation example key id.
const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';

describe('signatureOf', () => {
  test('reads the key id and the credential scope of a SigV4 Authorization header', () => {
    // Prepare
    const request = {
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=${KEY_ID}/20261130/eu-west-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc123`,
      },
    };

    // Act & Assess
    expect(signatureOf(request)).toEqual({ accessKeyId: KEY_ID, region: 'eu-west-1', service: 's3' });
  });

  test.each([[{ headers: {} }], [{}], [null], ['text']])('an unsigned request (%p) has none', (request) => {
    // Act & Assess
    expect(signatureOf(request)).toBeUndefined();
  });
});

describe('refusal', () => {
  test.each([
    ['sts', 'application/x-www-form-urlencoded', 'InvalidClientTokenId'],
    ['iam', undefined, 'InvalidClientTokenId'],
    ['secretsmanager', 'application/x-amz-json-1.1', 'UnrecognizedClientException'],
    ['s3', undefined, 'InvalidAccessKeyId'],
    ['ec2', 'application/x-www-form-urlencoded', 'AuthFailure'],
  ])('%s (%s) refuses an invalid key with %s', (service, contentType, code) => {
    // Act & Assess
    expect(refusal(service, contentType)).toMatchObject({ name: code, $fault: 'client', $metadata: { httpStatusCode: 403 } });
  });
});
