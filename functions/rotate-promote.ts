import { cloudtrailFor, cloudtrailWith } from '#shared/aws/clients/cloudtrail.ts';
import { dynamodb } from '#shared/aws/clients/dynamodb.ts';
import { deployedKeyCallReader, memberKeyCalls } from '#shared/consumers/reader.ts';
import { iam, iamWith } from '#shared/aws/clients/iam.ts';
import { secretsManager, secretsManagerWith } from '#shared/aws/clients/secrets-manager.ts';
import { sts } from '#shared/aws/clients/sts.ts';
import { lambdaDeps } from '#shared/rotation/deps.ts';
import { stepHandler } from '#shared/rotation/step-handler.ts';
import { AfterCreate } from '#shared/rotation/workflow-state.ts';
import { promote } from '#shared/rotation/new-key.ts';

/** Promote: the new key's version becomes AWSCURRENT; the old one AWSPREVIOUS; the old key's consumers are listed for new-key-ready. */
export const promoteStep = stepHandler('Promote', AfterCreate, ({ rotation, newKey }, deps) => promote(rotation, newKey, deps));
export const handler = promoteStep(
  lambdaDeps({
    iam,
    secretsManager,
    // Event history only (no trail log group client): Promote lists the old key's consumers for new-key-ready.
    keyCalls: (config) => deployedKeyCallReader(config, { cloudtrailFor, dynamodb }, process.env.AWS_REGION ?? 'us-east-1'),
    member: {
      function: 'rotatePromote',
      sts,
      iam: iamWith,
      secretsManager: secretsManagerWith,
      // That account's event history, read with the member session.
      keyCalls: memberKeyCalls(cloudtrailWith, dynamodb, process.env.AWS_REGION ?? 'us-east-1'),
    },
  }),
);
