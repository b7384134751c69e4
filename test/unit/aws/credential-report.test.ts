import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { GenerateCredentialReportCommand, GetCredentialReportCommand, IAMClient } from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { parse } from 'csv-parse/sync';
import { fetchCredentialReport, parseCredentialReport, parseCsv } from '#shared/aws/credential-report.ts';
import { CredentialReportFormatError, CredentialReportTimeoutError } from '#shared/base/errors.ts';
import { repoPath } from '../../helpers/paths.ts';

const fixture = (name: string): string => readFileSync(repoPath('test/fixtures', name), 'utf8');

describe('parseCredentialReport', () => {
  const users = parseCredentialReport(fixture('credential-report.csv'));
  const byName = new Map(users.map((user) => [user.userName, user]));

  test('skips the root account row and keeps every IAM user', () => {
    // Assess
    expect(users.map((user) => user.userName)).toEqual(['billing-export', 'no-keys', 'old-inactive', 'team+a=b,c.d@e']);
  });

  test('reads both key slots with their state, creation and last use', () => {
    // Assess
    expect(byName.get('billing-export')).toEqual({
      userName: 'billing-export',
      arn: 'arn:aws:iam::123456789012:user/apps/billing-export',
      unreadable: undefined,
      keys: [
        { slot: 1, active: true, createdAt: new Date('2026-03-01T09:30:00Z'), lastUsedAt: new Date('2026-06-29T23:12:00Z') },
        { slot: 2, active: true, createdAt: new Date('2026-06-20T12:00:00Z'), lastUsedAt: undefined },
      ],
    });
  });

  test('N/A last_rotated means no key in that slot', () => {
    // Assess
    expect(byName.get('no-keys')?.keys).toEqual([]);
  });

  test('no_information (use before IAM tracked it) reads as no recorded use, and an inactive key stays inactive', () => {
    // Assess
    expect(byName.get('old-inactive')?.keys).toEqual([
      { slot: 1, active: false, createdAt: new Date('2014-01-01T00:00:00Z'), lastUsedAt: undefined },
    ]);
  });

  test('a quoted user name with a comma is read whole', () => {
    // Assess
    expect(byName.get('team+a=b,c.d@e')?.keys).toHaveLength(1);
  });

  describe('rows a report may hold that do not fit the header', () => {
    const rows = new Map(parseCredentialReport(fixture('credential-report-unquoted.csv')).map((user) => [user.userName, user]));

    test('an unquoted user name with a comma (as moto writes it) is rejoined when the ARN confirms it', () => {
      // Assess
      const bob = rows.get('bob+x=y,z.w@q');
      expect(bob?.unreadable).toBeUndefined();
      expect(bob?.arn).toBe('arn:aws:iam::123456789012:user/bob+x=y,z.w@q');
      expect(bob?.keys).toEqual([
        { slot: 1, active: true, createdAt: new Date('2026-11-23T08:46:36Z'), lastUsedAt: new Date('2026-11-23T08:47:00Z') },
      ]);
    });

    test('the rows after it are unaffected', () => {
      // Assess
      expect(rows.get('alice')?.keys.map((key) => key.slot)).toEqual([1, 2]);
    });

    test('a truncated row is marked unreadable rather than taken as keyless', () => {
      // Assess
      expect(rows.get('broken')?.unreadable).toMatch(/fields/);
    });

    test('a date that is not a date marks the row unreadable', () => {
      // Assess
      expect(rows.get('garbled')?.unreadable).toContain('access_key_1_last_rotated "yesterday"');
    });
  });

  describe('as reports in the wild write them', () => {
    const header = fixture('credential-report.csv').split('\n')[0] ?? '';
    const columns = header.split(',');
    /** A row of the fixture's columns: the named ones set, the rest N/A or false. */
    const row = (values: Record<string, string>): string =>
      columns.map((column) => values[column] ?? (/_active$|_enabled$/.test(column) ? 'false' : 'N/A')).join(',');
    const arn = (name: string) => `arn:aws:iam::123456789012:user/${name}`;

    test('a user on two rows, the one with the key last or first: one user, the key kept either way', () => {
      // Prepare
      const keyless = row({ user: 'twice', arn: arn('twice') });
      const keyed = row({
        user: 'twice',
        arn: arn('twice'),
        access_key_1_active: 'true',
        access_key_1_last_rotated: '2026-01-02T03:04:05+00:00',
      });

      // Act
      const keyLast = parseCredentialReport([header, keyless, keyed].join('\n'));
      const keyFirst = parseCredentialReport([header, keyed, keyless].join('\n'));

      // Assess
      for (const users of [keyLast, keyFirst]) {
        expect(users.map((user) => user.userName)).toEqual(['twice']);
        expect(users[0]?.keys).toEqual([{ slot: 1, active: true, createdAt: new Date('2026-01-02T03:04:05Z'), lastUsedAt: undefined }]);
      }
    });

    test('booleans in upper case read as booleans', () => {
      // Prepare
      const upper = row({
        user: 'shouting',
        arn: arn('shouting'),
        access_key_1_active: 'TRUE',
        access_key_1_last_rotated: '2026-01-02T03:04:05+00:00',
        access_key_2_active: 'FALSE',
        access_key_2_last_rotated: '2026-02-02T03:04:05+00:00',
      });

      // Act
      const [user] = parseCredentialReport([header, upper].join('\n'));

      // Assess
      expect(user?.keys.map((key) => [key.slot, key.active])).toEqual([
        [1, true],
        [2, false],
      ]);
    });
  });

  test('a report without the key columns is refused with a message', () => {
    // Act & Assess
    expect(() => parseCredentialReport('user,arn\nalice,arn:aws:iam::1:user/alice\n')).toThrow(CredentialReportFormatError);
    expect(() => parseCredentialReport('user,arn\n')).toThrow(/access_key_1_active/);
  });

  test('an empty report has no users', () => {
    // Act & Assess
    expect(parseCredentialReport('')).toEqual([]);
  });
});

