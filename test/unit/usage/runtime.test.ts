import { describe, expect, test } from '@jest/globals';
import { runtimeOf } from '#shared/usage/runtime.ts';

const CLI = 'aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64';

describe('runtimeOf', () => {
  test.each([
    [
      'an AWS service named as invoker',
      { source: 'cloudformation.amazonaws.com', invokedBy: 'cloudformation.amazonaws.com', userAgents: [] },
      { kind: 'aws-service', service: 'cloudformation.amazonaws.com' },
    ],
    [
      'a service name as source address',
      { source: 'lambda.amazonaws.com', invokedBy: undefined, userAgents: [CLI] },
      { kind: 'aws-service', service: 'lambda.amazonaws.com' },
    ],
    [
      'a Lambda runtime in the user agent',
      { source: '203.0.113.9', invokedBy: undefined, userAgents: ['aws-sdk-js/3.600.0 exec-env/AWS_Lambda_nodejs22.x'] },
      { kind: 'aws-service', service: 'lambda.amazonaws.com' },
    ],
    [
      'an ECS task in the user agent, in the md/exec-env# spelling',
      { source: '203.0.113.9', invokedBy: undefined, userAgents: ['Boto3/1.34.69 md/exec-env#AWS_ECS_FARGATE'] },
      { kind: 'aws-service', service: 'ecs-tasks.amazonaws.com' },
    ],
    [
      'GitHub Actions',
      { source: '192.0.2.15', invokedBy: undefined, userAgents: [`${CLI} app/github-actions`] },
      { kind: 'ci', provider: 'github-actions' },
    ],
    [
      'GITHUB_ACTIONS',
      { source: '192.0.2.15', invokedBy: undefined, userAgents: [`${CLI} exec-env/GITHUB_ACTIONS`] },
      { kind: 'ci', provider: 'github-actions' },
    ],
    [
      'GitLab',
      { source: '192.0.2.16', invokedBy: undefined, userAgents: ['gitlab-runner/16.0 aws-cli/2.15.0'] },
      { kind: 'ci', provider: 'gitlab' },
    ],
    ['CircleCI', { source: '192.0.2.17', invokedBy: undefined, userAgents: [`${CLI} app/circleci`] }, { kind: 'ci', provider: 'circleci' }],
    ['a server anywhere else', { source: '198.51.100.7', invokedBy: undefined, userAgents: [CLI] }, { kind: 'outside-aws' }],
  ] as const)('%s', (_name, consumer, expected) => {
    // Act
    const runtime = runtimeOf(consumer);

    // Assess
    expect(runtime).toMatchObject(expected);
    expect(runtime.evidence).not.toBe('');
  });

  test('an AWS runtime wins over a CI mark: a job in CodeBuild or ECS that says it is CI still runs on AWS', () => {
    // Act
    const runtime = runtimeOf({
      source: '203.0.113.9',
      invokedBy: undefined,
      userAgents: [`${CLI} app/github-actions`, 'aws-sdk-js/3 exec-env/AWS_ECS_EC2'],
    });

    // Assess
    expect(runtime).toMatchObject({ kind: 'aws-service', service: 'ecs-tasks.amazonaws.com' });
  });
});
