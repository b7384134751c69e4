import { csvLines } from '../base/csv.ts';
import type { ComplianceReport, ReportKey } from './compliance-report.ts';

/**
 * The CSV's columns, one row per key, in this order. Auditors' spreadsheets and scripts read them by
 * name, so a name never changes meaning; new columns go at the end. The README's table is checked against this list.
 */
export const REPORT_CSV_COLUMNS: readonly { readonly name: string; readonly value: (key: ReportKey) => string | number | null }[] = [
  { name: 'account_id', value: (key) => key.accountId },
  { name: 'account_name', value: (key) => key.accountName },
  { name: 'user_name', value: (key) => key.userName },
  { name: 'access_key_id', value: (key) => key.accessKeyId },
  { name: 'key_status', value: (key) => key.status },
  { name: 'compliance', value: (key) => key.compliance },
  { name: 'class', value: (key) => key.class },
  { name: 'age_days', value: (key) => key.ageDays },
  { name: 'max_age_days', value: (key) => key.maxAgeDays },
  { name: 'due_on', value: (key) => key.dueOn },
  { name: 'created_at', value: (key) => key.createdAt },
  { name: 'last_used_at', value: (key) => key.lastUsedAt },
  { name: 'owner', value: (key) => key.owner },
  { name: 'exempt_until', value: (key) => key.exemptUntil },
  { name: 'reason', value: (key) => key.reason },
  { name: 'last_rotation_started_at', value: (key) => key.lastRotation?.startedAt ?? null },
  { name: 'last_rotation_outcome', value: (key) => key.lastRotation?.outcome ?? null },
  { name: 'last_rotation_gate_wait_seconds', value: (key) => key.lastRotation?.gateWaitSeconds ?? null },
  { name: 'last_rotation_execution', value: (key) => key.lastRotation?.executionName ?? null },
];

/** The report as CSV: a header line, then one line per key, CRLF line ends as RFC 4180 says. */
export function reportCsv(report: ComplianceReport): string {
  return csvLines([
    REPORT_CSV_COLUMNS.map((column) => column.name),
    ...report.keys.map((key) => REPORT_CSV_COLUMNS.map((column) => column.value(key))),
  ]);
}
