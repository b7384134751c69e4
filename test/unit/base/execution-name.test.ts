import { describe, expect, test } from '@jest/globals';
import { EXECUTION_NAME, executionName } from '#shared/base/execution-name.ts';

describe('executionName', () => {
  test('is the same for the same user, key and kind', () => {
    // Act & Assess
    expect(executionName('alice', 'AKIAIOSFODNN7EXAMPLE', 'scheduled')).toBe(executionName('alice', 'AKIAIOSFODNN7EXAMPLE', 'scheduled'));
  });

  test('reads as user, key id, kind and a short hash', () => {
    // Act & Assess
    expect(executionName('alice', 'AKIAIOSFODNN7EXAMPLE', 'scheduled')).toMatch(/^alice-AKIAIOSFODNN7EXAMPLE-scheduled-[0-9a-f]{10}$/);
  });

  test.each([
    ['a plain name', 'alice'],
    ['every character IAM allows', 'a+b=c,d.e@f_g-h'],
    ['the longest IAM user name', 'u'.repeat(64)],
    ['a long key id', `AKIA${'X'.repeat(124)}`],
  ])('is a valid Step Functions name for %s', (_name, userName) => {
    // Act & Assess
    expect(executionName(userName, 'AKIAIOSFODNN7EXAMPLE', 'scheduled')).toMatch(EXECUTION_NAME);
    expect(executionName('alice', userName, 'compromise')).toMatch(EXECUTION_NAME);
  });

  test('users whose names differ only in characters that are replaced never collide', () => {
    // Act
    const names = ['a+b', 'a=b', 'a,b', 'a.b', 'a@b', 'a_b'].map((user) => executionName(user, 'AKIAIOSFODNN7EXAMPLE', 'scheduled'));

    // Assess
    expect(new Set(names).size).toBe(names.length);
  });

  test('long names that share the kept prefix never collide', () => {
    // Act
    const a = executionName(`${'u'.repeat(60)}a`, 'AKIAIOSFODNN7EXAMPLE', 'scheduled');
    const b = executionName(`${'u'.repeat(60)}b`, 'AKIAIOSFODNN7EXAMPLE', 'scheduled');

    // Assess
    expect(a).not.toBe(b);
  });

  test('the kind is part of the name, so a compromise rotation is not mistaken for a scheduled one', () => {
    // Act & Assess
    expect(executionName('alice', 'AKIAIOSFODNN7EXAMPLE', 'compromise')).not.toBe(
      executionName('alice', 'AKIAIOSFODNN7EXAMPLE', 'scheduled'),
    );
  });

  test('a later attempt (a manual rotation asked for again after the first ended) has a name of its own; attempt 1 is the plain name', () => {
    // Act & Assess: the plain name against attempt 1, then attempt 2, then twenty attempts of the longest names.
    const first = executionName('alice', 'AKIAIOSFODNN7EXAMPLE', 'manual');
    expect(executionName('alice', 'AKIAIOSFODNN7EXAMPLE', 'manual', 1)).toBe(first);
    expect(executionName('alice', 'AKIAIOSFODNN7EXAMPLE', 'manual', 2)).toMatch(/^alice-AKIAIOSFODNN7EXAMPLE-manual2-[0-9a-f]{10}$/);
    const attempts = Array.from({ length: 20 }, (_unused, index) =>
      executionName('u'.repeat(64), `AKIA${'X'.repeat(124)}`, 'manual', index + 1),
    );
    expect(new Set(attempts).size).toBe(20);
    for (const name of attempts) expect(name).toMatch(EXECUTION_NAME);
  });
});
