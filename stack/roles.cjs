/* global module */
'use strict';

/**
 * Runs after the framework and the other plugins compiled the template:
 * - every IAM role gets `PermissionsBoundary: Fn::If [HasPermissionsBoundary, PermissionsBoundaryArn, NoValue]`
 *   (the functions' roles from serverless-iam-roles-per-function, the state machine's from
 *   serverless-step-functions, any role a plugin adds later). A plugin because the framework's schema
 *   takes only a plain ARN for a boundary, and a hook after compilation cannot miss a role.
 * - every IAM role gets an explicit Deny of user writes on the protected users (PROTECTED_USERS,
 *   PROTECTED_PATHS, read from the functions' environment, so the code's refusal and IAM's cannot
 *   disagree): a bug in a step, or a role a plugin adds, still cannot act on a break-glass user.
 *   Nothing protected, no statement: a Deny needs a resource, and a placeholder would read as a rule.
 * - the framework's shared role (IamRoleLambdaExecution) is removed when no function uses it: every
 *   function has its own, and an unused role is a standing permission nobody reviews.
 */
/**
 * User writes: every IAM action on a user that is not a read (Get*, List*, Generate*, Simulate*
 * stay allowed, so the scan still reports protected users). Patterns, so an action IAM adds later is
 * denied too; a Deny may be broad where a grant may not.
 */
const USER_WRITE_ACTIONS = [
  'iam:Add*',
  'iam:Attach*',
  'iam:Change*',
  'iam:Create*',
  'iam:Deactivate*',
  'iam:Delete*',
  'iam:Detach*',
  'iam:Enable*',
  'iam:Put*',
  'iam:Remove*',
  'iam:Reset*',
  'iam:Resync*',
  'iam:Tag*',
  'iam:Untag*',
  'iam:Update*',
  'iam:Upload*',
];

const entries = (text) =>
  String(text ?? '')
    .split(/[,\s]+/)
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

/**
 * The ARNs of the protected users, in any account (the member role carries the same rule there). A
 * name alone does not give the path, which is part of the ARN: user/<name> at the root, and any path
 * before the name (user/, a star, /<name>) elsewhere. A path
 * covers every user under it: user/<path>*, the path ending in "/" so /ops does not cover /ops-x/.
 */
function protectedUserArns(environment) {
  const names = entries(environment.PROTECTED_USERS).flatMap((name) => [`arn:aws:iam::*:user/${name}`, `arn:aws:iam::*:user/*/${name}`]);
  const paths = entries(environment.PROTECTED_PATHS).map((path) => `arn:aws:iam::*:user${path.endsWith('/') ? path : `${path}/`}*`);
  return [...names, ...paths];
}

function protectedUsersPolicy(environment) {
  const resources = protectedUserArns(environment);
  if (resources.length === 0) return undefined;
  return {
    PolicyName: 'deny-protected-users',
    PolicyDocument: {
      Version: '2012-10-17',
      Statement: [{ Sid: 'DenyProtectedUsers', Effect: 'Deny', Action: USER_WRITE_ACTIONS, Resource: resources }],
    },
  };
}

class Roles {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.apply() };
  }

  apply() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const shared = 'IamRoleLambdaExecution';
    if (resources[shared]) {
      const { [shared]: _role, ...others } = resources;
      const text = JSON.stringify(others);
      if (!text.includes(`"${shared}"`)) delete resources[shared];
    }
    const deny = protectedUsersPolicy(this.serverless.service.provider.environment ?? {});
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      if (deny) resource.Properties.Policies = [...(resource.Properties.Policies ?? []), deny];
      resource.Properties.PermissionsBoundary = {
        'Fn::If': ['HasPermissionsBoundary', { Ref: 'PermissionsBoundaryArn' }, { Ref: 'AWS::NoValue' }],
      };
    }
  }
}

module.exports = Roles;
module.exports.protectedUsersPolicy = protectedUsersPolicy;
module.exports.USER_WRITE_ACTIONS = USER_WRITE_ACTIONS;
