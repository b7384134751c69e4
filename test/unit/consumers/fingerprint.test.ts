import { describe, expect, test } from '@jest/globals';
import { consumerKey, consumerOf, normaliseUserAgent } from '#shared/consumers/fingerprint.ts';

describe('normaliseUserAgent: the tool and its major version, with any app prefix', () => {
  test.each([
    ['aws-cli/2.13.5 Python/3.11.4 Linux/5.15.0-1045-aws exe/x86_64.ubuntu.22 prompt/off command/s3.ls', 'aws-cli/2'],
    ['aws-cli/1.18.69 Python/3.6.9 Linux/4.15.0 botocore/1.16.19', 'aws-cli/1'],
    [
      'Boto3/1.28.10 md/Botocore#1.31.10 ua/2.0 os/linux#5.15.0 md/arch#x86_64 lang/python#3.11.4 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.10',
      'Boto3/1',
    ],
    ['aws-sdk-js/3.450.0 ua/2.0 os/linux#5.10.197 lang/js md/nodejs#20.9.0 api/sts#3.450.0', 'aws-sdk-js/3'],
    ['billing-etl/4.2.0 aws-sdk-js/3.450.0 ua/2.0 os/linux lang/js', 'billing-etl/4 aws-sdk-js/3'],
    ['aws-sdk-go-v2/1.21.0 os/linux lang/go#1.21.1 md/GOOS#linux md/GOARCH#amd64 api/iam#1.22.5', 'aws-sdk-go-v2/1'],
    ['aws-sdk-java/1.12.500 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.8+7-LTS java/17.0.8 vendor/Amazon.com_Inc.', 'aws-sdk-java/1'],
    [
      'APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) terraform-provider-aws/5.17.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.21.0',
      'Terraform/1',
    ],
    ['[aws-sdk-java/1.12.261 Linux/4.14 OpenJDK_64-Bit_Server_VM/25.332-b08]', 'aws-sdk-java/1'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Safari/537.36', 'browser'],
    ['my-tool/0.9.1', 'my-tool/0'],
    ['AWS Internal', 'AWS Internal'],
    ['', 'unknown'],
  ])('%s → %s', (agent, expected) => {
    // Act & Assess
    expect(normaliseUserAgent(agent)).toBe(expected);
  });
});

describe('consumerOf', () => {
  test('an AWS service that called with the key’s permissions is the source, not the address it reports', () => {
    // Act
    const id = consumerOf({
      sourceIp: 'secretsmanager.amazonaws.com',
      invokedBy: 'secretsmanager.amazonaws.com',
      userAgent: 'AWS Internal',
    });

    // Assess
    expect(id).toEqual({ source: 'secretsmanager.amazonaws.com', agent: 'AWS Internal' });
  });

  test('a minor upgrade of the tool is the same consumer; another tool on the same machine is another', () => {
    // Act
    const before = consumerKey(consumerOf({ sourceIp: '198.51.100.7', invokedBy: undefined, userAgent: 'aws-cli/2.13.5 Python/3.11.4' }));
    const upgraded = consumerKey(
      consumerOf({ sourceIp: '198.51.100.7', invokedBy: undefined, userAgent: 'aws-cli/2.15.30 Python/3.11.8' }),
    );
    const other = consumerKey(consumerOf({ sourceIp: '198.51.100.7', invokedBy: undefined, userAgent: 'Boto3/1.34.0 Botocore/1.34.0' }));

    // Assess
    expect(upgraded).toBe(before);
    expect(other).not.toBe(before);
  });
});
