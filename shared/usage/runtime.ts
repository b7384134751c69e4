/**
 * Where a consumer of a key runs, told from what CloudTrail recorded of its calls, to pick the kind of
 * role that can replace the key ("Roles beat keys" in the README): an AWS service runs with a role of
 * its own, a CI system with an OIDC issuer federates, anything else outside AWS uses IAM Roles Anywhere.
 *
 * The signs read: the record's invokedBy or a sourceIPAddress that is a service name
 * (`lambda.amazonaws.com`), the execution environment the SDKs put in the user agent
 * (`exec-env/AWS_Lambda_nodejs22.x`, `exec-env/AWS_ECS_FARGATE`: the AWS_EXECUTION_ENV variable those
 * runtimes set), and the marks CI tools leave in it (GitHub's configure-aws-credentials action,
 * `GITHUB_ACTIONS`, GitLab, CircleCI). An EC2 instance or a container outside ECS calling from an AWS
 * address is not told apart from a server elsewhere: that needs AWS's published IP ranges, which are
 * not read here; such a consumer is proposed Roles Anywhere, and the checklist says to prefer an
 * instance profile when it runs on EC2.
 */

export type CiProvider = 'github-actions' | 'gitlab' | 'circleci';

export type Runtime =
  | { readonly kind: 'aws-service'; readonly service: string; readonly evidence: string }
  | { readonly kind: 'ci'; readonly provider: CiProvider; readonly evidence: string }
  | { readonly kind: 'outside-aws'; readonly evidence: string };

/** `lambda.amazonaws.com`, `ecs-tasks.amazonaws.com`: a service principal's name, never an address. */
const SERVICE_NAME = /^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com$/;

const EXECUTION_ENVIRONMENTS: readonly { readonly pattern: RegExp; readonly service: string }[] = [
  { pattern: /exec-env[/#](AWS_Lambda\S*)/i, service: 'lambda.amazonaws.com' },
  { pattern: /exec-env[/#](AWS_ECS\S*)/i, service: 'ecs-tasks.amazonaws.com' },
];

const CI_MARKS: readonly { readonly pattern: RegExp; readonly provider: CiProvider }[] = [
  { pattern: /(github-actions|GITHUB_ACTIONS|configure-aws-credentials)/i, provider: 'github-actions' },
  { pattern: /(gitlab)/i, provider: 'gitlab' },
  { pattern: /(circleci)/i, provider: 'circleci' },
];

export function runtimeOf(consumer: {
  /** The consumer's source: sourceIPAddress, or invokedBy. */
  readonly source: string;
  readonly invokedBy: string | undefined;
  /** The user agents of its calls, as recorded. */
  readonly userAgents: readonly string[];
}): Runtime {
  if (consumer.invokedBy !== undefined && SERVICE_NAME.test(consumer.invokedBy))
    return { kind: 'aws-service', service: consumer.invokedBy, evidence: `calls made by ${consumer.invokedBy} (invokedBy)` };
  if (SERVICE_NAME.test(consumer.source))
    return { kind: 'aws-service', service: consumer.source, evidence: `calls come from ${consumer.source} (sourceIPAddress)` };
  for (const agent of consumer.userAgents) {
    for (const { pattern, service } of EXECUTION_ENVIRONMENTS) {
      const mark = pattern.exec(agent)?.[1];
      if (mark !== undefined) return { kind: 'aws-service', service, evidence: `user agent names exec-env/${mark}` };
    }
  }
  for (const agent of consumer.userAgents) {
    for (const { pattern, provider } of CI_MARKS) {
      const mark = pattern.exec(agent)?.[1];
      if (mark !== undefined) return { kind: 'ci', provider, evidence: `user agent contains ${mark}` };
    }
  }
  return {
    kind: 'outside-aws',
    evidence: `calls come from ${consumer.source || 'an unrecorded address'} with no sign of an AWS runtime or a CI system`,
  };
}
