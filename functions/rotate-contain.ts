import { cloudtrailFor, cloudtrailWith } from '#shared/aws/clients/cloudtrail.ts';
import { dynamodb } from '#shared/aws/clients/dynamodb.ts';
import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/aws/clients/secrets-manager.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { deployedKeyCallReader, memberKeyCalls } from '#shared/consumers/reader.ts';
import { contain, ContainInput } from '#shared/rotation/contain.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/step-handler.ts';

/**
 * Contain (compromise path, first Task): deactivate the leaked key, deny the user's sessions issued with
 * it, and from CloudTrail, revoke (or name) the role sessions it opened and list what it did.
 */
export const containStep = stepHandler('Contain', ContainInput, contain);
export const handler = containStep(
  lambdaDeps({
    iam,
    secretsManager,
    // Event history only: IAM and STS writes are management events, and the bundle stays under 500 KB so.
    keyCalls: (config) => deployedKeyCallReader(config, { cloudtrailFor, dynamodb }, process.env.AWS_REGION ?? 'us-east-1'),
    member: {
      function: 'rotateContain',
      sts,
      iam: iamWith,
      secretsManager: secretsManagerWith,
      // That account's event history, read with the member session.
      keyCalls: memberKeyCalls(cloudtrailWith, dynamodb, process.env.AWS_REGION ?? 'us-east-1'),
    },
  }),
);
