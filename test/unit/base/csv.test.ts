import { describe, expect, test } from '@jest/globals';
import { csvField, rowsCsv } from '#shared/base/csv.ts';

describe('rowsCsv', () => {
  test('a column per field in the order fields first appear; a field some rows lack is an empty cell', () => {
    // Act
    const text = rowsCsv([
      { userName: 'alice', ageDays: 91 },
      { userName: 'bob', ageDays: 3, weakened: [{ tag: 'rotation:max-age-days', value: '365' }] },
    ]);

    // Assess
    expect(text).toBe('userName,ageDays,weakened\r\nalice,91,\r\nbob,3,"[{""tag"":""rotation:max-age-days"",""value"":""365""}]"\r\n');
  });

  test('lists of plain values are joined with "; ", null and undefined are empty, booleans are words', () => {
    // Act & Assess
    expect(rowsCsv([{ regions: ['eu-west-1', 'us-east-1'], lastUsedAt: null, gone: undefined, newReader: false }])).toBe(
      'regions,lastUsedAt,gone,newReader\r\neu-west-1; us-east-1,,,false\r\n',
    );
  });

  test('with no rows, the header still names the columns given', () => {
    // Act & Assess
    expect(rowsCsv([], ['accessKeyId', 'keyStatus'])).toBe('accessKeyId,keyStatus\r\n');
  });

  test('a value a spreadsheet would run as a formula is defused, commas and quotes are quoted', () => {
    // Act & Assess
    expect(rowsCsv([{ owner: '=cmd|"/c calc"!A1', note: 'a, b' }])).toBe(`owner,note\r\n"'=cmd|""/c calc""!A1","a, b"\r\n`);
    expect(csvField(-3)).toBe('-3');
  });
});
