import { afterEach, describe, expect, test } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { createUser, seedSecret } from '../../helpers/rotation-fixtures.ts';
import { TrailedConsumers } from '../../helpers/trailed-consumers.ts';
import { cli } from '../../helpers/cli.ts';

// `consumers --output csv` against moto with the local CloudTrail stand-in: a column per field, the
// same header whether or not a key has consumers, so a script reading it never meets a short header.

const consumers = new TrailedConsumers();
afterEach(() => consumers.stopAll());

const COLUMNS = [
  'accessKeyId',
  'keyStatus',
  'source',
  'agent',
  'key',
  'firstSeen',
  'lastSeen',
  'calls',
  'services',
  'topCalls',
  'errors',
  'cadenceMs',
  'readsSecret',
  'newSecretReader',
];

describe('consumers --output csv', () => {
  test('a key no one called: the full header and no rows', async () => {
    // Prepare
    await createUser('csv-idle');

    // Act
    const run = await cli('consumers', 'csv-idle', '--output', 'csv');

    // Assess
    expect(run.code).toBe(0);
    expect(run.out.split('\n')).toEqual([COLUMNS.join(',')]);
  });

  test('a key a job calls with: one row per consumer under the same header', async () => {
    // Prepare
    const key = await createUser('csv-used');
    await seedSecret('csv-used', key);
    const { trail } = consumers.recorder();
    consumers.start('csv-used', trail, 'nightly-job', '203.0.113.88', false);
    await consumers.warmUp();

    // Act
    const run = await cli('consumers', 'csv-used', '--output', 'csv');

    // Assess
    expect(run.code).toBe(0);
    const [header] = run.out.split(/\r?\n/);
    expect(header).toBe(COLUMNS.join(','));
    const rows = parse(run.out, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ accessKeyId: key.accessKeyId, keyStatus: 'Active', source: '203.0.113.88' });
    expect(Number(rows[0]?.calls)).toBeGreaterThanOrEqual(5);
  });
});
