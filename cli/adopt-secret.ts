import type { Command } from 'commander';
import type { IAMClient } from '@aws-sdk/client-iam';
import { GetSecretValueCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { iam, secretsManager } from '#shared/aws/clients.ts';
import { listUserKeys, readUser } from '#shared/aws/iam.ts';
import { SecretStateError } from '#shared/base/errors.ts';
import { loadConfig, type Config } from '#shared/config/settings.ts';
import { defaultSecretName, resolveUserSettings } from '#shared/config/user-settings.ts';
import { versionWithStage } from '#shared/rotation/decisions.ts';
import { CURRENT, moveStage, readSecret, versionIdFor } from '#shared/rotation/secret.ts';
import { bindingProblems, notBoundError, readSecretFacts } from '#shared/rotation/secret-binding.ts';
import { colors, type Output } from '../local/terminal.ts';
import { addOutputOptions, outputFormat, type OutputFlags } from './output-format.ts';

const HELP = `
The rotator's steps never read a secret value (only Verify does, to sign one STS call): they tell
which key a version holds from its version id, which the rotator derives from the key id whenever
it writes. A secret an operator wrote by hand (aws secretsmanager create-secret --secret-string …)
has a random version id, so a rotation refuses it, changing nothing, and points here.

adopt-secret reads the secret's AWSCURRENT value with your credentials, checks that it holds a key
of the user, and stores the same value again under the rotator's version id as AWSCURRENT (the
hand-written version becomes AWSPREVIOUS). Consumers read exactly the same value; no key changes.
It never prints a secret. The secret must be bound to the user, as a rotation requires (README:
"Which secret receives a user's key").

Needs: iam:GetUser, iam:ListUserTags, iam:ListAccessKeys; secretsmanager:DescribeSecret,
GetResourcePolicy, GetSecretValue, PutSecretValue (and kms:Decrypt, kms:GenerateDataKey on the
secret's key) on the user's secret.

Exit code: 0 when adopted, or when there is nothing to adopt; 1 when the secret cannot be adopted
(it holds no key of the user, or is not bound to the user); 2 for bad usage.

The secret must be encrypted with the stack's KMS key (its SecretsKmsKeyArn output, alias
alias/iam-key-rotator-<stage>), else the binding check refuses it and names the fix.

Example:
  $ aws secretsmanager create-secret --name iam-key-rotator/billing-export \\
      --kms-key-id alias/iam-key-rotator-prod \\
      --secret-string '{"AccessKeyId":"AKIA…","SecretAccessKey":"…"}'
  $ iam-key-rotator adopt-secret billing-export
  $ iam-key-rotator rotate billing-export`;

export type AdoptOutcome = 'adopted' | 'already-the-rotators' | 'no-secret' | 'no-current-version';

export interface AdoptResult {
  readonly userName: string;
  readonly secretName: string;
  readonly outcome: AdoptOutcome;
  /** The key AWSCURRENT holds (never its secret). */
  readonly accessKeyId: string | null;
  readonly versionId: string | null;
  /** The hand-written version, now AWSPREVIOUS. */
  readonly handWrittenVersionId: string | null;
  /** The key AWSCURRENT holds is Inactive: consumers of the secret are failing now. */
  readonly keyInactive: boolean;
}

interface StoredFields {
  readonly AccessKeyId: string;
  readonly SecretAccessKey: string;
}

function storedFields(text: string | undefined): StoredFields | undefined {
  try {
    const parsed: unknown = JSON.parse(text ?? '');
    if (parsed === null || typeof parsed !== 'object') return undefined;
    const { AccessKeyId, SecretAccessKey } = parsed as Record<string, unknown>;
    return typeof AccessKeyId === 'string' && typeof SecretAccessKey === 'string' ? { AccessKeyId, SecretAccessKey } : undefined;
  } catch {
    return undefined;
  }
}

/** Re-stores a hand-written AWSCURRENT under the rotator's version id; see HELP. */
export async function adoptSecret(
  userName: string,
  clients: { readonly iam: IAMClient; readonly secretsManager: SecretsManagerClient },
  config: Config,
): Promise<AdoptResult> {
  const user = await readUser(clients.iam, userName);
  const secretName = resolveUserSettings(userName, user.tags, config).settings.secretName;
  const rule = { userName, secretName, defaultName: defaultSecretName(config, userName), expectedKmsKeyId: config.secretKmsKeyId };
  const problems = bindingProblems(await readSecretFacts(clients.secretsManager, secretName), rule);
  if (problems.length > 0) throw notBoundError(rule, problems);

  const keys = await listUserKeys(clients.iam, userName);
  const view = await readSecret(
    clients.secretsManager,
    secretName,
    keys.map((key) => key.accessKeyId),
  );
  const current = versionWithStage(view.versions, CURRENT);
  const result = { userName, secretName, handWrittenVersionId: null, keyInactive: false };
  if (!view.exists) return { ...result, outcome: 'no-secret', accessKeyId: null, versionId: null };
  if (!current) return { ...result, outcome: 'no-current-version', accessKeyId: null, versionId: null };
  if (current.accessKeyId !== undefined) {
    const inactive = keys.find((key) => key.accessKeyId === current.accessKeyId)?.status === 'Inactive';
    return {
      ...result,
      outcome: 'already-the-rotators',
      accessKeyId: current.accessKeyId,
      versionId: current.versionId,
      keyInactive: inactive,
    };
  }

  const value = await clients.secretsManager.send(
    new GetSecretValueCommand({ SecretId: secretName, VersionId: current.versionId, VersionStage: CURRENT }),
  );
  const stored = storedFields(value.SecretString);
  if (!stored) {
    throw new SecretStateError(
      `Secret ${secretName} (AWSCURRENT) is not a JSON object with AccessKeyId and SecretAccessKey, so it holds no key the rotator can take over. Nothing was changed. ` +
        `Store the user's key as {"AccessKeyId": "…", "SecretAccessKey": "…"} (aws secretsmanager put-secret-value --secret-id ${secretName} --secret-string …), then run adopt-secret again.`,
    );
  }
  const key = keys.find((candidate) => candidate.accessKeyId === stored.AccessKeyId);
  if (!key) {
    throw new SecretStateError(
      `Secret ${secretName} (AWSCURRENT) holds access key ${stored.AccessKeyId}, which is not a key of ${userName} (it was deleted, or belongs to another user): consumers reading the secret get a key that does not work. Nothing was changed. ` +
        `Store a working key of ${userName} there and run adopt-secret again, or delete the secret (aws secretsmanager delete-secret --secret-id ${secretName}) and rotate: the first rotation creates it.`,
    );
  }
  const versionId = versionIdFor(key.accessKeyId);
  try {
    // The same SecretString, so a consumer that parses more than the two fields reads what it read before.
    await clients.secretsManager.send(
      new PutSecretValueCommand({
        SecretId: secretName,
        ClientRequestToken: versionId,
        SecretString: value.SecretString,
        VersionStages: [CURRENT],
      }),
    );
  } catch (error) {
    // The rotator's version of this key exists already (an earlier adoption, then someone moved AWSCURRENT by hand).
    if (!(error instanceof Error && error.name === 'ResourceExistsException')) throw error;
    await moveStage(clients.secretsManager, secretName, CURRENT, { to: versionId, from: current.versionId });
  }
  return {
    ...result,
    outcome: 'adopted',
    accessKeyId: key.accessKeyId,
    versionId,
    handWrittenVersionId: current.versionId,
    keyInactive: key.status === 'Inactive',
  };
}

function describeResult(result: AdoptResult): string[] {
  const { userName, secretName } = result;
  switch (result.outcome) {
    case 'no-secret':
      return [`Secret ${secretName} does not exist: nothing to adopt. The first rotation of ${userName} creates it.`];
    case 'no-current-version':
      return [`Secret ${secretName} has no AWSCURRENT version: nothing to adopt. The first rotation of ${userName} stores its key there.`];
    case 'already-the-rotators':
      return [
        `Nothing to adopt: secret ${secretName} (AWSCURRENT) already holds key ${result.accessKeyId ?? '?'} under the rotator's version id.`,
      ];
    case 'adopted':
      return [
        `${colors.green('Adopted')} secret ${secretName}: AWSCURRENT is now version ${result.versionId ?? '?'} holding key ${result.accessKeyId ?? '?'}, ` +
          `with the same value; the hand-written version ${result.handWrittenVersionId ?? '?'} is AWSPREVIOUS.`,
        `Rotate it with: iam-key-rotator rotate ${userName}`,
      ];
  }
}

export function registerAdoptSecret(program: Command, output: Output, setResult: (code: number) => void): void {
  const command = program
    .command('adopt-secret')
    .description("Let the rotator take over a user's secret that was written by hand, so its first rotation can start.")
    .argument('<user>', 'IAM user name')
    .addHelpText('after', HELP)
    .action(async (userName: string, flags: OutputFlags) => {
      const json = outputFormat(flags) === 'json';
      const result = await adoptSecret(userName, { iam, secretsManager }, loadConfig());
      if (json) output.out(JSON.stringify(result, null, 2));
      else for (const line of describeResult(result)) output.out(line);
      if (result.keyInactive && !json) {
        output.out(
          colors.yellow(
            `Key ${result.accessKeyId ?? '?'} is Inactive: consumers reading ${result.secretName} are failing now. Reactivate it, or rotate ${userName} with --compromised if it leaked.`,
          ),
        );
      }
      setResult(0);
    });
  addOutputOptions(command, 'print the result as JSON on stdout');
}