describe('fetchCredentialReport', () => {
  const content = new TextEncoder().encode(fixture('credential-report.csv'));
  const generatedAt = new Date('2026-06-30T11:00:00Z');

  test('polls until the report is COMPLETE, backing off, then downloads and parses it', async () => {
    // Prepare
    const iam = mockClient(IAMClient);
    iam
      .on(GenerateCredentialReportCommand)
      .resolvesOnce({ State: 'STARTED' })
      .resolvesOnce({ State: 'INPROGRESS' })
      .resolvesOnce({ State: 'INPROGRESS' })
      .resolves({ State: 'COMPLETE' });
    iam.on(GetCredentialReportCommand).resolves({ Content: content, GeneratedTime: generatedAt, ReportFormat: 'text/csv' });
    const waits: number[] = [];

    // Act
    const report = await fetchCredentialReport(iam as unknown as IAMClient, { timeoutMs: 60_000, wait: async (ms) => void waits.push(ms) });

    // Assess
    expect(iam).toHaveReceivedCommandTimes(GenerateCredentialReportCommand, 4);
    expect(iam).toHaveReceivedCommandTimes(GetCredentialReportCommand, 1);
    expect(waits).toEqual([250, 500, 1000]);
    expect(report.generatedAt).toEqual(generatedAt);
    expect(report.users).toHaveLength(4);
  });

  test('the backoff stops growing at 4 seconds', async () => {
    // Prepare: a report that never completes, and a wait that records each delay on a fake clock.
    const iam = mockClient(IAMClient);
    iam.on(GenerateCredentialReportCommand).resolves({ State: 'INPROGRESS' });
    const waits: number[] = [];
    let clock = 0;
    const wait = async (ms: number): Promise<void> => {
      waits.push(ms);
      clock += ms;
    };

    // Act & Assess
    await expect(fetchCredentialReport(iam as unknown as IAMClient, { timeoutMs: 20_000, wait, elapsedNow: () => clock })).rejects.toThrow(
      CredentialReportTimeoutError,
    );

    expect(Math.max(...waits)).toBe(4000);
    expect(waits.slice(0, 5)).toEqual([250, 500, 1000, 2000, 4000]);
  });

  test('gives up at the deadline with a message that says what to change', async () => {
    // Prepare
    const iam = mockClient(IAMClient);
    iam.on(GenerateCredentialReportCommand).resolves({ State: 'INPROGRESS' });
    let clock = 0;

    // Act
    const attempt = fetchCredentialReport(iam as unknown as IAMClient, {
      timeoutMs: 5000,
      wait: async (ms) => {
        clock += ms;
      },
      elapsedNow: () => clock,
    });

    // Assess
    await expect(attempt).rejects.toThrow(/CREDENTIAL_REPORT_TIMEOUT/);
    expect(clock).toBe(5000);
    expect(iam).toHaveReceivedCommandTimes(GetCredentialReportCommand, 0);
  });

  test('keeps polling when Get says the report is not ready yet', async () => {
    // Prepare: the first Get says the report is not ready.
    const iam = mockClient(IAMClient);
    iam.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iam
      .on(GetCredentialReportCommand)
      .rejectsOnce(Object.assign(new Error('not ready'), { name: 'CredentialReportNotReadyException' }))
      .resolves({ Content: content, GeneratedTime: generatedAt });

    // Act
    const report = await fetchCredentialReport(iam as unknown as IAMClient, { timeoutMs: 60_000, wait: async () => undefined });

    // Assess
    expect(report.users).toHaveLength(4);
    expect(iam).toHaveReceivedCommandTimes(GetCredentialReportCommand, 2);
  });

  test('other errors from Get are not swallowed', async () => {
    // Prepare
    const iam = mockClient(IAMClient);
    iam.on(GenerateCredentialReportCommand).resolves({ State: 'COMPLETE' });
    iam.on(GetCredentialReportCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));

    // Act & Assess
    await expect(fetchCredentialReport(iam as unknown as IAMClient, { timeoutMs: 60_000, wait: async () => undefined })).rejects.toThrow(
      'denied',
    );
  });
});

describe('parseCsv', () => {
  const reference = (text: string): string[][] => parse(text, { relax_column_count: true, skip_empty_lines: true, trim: true });

  test.each([
    ['the fixture', fixture('credential-report.csv')],
    ['the unquoted fixture', fixture('credential-report-unquoted.csv')],
    ['quoted commas and quotes', 'user,arn\n"a,b","arn:aws:iam::1:user/""x"""\n'],
    ['CRLF, blank lines, no final newline', 'a,b\r\n\r\n c , d \r\ne,'],
    ['an empty quoted field', 'a,"",b\n'],
    ['a quoted line break', 'a,"line\nbreak"\nc,d'],
    ['ragged rows', 'a,b,c\nd\ne,f\n'],
  ])('agrees with csv-parse on %s', (_name, text) => {
    // Act & Assess
    expect(parseCsv(text)).toEqual(reference(text));
  });

  test('a report cut inside a quoted field is a CredentialReportFormatError, not a short row', () => {
    // Act & Assess
    expect(() => parseCsv('user,arn\n"alice,arn:aws')).toThrow(CredentialReportFormatError);
  });
});
