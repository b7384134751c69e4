/* global module */
'use strict';

/**
 * Runs after the framework and the other plugins compiled the template:
 * - every IAM role gets `PermissionsBoundary: Fn::If [HasPermissionsBoundary, PermissionsBoundaryArn, NoValue]`
 *   (the functions' roles from serverless-iam-roles-per-function, the state machine's from
 *   serverless-step-functions, any role a plugin adds later). A plugin because the framework's schema
 *   takes only a plain ARN for a boundary, and a hook after compilation cannot miss a role.
 * - the framework's shared role (IamRoleLambdaExecution) is removed when no function uses it: every
 *   function has its own, and an unused role is a standing permission nobody reviews.
 */
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
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      resource.Properties.PermissionsBoundary = {
        'Fn::If': ['HasPermissionsBoundary', { Ref: 'PermissionsBoundaryArn' }, { Ref: 'AWS::NoValue' }],
      };
    }
  }
}

module.exports = Roles;
