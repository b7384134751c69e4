// Every SDK client, for the CLI and the local runner, which use them all. A Lambda function imports
// only the per-client modules it uses (shared/aws/clients/<service>.ts): a module-scope `new XClient()`
// cannot be tree-shaken, so importing this file from a function would bundle all eight clients.
export { dynamodb } from './clients/dynamodb.ts';
export { iam } from './clients/iam.ts';
export { secretsManager } from './clients/secrets-manager.ts';
export { sfn } from './clients/sfn.ts';
export { sns } from './clients/sns.ts';
export { sts } from './clients/sts.ts';
export { organizations } from './clients/organizations.ts';
