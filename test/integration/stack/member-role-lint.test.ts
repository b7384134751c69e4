import { expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { repoPath } from '../../helpers/paths.ts';

// cfn-lint is a Python tool on the machine image, hence the integration tier (as test/integration/functions/package.test.ts).
// Informational checks too: they catch a hard-coded partition that would break in GovCloud or China.
test('cfn-lint finds nothing in stack/member-role.yml, informational checks included', () => {
  // Prepare
  const template = repoPath('stack/member-role.yml');

  // Act
  const lint = spawnSync('cfn-lint', ['--format', 'parseable', '--include-checks', 'I', '--', template], { encoding: 'utf8' });

  // Assess
  if (lint.error) throw new Error(`cfn-lint could not run (${lint.error.message}): install it with \`pip install cfn-lint\``);
  expect(lint.stdout.split('\n').filter((line) => /:[EWI]\d{4}:/.test(line))).toEqual([]);
  expect(lint.status).toBe(0);
});
