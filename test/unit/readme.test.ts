import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { SETTINGS, STACK_ONLY_SETTINGS } from '#shared/config/settings.ts';
import { TAGS } from '#shared/config/user-settings.ts';
import { REPORT_CSV_COLUMNS } from '#shared/report/report-csv.ts';
import { repoPath } from '../helpers/paths.ts';

const readme = readFileSync(repoPath('README.md'), 'utf8');

function section(name: string): string {
  const match = new RegExp(`<!-- ${name}:start -->([\\s\\S]*?)<!-- ${name}:end -->`).exec(readme);
  if (!match?.[1]) throw new Error(`README has no ${name} section`);
  return match[1];
}

describe('README configuration reference', () => {
  test('documents every setting with its real default, and nothing that does not exist', () => {
    // Act
    const rows = section('settings-table')
      .split('\n')
      .map((line) => /^\| `([A-Z_]+)` \| ([^|]+) \|/.exec(line))
      .filter((match): match is RegExpExecArray => match !== null);
    const documented = new Map(rows.map((row) => [row[1], (row[2] ?? '').trim()]));

    // Assess
    const settings = Object.values(SETTINGS);
    expect([...documented.keys()].sort()).toEqual(settings.map((setting) => setting.env).sort());
    for (const setting of settings) {
      const shown = documented.get(setting.env) ?? '';
      if (setting.default === '') expect(shown.startsWith('(')).toBe(true);
      else expect(shown).toBe(`\`${setting.default}\``);
    }
  });

  test('lists exactly the stack-only settings an SSM parameter may not set', () => {
    // Act
    const documented = [...section('stack-only').matchAll(/`([A-Z_]+)`/g)].map((match) => match[1]);

    // Assess
    expect(documented.sort()).toEqual([...STACK_ONLY_SETTINGS].sort());
  });

  test('documents every tag the rotator reads', () => {
    // Act
    const documented = section('tags-table')
      .split('\n')
      .map((line) => /^\| `(rotation:[a-z-]+)` \|/.exec(line)?.[1])
      .filter((tag): tag is string => tag !== undefined);

    // Assess
    expect(documented.sort()).toEqual(Object.values(TAGS).sort());
  });
});

describe('README compliance report', () => {
  test('documents every CSV column, in the order the report writes them', () => {
    // Act
    const documented = section('report-csv-columns')
      .split('\n')
      .map((line) => /^\| `([a-z_]+)` \|/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);

    // Assess
    expect(documented).toEqual(REPORT_CSV_COLUMNS.map((column) => column.name));
  });
});

describe('README deploy parameters', () => {
  test('every serverless.yml param is documented: by its own name, or through the setting it feeds in the settings table', () => {
    // Prepare
    const serverless = readFileSync(repoPath('serverless.yml'), 'utf8');
    const params = [...(/^params:\n {2}default:\n([\s\S]*?)\n\S/m.exec(serverless)?.[1] ?? '').matchAll(/^ {4}(\w+):/gm)].map(
      (match) => match[1] ?? '',
    );
    const settingsRows = section('settings-table');
    // A CloudFormation parameter whose default is the param, and the environment variables set from either.
    const cfnOf = new Map(
      [...serverless.matchAll(/^ {4}(\w+):\n {6}Type: String\n {6}Default: '\$\{param:(\w+)\}'/gm)].map((m) => [m[2], m[1]]),
    );
    const feeds = (param: string): string[] =>
      [...serverless.matchAll(/^ {4}([A-Z_]+): (.+)$/gm)]
        .filter(([, , value]) => value === `\${param:${param}}` || (cfnOf.has(param) && value === `!Ref ${cfnOf.get(param) ?? ''}`))
        .map((match) => match[1] ?? '');

    // Act
    const undocumented = params.filter(
      (param) => !readme.includes(`\`${param}\``) && !feeds(param).some((env) => settingsRows.includes(`| \`${env}\` |`)),
    );

    // Assess
    expect(params.length).toBeGreaterThan(40);
    expect(undocumented).toEqual([]);
  });
});

describe('README contents', () => {
  test('the contents list names every section, in order, with the anchor GitHub gives it', () => {
    // Prepare
    const headings = [...readme.matchAll(/^## (.+)$/gm)].map((match) => match[1] ?? '');
    const anchor = (heading: string): string =>
      heading
        .toLowerCase()
        .replace(/[^\w\- ]/g, '')
        .replace(/ /g, '-');

    // Act
    const listed = [...section('contents').matchAll(/^- \[(.+)\]\(#(.+)\)$/gm)].map((match) => [match[1], match[2]]);

    // Assess
    expect(listed).toEqual(headings.map((heading) => [heading, anchor(heading)]));
  });
});
