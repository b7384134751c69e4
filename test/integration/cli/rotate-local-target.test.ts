import { describe, expect, test } from '@jest/globals';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, ListAccessKeysCommand, TagUserCommand } from '@aws-sdk/client-iam';
import { publishedNotifications } from '#local/moto-inspect.ts';
import { cli } from '../../helpers/cli.ts';

// `rotate --local` checks its input as a deployed start does, before the workflow starts, and names
// a real account before it acts there. "Real" here: AWS_ENDPOINT_URL unset, the SDK sent to moto by
// its per-service endpoint variables, so the CLI cannot tell it from AWS, as it could not on a laptop.

const endpoint = process.env.AWS_ENDPOINT_URL ?? '';
/** Within EXEMPTION_MAX_DAYS (90 by default) of today, so the exemption holds. */
const EXEMPT_UNTIL = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
const iam = new IAMClient({});

describe('rotate --local: input and target checked first', () => {
  test('a misspelled user or key id is bad usage (exit 2): no workflow ran, no one was notified', async () => {
    // Prepare
    await iam.send(new CreateUserCommand({ UserName: 'typo-target' }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'typo-target' }))).AccessKey?.AccessKeyId ?? '';

    // Act
    const user = await cli('rotate', 'typo-targte', '--local');
    const wrongKey = await cli('rotate', 'typo-target', '--local', '--key', 'AKIAIOSFODNN7EXAMPLE');

    // Assess
    expect(user.code).toBe(2);
    expect(user.err).toContain('typo-targte');
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.err).toContain(`IAM user typo-target has no access key AKIAIOSFODNN7EXAMPLE (keys: ${key})`);
    expect(`${user.out}${wrongKey.out}`).not.toContain('MakeSafe');
    expect(await publishedNotifications(endpoint)).toEqual([]);
  });

  test.each([
    [
      'exempt (rotation:exempt)',
      'exempt-target',
      { 'rotation:exempt': 'vendor contract', 'rotation:exempt-until': EXEMPT_UNTIL },
      'UserExemptError',
    ],
    ['with a misspelled gate tag', 'typo-tag-target', { 'rotation:health-checks': 'new-key-used typo-check' }, 'InvalidTagError'],
  ])(
    'a user %s is refused as a deployed start refuses it (exit 1): no workflow ran, no key made, no one notified',
    async (_name, userName, tags, errorName) => {
      // Prepare
      await iam.send(new CreateUserCommand({ UserName: userName }));
      await iam.send(new TagUserCommand({ UserName: userName, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
      await iam.send(new CreateAccessKeyCommand({ UserName: userName }));

      // Act
      const refused = await cli('rotate', userName, '--local');

      // Assess
      expect(refused.code).toBe(1);
      expect(refused.err).toContain(`error (${errorName})`);
      expect(refused.out).not.toContain('Prepare');
      expect((await iam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata).toHaveLength(1);
      expect(await publishedNotifications(endpoint)).toEqual([]);
    },
  );

  test('without AWS_ENDPOINT_URL it names the account, alias and region, and without --yes (no terminal to ask) changes nothing', async () => {
    // Prepare
    await iam.send(new CreateUserCommand({ UserName: 'real-target' }));
    await iam.send(new CreateAccessKeyCommand({ UserName: 'real-target' }));
    const saved = process.env.AWS_ENDPOINT_URL;
    Object.assign(process.env, { AWS_ENDPOINT_URL_IAM: endpoint, AWS_ENDPOINT_URL_STS: endpoint });
    delete process.env.AWS_ENDPOINT_URL;

    // Act
    const refused = await cli('rotate', 'real-target', '--local').finally(() => {
      process.env.AWS_ENDPOINT_URL = saved;
      delete process.env.AWS_ENDPOINT_URL_IAM;
      delete process.env.AWS_ENDPOINT_URL_STS;
    });

    // Assess
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('--local without AWS_ENDPOINT_URL acts in a real account: AWS account 123456789012');
    expect(refused.err).toContain('region us-east-1');
    expect(refused.err).toContain('The key to be cut counts as idle only after 1d with no use (OLD_KEY_QUIET_PERIOD, as deployed');
    expect(refused.err).toContain('needs --yes');
    expect(await publishedNotifications(endpoint)).toEqual([]);
  });

  test('a misspelled rotation tag key refuses nothing but is said before the run starts', async () => {
    // Prepare: last in the file, as the run notifies (the tests above assert that nothing was).
    await iam.send(new CreateUserCommand({ UserName: 'typo-key-target' }));
    await iam.send(new TagUserCommand({ UserName: 'typo-key-target', Tags: [{ Key: 'rotation:health-check', Value: 'manual' }] }));
    await iam.send(new CreateAccessKeyCommand({ UserName: 'typo-key-target' }));

    // Act
    const run = await cli('rotate', 'typo-key-target', '--local', '--health-check-interval', '200ms', '--health-check-deadline', '1s');

    // Assess
    expect(run.err).toContain(
      'warning: User typo-key-target: tag rotation:health-check="manual" is not a tag iam-key-rotator reads (did you mean rotation:health-checks?)',
    );
    expect(run.out).toContain('Prepare');
  }, 30_000);
});
