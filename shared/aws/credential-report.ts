import { GenerateCredentialReportCommand, GetCredentialReportCommand, type IAMClient } from '@aws-sdk/client-iam';
import { CredentialReportFormatError, CredentialReportTimeoutError } from '../base/errors.ts';

/** One access key slot of a report row. The report names no key ids: a live read supplies them. */
export interface ReportKey {
  readonly slot: 1 | 2;
  readonly active: boolean;
  /** When the key was created (the report calls it last_rotated). */
  readonly createdAt: Date;
  readonly lastUsedAt: Date | undefined;
}

export interface ReportUser {
  readonly userName: string;
  readonly arn: string;
  readonly keys: readonly ReportKey[];
  /** Set when the row could not be read; such a user is read live rather than trusted as fine. */
  readonly unreadable: string | undefined;
}

export interface CredentialReport {
  readonly generatedAt: Date | undefined;
  readonly users: readonly ReportUser[];
}

export interface ReportWaitOptions {
  readonly timeoutMs: number;
  /** Injected by tests so polling takes no real time. */
  readonly wait?: (ms: number) => Promise<void>;
  /** Monotonic milliseconds for the deadline; real time, not the policy clock (tests move that one by days). */
  readonly elapsedNow?: () => number;
}

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 4000;
const ROOT_ROW = '<root_account>';
const REQUIRED_COLUMNS = [
  'user',
  'arn',
  'access_key_1_active',
  'access_key_1_last_rotated',
  'access_key_1_last_used_date',
  'access_key_2_active',
  'access_key_2_last_rotated',
  'access_key_2_last_used_date',
] as const;
/** Values IAM writes where a column has no value: no key, never used, used before IAM tracked use. */
const NO_VALUE = new Set(['N/A', 'not_supported', 'no_information', '']);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Asks IAM for a fresh credential report and downloads it. IAM reuses a report younger than four
 * hours, so this is usually one Generate and one Get call. Polls with exponential backoff
 * (250 ms doubling to 4 s) until COMPLETE, and gives up after `timeoutMs`.
 */
export async function fetchCredentialReport(iam: IAMClient, options: ReportWaitOptions): Promise<CredentialReport> {
  const wait = options.wait ?? sleep;
  const elapsedNow = options.elapsedNow ?? (() => performance.now());
  const deadline = elapsedNow() + options.timeoutMs;
  let delay = FIRST_DELAY_MS;
  for (;;) {
    const generated = await iam.send(new GenerateCredentialReportCommand({}));
    if (generated.State === 'COMPLETE') {
      try {
        const report = await iam.send(new GetCredentialReportCommand({}));
        return { generatedAt: report.GeneratedTime, users: parseCredentialReport(new TextDecoder().decode(report.Content)) };
      } catch (error) {
        // IAM may say COMPLETE a moment before Get can serve the report: keep polling.
        if (!(error instanceof Error) || error.name !== 'CredentialReportNotReadyException') throw error;
      }
    }
    const left = deadline - elapsedNow();
    if (left <= 0) {
      throw new CredentialReportTimeoutError(
        `IAM did not finish the credential report within ${Math.round(options.timeoutMs / 1000)}s. ` +
          'Run the scan again in a minute, or raise CREDENTIAL_REPORT_TIMEOUT (e.g. 5m) for large accounts.',
      );
    }
    await wait(Math.min(delay, left));
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }
}

/**
 * Parses the report CSV. The root account's row is skipped (its keys are not IAM user keys).
 * A user name holding a comma is not always quoted (moto writes it bare, in the name and in the
 * ARN), which splits those fields; such rows are rejoined when the ARN confirms the name.
 */
export function parseCredentialReport(csv: string): ReportUser[] {
  const records = parseCsv(csv);
  const header = records[0];
  if (header === undefined) return [];
  const missing = REQUIRED_COLUMNS.filter((column) => !header.includes(column));
  if (missing.length > 0) {
    throw new CredentialReportFormatError(
      `The IAM credential report lacks the columns ${missing.join(', ')}; its format may have changed.`,
    );
  }
  const users: ReportUser[] = [];
  for (const [index, raw] of records.slice(1).entries()) {
    const fields = rejoinCommaNames(raw, header.length);
    const row = new Map(header.map((column, at) => [column, fields?.[at] ?? '']));
    const userName = row.get('user') ?? '';
    if (userName === ROOT_ROW) continue;
    if (fields === undefined) {
      users.push({
        userName: raw[0] ?? `row ${index + 2}`,
        arn: '',
        keys: [],
        unreadable: `row ${index + 2} has ${raw.length} fields, expected ${header.length}`,
      });
      continue;
    }
    const problems: string[] = [];
    const keys: ReportKey[] = [];
    for (const slot of [1, 2] as const) {
      const createdAt = readDate(row, `access_key_${slot}_last_rotated`, problems);
      if (createdAt === undefined) continue;
      keys.push({
        slot,
        // Reports in the wild write TRUE/FALSE as well as true/false.
        active: (row.get(`access_key_${slot}_active`) ?? '').toLowerCase() === 'true',
        createdAt,
        lastUsedAt: readDate(row, `access_key_${slot}_last_used_date`, problems),
      });
    }
    users.push({ userName, arn: row.get('arn') ?? '', keys, unreadable: problems.length > 0 ? problems.join('; ') : undefined });
  }
  return mergeRowsOfOneUser(users);
}

