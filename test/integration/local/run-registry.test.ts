import { beforeAll, describe, expect, test } from '@jest/globals';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { runRotation } from '#local/runner.ts';
import { LOCAL_LEDGER_TABLE, localRunId, localRunRegistry } from '#local/run-registry.ts';
import { RotationInProgressError } from '#shared/base/errors.ts';
import { ensureLedgerTable } from '#shared/notify/ledger.ts';
import { cli } from '../../helpers/cli.ts';
import { createUser, keysOf, quietLogger, seedSecret, storedKey } from '../../helpers/rotation-fixtures.ts';

// A local run is not an execution anyone can list: the runner records it in its ledger table, and
// confirm/abort (in any process) read that record to know whether a rotation of the user is running.

const dynamodb = new DynamoDBClient({});
const run = (userName: string, executionName = `${userName}-run`) => ({
  userName,
  accountId: undefined,
  executionName,
  oldAccessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  kind: 'manual',
});

beforeAll(async () => {
  await ensureLedgerTable(dynamodb, LOCAL_LEDGER_TABLE);
});

describe('the local run registry', () => {
  test('a claimed run is seen as running until it is released, from another process too', async () => {
    // Prepare
    const here = localRunRegistry(dynamodb, LOCAL_LEDGER_TABLE);
    const elsewhere = localRunRegistry(dynamodb, LOCAL_LEDGER_TABLE, { host: 'another-host', pid: 4242 });

    // Act
    const lease = await here.claim(run('reg-claimed'));
    const seen = await elsewhere.running('reg-claimed');
    await lease.release();

    // Assess
    expect(seen).toMatchObject({
      userName: 'reg-claimed',
      executionName: 'reg-claimed-run',
      oldAccessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      pid: process.pid,
    });
    expect(await elsewhere.running('reg-claimed')).toBeUndefined();
    expect(
      (await dynamodb.send(new GetItemCommand({ TableName: LOCAL_LEDGER_TABLE, Key: { id: { S: localRunId('reg-claimed') } } }))).Item,
    ).toBeUndefined();
  });

  test('while another process runs the user, a second claim is refused with RotationInProgressError naming that run', async () => {
    // Prepare: another process holds the run of the user.
    const other = localRunRegistry(dynamodb, LOCAL_LEDGER_TABLE, { host: 'another-host', pid: 4242 });
    const lease = await other.claim(run('reg-busy', 'reg-busy-elsewhere'));
    try {
      // Act
      const claim = localRunRegistry(dynamodb, LOCAL_LEDGER_TABLE).claim(run('reg-busy', 'reg-busy-here'));

      // Assess
      await expect(claim).rejects.toBeInstanceOf(RotationInProgressError);
      await expect(claim).rejects.toThrow(/execution reg-busy-elsewhere.*process 4242 on another-host/);
    } finally {
      await lease.release();
    }
  });

  test('a record left by a process that is gone (same host) does not count, and the next run takes it over', async () => {
    // Prepare: a record left by a process that is gone, and a registry that sees its pid gone.
    const dead = localRunRegistry(dynamodb, LOCAL_LEDGER_TABLE, { pid: 999_999 });
    await dead.claim(run('reg-crashed', 'reg-crashed-killed'));
    const registry = localRunRegistry(dynamodb, LOCAL_LEDGER_TABLE, { isAlive: (pid) => pid !== 999_999 });

    // Act & Assess: not running; the next run takes the record over and is seen running.
    expect(await registry.running('reg-crashed')).toBeUndefined();
    const lease = await registry.claim(run('reg-crashed', 'reg-crashed-next'));
    expect(await registry.running('reg-crashed')).toMatchObject({ executionName: 'reg-crashed-next' });
    await lease.release();
  });

  test('a record from another host stops counting when its lease runs out', async () => {
    // Prepare: a run claimed on another host, and a registry two minutes later.
    const other = localRunRegistry(dynamodb, LOCAL_LEDGER_TABLE, { host: 'another-host', pid: 4242 });
    await other.claim(run('reg-lapsed'));
    const later = localRunRegistry(dynamodb, LOCAL_LEDGER_TABLE, { now: () => new Date(Date.now() + 120_000) });

    // Act & Assess: seen running now, not once its lease has run out; then the next run claims it.
    expect(await localRunRegistry(dynamodb, LOCAL_LEDGER_TABLE).running('reg-lapsed')).toBeDefined();
    expect(await later.running('reg-lapsed')).toBeUndefined();
    await (await later.claim(run('reg-lapsed', 'reg-lapsed-next'))).release();
  });

  test('a run longer than its lease stays recorded: the lease is renewed while it runs', async () => {
    // Prepare: a lease of 1.5 s.
    const registry = localRunRegistry(dynamodb, LOCAL_LEDGER_TABLE, { leaseMs: 1_500 });

    // Act: claim, and run twice as long as the lease.
    const lease = await registry.claim(run('reg-renewed'));
    try {
      await new Promise((resolve) => setTimeout(resolve, 3_000));

      // Assess
      expect(await localRunRegistry(dynamodb, LOCAL_LEDGER_TABLE, { host: 'another-host' }).running('reg-renewed')).toBeDefined();
    } finally {
      await lease.release();
    }
  }, 10_000);

  test('no ledger table yet: nothing is running', async () => {
    // Act & Assess
    expect(await localRunRegistry(dynamodb, 'iam-key-rotator-no-such-table').running('anyone')).toBeUndefined();
  });
});

describe('the local runner and confirm across processes', () => {
  test('a local run of the user in another process: rotate --local refuses and changes nothing; confirm finds that run', async () => {
    // Prepare
    const old = await createUser('two-shells', { 'rotation:health-checks': 'manual' });
    await seedSecret('two-shells', old);
    const other = localRunRegistry(dynamodb, LOCAL_LEDGER_TABLE, { host: 'another-host', pid: 4242 });
    const lease = await other.claim({ ...run('two-shells', 'two-shells-elsewhere'), oldAccessKeyId: old.accessKeyId });
    try {
      // Act
      const report = await runRotation({ userName: 'two-shells' }, { logger: quietLogger });
      const confirmed = await cli('confirm', 'two-shells');

      // Assess
      expect(report).toMatchObject({ status: 'Failed', error: { name: 'RotationInProgressError' }, states: [] });
      expect(await keysOf('two-shells')).toEqual({ [old.accessKeyId]: 'Active' });
      expect((await storedKey('two-shells')).accessKeyId).toBe(old.accessKeyId);
      // That run has stored no new key yet: nothing to act on, said as such.
      expect(confirmed.code).toBe(1);
      expect(confirmed.err).toContain('(two-shells-elsewhere) has not stored its new key yet');
    } finally {
      await lease.release();
    }
  });
});
