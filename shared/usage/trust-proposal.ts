import type { CiProvider, Runtime } from './runtime.ts';

/**
 * A trust-policy sketch for the role that replaces a consumer's key, chosen from where the consumer
 * runs (runtime.ts). A sketch, not a finished policy: what the records cannot know (the repository a
 * CI job builds, the certificate a server presents, the trust anchor) is a `<PLACEHOLDER>` that the
 * notes name, and nothing is created in the account.
 */

export interface TrustDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly {
    readonly Effect: 'Allow';
    readonly Principal: Readonly<Record<string, string>>;
    readonly Action: string | readonly string[];
    readonly Condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  }[];
}

export interface TrustProposal {
  /** What kind of role this is, for a person: "Lambda execution role", "GitHub Actions OIDC federation". */
  readonly kind: string;
  readonly document: TrustDocument;
  /** The placeholders left in the document, each with what to put there. */
  readonly placeholders: readonly string[];
  /** How the consumer switches to the role. */
  readonly howToSwitch: string;
}

export interface AccountFacts {
  readonly accountId: string;
  /** `aws`, `aws-cn`, `aws-us-gov`: from the user's ARN. */
  readonly partition: string;
}

const OIDC: Readonly<
  Record<
    CiProvider,
    { readonly name: string; readonly host: string; readonly audience: string; readonly subject: string; readonly switch: string }
  >
> = {
  'github-actions': {
    name: 'GitHub Actions OIDC federation',
    host: 'token.actions.githubusercontent.com',
    audience: 'sts.amazonaws.com',
    subject: 'repo:<OWNER>/<REPOSITORY>:ref:refs/heads/<BRANCH>',
    switch:
      'in the workflow, grant `permissions: id-token: write` and use aws-actions/configure-aws-credentials with `role-to-assume` set to the role ARN; remove the key from the repository secrets',
  },
  gitlab: {
    name: 'GitLab CI OIDC federation',
    host: 'gitlab.com',
    audience: 'https://gitlab.com',
    subject: 'project_path:<GROUP>/<PROJECT>:ref_type:branch:ref:<BRANCH>',
    switch:
      'in .gitlab-ci.yml, request an `id_tokens` token with `aud: https://gitlab.com` and call `aws sts assume-role-with-web-identity` with it (for a self-managed GitLab, use its host instead of gitlab.com); remove the key from the CI variables',
  },
  circleci: {
    name: 'CircleCI OIDC federation',
    host: 'oidc.circleci.com/org/<CIRCLECI-ORG-ID>',
    audience: '<CIRCLECI-ORG-ID>',
    subject: 'org/<CIRCLECI-ORG-ID>/project/<PROJECT-ID>/user/*',
    switch:
      'in the job, use the aws-cli orb’s `role_arn` (it exchanges $CIRCLE_OIDC_TOKEN_V2 with AssumeRoleWithWebIdentity); remove the key from the project’s environment variables',
  },
};

export function proposeTrust(runtime: Runtime, account: AccountFacts): TrustProposal {
  const { accountId, partition } = account;
  switch (runtime.kind) {
    case 'aws-service':
      return serviceTrust(runtime.service, account);
    case 'ci': {
      const oidc = OIDC[runtime.provider];
      return {
        kind: oidc.name,
        document: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Federated: `arn:${partition}:iam::${accountId}:oidc-provider/${oidc.host}` },
              Action: 'sts:AssumeRoleWithWebIdentity',
              Condition: {
                StringEquals: { [`${oidc.host}:aud`]: oidc.audience },
                StringLike: { [`${oidc.host}:sub`]: oidc.subject },
              },
            },
          ],
        },
        placeholders: [
          `${oidc.host}:sub: pin it to what may assume the role (${oidc.subject}); never leave it "*", or any ${oidc.name.split(' OIDC')[0]} user could`,
          ...(runtime.provider === 'circleci' ? ['<CIRCLECI-ORG-ID>: the organization id from CircleCI’s organization settings'] : []),
          `the account needs an IAM OIDC identity provider for https://${oidc.host} (audience ${oidc.audience}) before the role can be assumed`,
        ],
        howToSwitch: oidc.switch,
      };
    }
    case 'outside-aws':
      return {
        kind: 'IAM Roles Anywhere',
        document: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'rolesanywhere.amazonaws.com' },
              Action: ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'],
              Condition: {
                StringEquals: { 'aws:PrincipalTag/x509Subject/CN': '<CERTIFICATE-COMMON-NAME>' },
                ArnEquals: { 'aws:SourceArn': `arn:${partition}:rolesanywhere:<REGION>:${accountId}:trust-anchor/<TRUST-ANCHOR-ID>` },
              },
            },
          ],
        },
        placeholders: [
          '<CERTIFICATE-COMMON-NAME>: the CN of the certificate this server presents, so no other certificate of the CA can assume the role',
          '<REGION>, <TRUST-ANCHOR-ID>: the Roles Anywhere trust anchor holding your CA (create one, and a profile naming this role)',
        ],
        howToSwitch:
          'on the server, install aws_signing_helper and set `credential_process = aws_signing_helper credential-process --certificate … --private-key … --trust-anchor-arn … --profile-arn … --role-arn …` in its AWS profile; if the server is an EC2 instance, use an instance profile instead',
      };
  }
}

const SERVICE_SWITCH: Readonly<Record<string, { readonly kind: string; readonly howToSwitch: string }>> = {
  'lambda.amazonaws.com': {
    kind: 'Lambda execution role',
    howToSwitch:
      'make it the function’s execution role (or add the policy to the role the function already has) and remove the key from its environment or secret read',
  },
  'ecs-tasks.amazonaws.com': {
    kind: 'ECS task role',
    howToSwitch: 'set it as taskRoleArn of the task definition and remove the key from the task’s environment or secrets',
  },
};

function serviceTrust(service: string, { accountId }: AccountFacts): TrustProposal {
  const known = SERVICE_SWITCH[service];
  // ECS documents aws:SourceAccount for task roles against the confused deputy ("Task IAM role", ECS developer guide).
  const condition = service === 'ecs-tasks.amazonaws.com' ? { Condition: { StringEquals: { 'aws:SourceAccount': accountId } } } : {};
  return {
    kind: known?.kind ?? `role for ${service}`,
    document: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole', ...condition }],
    },
    placeholders: [],
    howToSwitch:
      known?.howToSwitch ??
      `give the resource that ${service} runs for this consumer the role, and stop passing it the key (the service called with the key's permissions, so something configured it with them)`,
  };
}

/** `trust-<consumer>.json`: the consumer's address and tool, in characters every file system takes. */
export function trustFileName(consumer: { readonly source: string; readonly agent: string }, taken: ReadonlySet<string>): string {
  const slug =
    `${consumer.source}_${consumer.agent}`
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/-{2,}/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '')
      .slice(0, 80) || 'consumer';
  let name = `trust-${slug}.json`;
  for (let n = 2; taken.has(name); n += 1) name = `trust-${slug}-${n}.json`;
  return name;
}