/**
 * One entry per user. Real reports can hold a user on two rows (one without keys, one with): keeping
 * either row alone could hide a key. The rows are merged, in the order of the first: for each key
 * slot the later-created key wins (a newer key replaced the older in that slot), and what could not be
 * read of either row is kept.
 */
function mergeRowsOfOneUser(rows: readonly ReportUser[]): ReportUser[] {
  const byUser = new Map<string, ReportUser>();
  for (const row of rows) {
    const seen = byUser.get(row.userName);
    if (!seen) {
      byUser.set(row.userName, row);
      continue;
    }
    const slots = new Map<number, ReportKey>();
    for (const key of [...seen.keys, ...row.keys]) {
      const held = slots.get(key.slot);
      if (!held || key.createdAt.getTime() > held.createdAt.getTime()) slots.set(key.slot, key);
    }
    const unreadable = [seen.unreadable, row.unreadable].filter((text): text is string => text !== undefined);
    byUser.set(row.userName, {
      userName: row.userName,
      arn: seen.arn || row.arn,
      keys: [...slots.values()].sort((a, b) => a.slot - b.slot),
      unreadable: unreadable.length > 0 ? unreadable.join('; ') : undefined,
    });
  }
  return [...byUser.values()];
}

function readDate(row: ReadonlyMap<string, string>, column: string, problems: string[]): Date | undefined {
  const text = row.get(column) ?? '';
  if (NO_VALUE.has(text)) return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) {
    problems.push(`${column} "${text}" is not a date`);
    return undefined;
  }
  return date;
}

/**
 * The row's fields with user and arn rejoined, or undefined when the row cannot be made to fit.
 * Every column after `arn` is comma-free, so the extra fields belong to those two; the ARN is the
 * first field starting with `arn:` (IAM user names cannot hold a colon).
 */
function rejoinCommaNames(fields: readonly string[], width: number): readonly string[] | undefined {
  if (fields.length === width) return fields;
  const lead = fields.length - (width - 2);
  if (lead < 2) return undefined;
  const arnAt = fields.findIndex((field, index) => index > 0 && index < lead && field.startsWith('arn:'));
  if (arnAt < 1) return undefined;
  const user = fields.slice(0, arnAt).join(',');
  const arn = fields.slice(arnAt, lead).join(',');
  if (!arn.endsWith(`/${user}`)) return undefined;
  return [user, arn, ...fields.slice(lead)];
}

/**
 * RFC 4180 CSV as the credential report is written: comma-separated, fields optionally in double
 * quotes ("" for a quote inside), LF or CRLF line ends; blank lines are skipped and unquoted
 * fields trimmed. Our own ~30 lines instead of a CSV library: the scanner's bundle has a size
 * budget, and the report needs nothing more (test/unit/aws/credential-report.test.ts checks it
 * against csv-parse).
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let inQuotes = false;
  let quoted = false;
  const endField = (): void => {
    row.push(quoted ? field : field.trim());
    field = '';
    quoted = false;
  };
  const endRow = (): void => {
    endField();
    if (row.length > 1 || row[0] !== '') rows.push(row);
    row = [];
  };
  for (let at = 0; at < text.length; at += 1) {
    const char = text[at];
    if (inQuotes) {
      if (char !== '"') field += char;
      else if (text[at + 1] === '"') {
        field += '"';
        at += 1;
      } else inQuotes = false;
    } else if (char === ',') endField();
    else if (char === '\n') endRow();
    else if (char === '\r') {
      if (text[at + 1] !== '\n') endRow();
    } else if (char === '"' && !quoted && field.trim() === '') {
      inQuotes = true;
      quoted = true;
      field = '';
    } else if (quoted) {
      if (char?.trim() !== '')
        throw new CredentialReportFormatError(
          `The IAM credential report has text after a closing quote at character ${at}; its format may have changed.`,
        );
    } else field += char;
  }
  if (inQuotes)
    throw new CredentialReportFormatError(
      'The IAM credential report ends inside a quoted field; it may be truncated. The next scan fetches it again.',
    );
  if (field !== '' || quoted || row.length > 0) endRow();
  return rows;
}
