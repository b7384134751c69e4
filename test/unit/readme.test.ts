import { describe, expect, test } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SETTINGS, STACK_ONLY_SETTINGS } from '#shared/config/settings.ts';
import { TAGS } from '#shared/config/user-settings.ts';
import { NOTIFICATION_EVENTS, QUIET_EVENTS, WORKFLOW_EVENTS } from '#shared/config/notification-events.ts';
import { severityOf } from '#shared/notify/messages.ts';
import { REPORT_CSV_COLUMNS } from '#shared/report/report-csv.ts';
import * as cliMain from '../../cli/main.ts';
import { repoPath } from '../helpers/paths.ts';

const readme = readFileSync(repoPath('README.md'), 'utf8');
/** The README and every page under docs/, by their path in the repository. */
const pages = new Map<string, string>([
  ['README.md', readme],
  ...readdirSync(repoPath('docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name): [string, string] => [`docs/${name}`, readFileSync(repoPath('docs', name), 'utf8')]),
]);

function section(name: string, text = readme): string {
  const match = new RegExp(`<!-- ${name}:start -->([\\s\\S]*?)<!-- ${name}:end -->`).exec(text);
  if (!match?.[1]) throw new Error(`README has no ${name} section`);
  return match[1];
}

/** The cells of each table row in a part of the README, header and separator rows left out. */
function rows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim()),
    )
    .slice(1);
}

/** The anchor GitHub gives a heading. */
function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');
}

/** A page's headings (outside code blocks), with their level. */
function headings(text: string): { level: number; text: string }[] {
  let fenced = false;
  return text.split('\n').flatMap((line) => {
    if (line.startsWith('```')) fenced = !fenced;
    const match = /^(#{1,6}) (.+)$/.exec(line);
    return !fenced && match ? [{ level: match[1]?.length ?? 0, text: match[2] ?? '' }] : [];
  });
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
  const serverless = readFileSync(repoPath('serverless.yml'), 'utf8');

  test('every serverless.yml param is documented: by its own name, or through the setting it feeds in the settings table', () => {
    // Prepare
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

  test("the outputs table lists exactly the stack's outputs", () => {
    // Prepare
    const block = serverless.split(/^ {2}Outputs:\n/m)[1]?.split(/^ {0,2}\S/m)[0] ?? '';
    const outputs = [...block.matchAll(/^ {4}(\w+):$/gm)].map((match) => match[1]);

    // Act
    const documented = rows(section('stack-outputs')).map(([output]) => /^`(\w+)`$/.exec(output ?? '')?.[1]);

    // Assess
    expect(outputs.length).toBeGreaterThan(5);
    expect(documented.sort()).toEqual(outputs.sort());
  });
});

describe('README notifications', () => {
  test('the events table lists every event the rotator can send, in order, with its real severity and sender, and nothing else', () => {
    // Act
    const documented = rows(section('notification-events')).map(([event, severity, sentBy]) => ({
      event: /^`([a-z-]+)`$/.exec(event ?? '')?.[1],
      severity,
      workflow: sentBy === 'workflow',
    }));

    // Assess
    expect(documented).toEqual(
      NOTIFICATION_EVENTS.map((event) => ({
        event,
        severity: severityOf(event),
        workflow: (WORKFLOW_EVENTS as readonly string[]).includes(event),
      })),
    );
  });

  test('NOTIFICATIONS_QUIET is described with exactly the events it still sends, in the settings table and the notifications section', () => {
    // Prepare
    const eventsIn = (text: string): string[] =>
      [...text.matchAll(/`([a-z]+(?:-[a-z]+)+)`/g)]
        .map((match) => match[1] ?? '')
        .filter((name) => NOTIFICATION_EVENTS.includes(name as never));

    // Act
    const settingsRow = /^\| `NOTIFICATIONS_QUIET` \|.*$/m.exec(section('settings-table'))?.[0] ?? '';
    const quietSentence = /`NOTIFICATIONS_QUIET=true` sends only ([^;]+);/.exec(readme)?.[1] ?? '';

    // Assess
    expect(eventsIn(settingsRow).sort()).toEqual([...QUIET_EVENTS].sort());
    expect(eventsIn(quietSentence).sort()).toEqual([...QUIET_EVENTS].sort());
  });
});

describe('README CLI reference', () => {
  test('the exit codes table lists exactly the codes the CLI exits with', () => {
    // Prepare
    const codes = Object.entries(cliMain)
      .filter(([name]) => name.startsWith('EXIT_'))
      .map(([, value]) => value as number);

    // Act
    const documented = rows(section('exit-codes')).map(([code]) => Number(/^`(\d+)`$/.exec(code ?? '')?.[1]));

    // Assess
    expect(codes.length).toBeGreaterThan(3);
    expect(documented).toEqual(codes.sort());
  });

  test('the CLI permissions table has a row for every command, and none for a command that does not exist', () => {
    // Prepare
    const silent = { out: (): void => undefined, err: (): void => undefined };
    const commands = cliMain
      .buildProgram(silent, () => undefined)
      .commands.map((command) => command.name())
      .sort();

    // Act
    const documented = rows(section('cli-permissions')).flatMap(([cell]) =>
      [...(cell ?? '').matchAll(/`([a-z-]+)(?: --?[a-z-]+)*`/g)].map((match) => match[1] ?? ''),
    );

    // Assess
    expect(commands.length).toBeGreaterThan(10);
    expect([...new Set(documented)].sort()).toEqual(commands);
  });
});

describe('README contents', () => {
  const sections = headings(readme).filter((heading) => heading.level === 2 || heading.level === 3);

  test('the contents list names every section and subsection, in order, with the anchor GitHub gives it', () => {
    // Act
    const listed = [...section('contents').matchAll(/^( *)- \[(.+)\]\(#(.+)\)$/gm)].map((match) => [
      match[1] === '' ? 2 : 3,
      match[2],
      match[3],
    ]);

    // Assess
    expect(listed).toEqual(sections.map((heading) => [heading.level, heading.text, anchor(heading.text)]));
  });

  test("the sections follow a user's journey, from what it is to uninstalling it", () => {
    // Act
    const top = sections.filter((heading) => heading.level === 2).map((heading) => heading.text);

    // Assess
    expect(top).toEqual([
      'What it is',
      'Try it',
      'Deploy',
      'Onboard a key',
      'Operate',
      'Recover',
      'Moving off keys',
      'Uninstall and upgrade',
      'Costs',
      'Development',
    ]);
  });

  test('keeps the commands that try it and test it, verbatim', () => {
    // Act & Assess
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toMatch(/^npm test\b/m);
    expect(readme).toContain('npx iam-key-rotator');
  });
});

describe('README and docs links', () => {
  test.each([...pages.keys()])('every link in %s to a heading or a file of the repository resolves', (page) => {
    // Prepare
    const text = pages.get(page) ?? '';
    const anchorsOf = (path: string): string[] => {
      const target = pages.get(path) ?? (existsSync(repoPath(path)) ? readFileSync(repoPath(path), 'utf8') : '');
      return headings(target).map((heading) => anchor(heading.text));
    };
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? '').filter((link) => !/^[a-z]+:/.test(link));

    // Act
    const broken = links.filter((link) => {
      const [file = '', hash] = link.split('#');
      const path = file === '' ? page : join(dirname(page), file).replace(/\/$/, '');
      if (!existsSync(repoPath(path))) return true;
      if (hash === undefined) return false;
      const known = anchorsOf(path);
      return new Set(known).size !== known.length || !known.includes(hash);
    });

    // Assess
    expect(links.length).toBeGreaterThan(0);
    expect(broken).toEqual([]);
  });
});
