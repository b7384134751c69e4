import { COMPLIANCE_STATES, type ComplianceReport, type ComplianceState } from './compliance-report.ts';
import { COMPLIANCE_COLORS, chartSvg, keyAgeSpec, rotationsPerWeekSpec } from './report-charts.ts';

/** Every value on the page comes from IAM (user names, tags): escaped, so a tag can never become markup. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char);
}

const e = (value: string | number | null | undefined): string => (value === null || value === undefined ? '—' : escapeHtml(String(value)));

const STATE_TEXT: Readonly<Record<ComplianceState, string>> = {
  compliant: 'inside their rotation window',
  due: 'past their window, rotating now',
  overdue: 'past their window, nothing rotating them',
  unused: 'nobody uses them: retire rather than rotate',
  exempt: 'held back by an exemption',
  inactive: 'cannot sign requests',
};

// No external font, script or image: the file opens from disk with no network, and prints as shown.
const STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; } h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #ddd; padding-bottom: .25rem; }
.meta { color: #555; margin: 0 0 1rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: .75rem; }
.card { border: 1px solid #ddd; border-left: 6px solid var(--c); border-radius: 4px; padding: .5rem .75rem; }
.card .n { font-size: 1.8rem; font-weight: 600; } .card .t { color: #444; font-size: .85rem; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; } figcaption { color: #555; font-size: .85rem; }
table { border-collapse: collapse; width: 100%; font-size: 12px; }
th, td { border-bottom: 1px solid #e5e5e5; padding: .3rem .4rem; text-align: left; vertical-align: top; }
th { background: #f5f5f5; position: sticky; top: 0; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.state { display: inline-block; padding: 0 .4rem; border-radius: 3px; color: #fff; background: var(--c); font-weight: 600; }
.state.compliant, .state.due, .state.inactive { color: #1a1a1a; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 11px; }
.note { background: #fff8e1; border: 1px solid #f0d98c; padding: .5rem .75rem; border-radius: 4px; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { margin: 0; max-width: none; font-size: 11px; }
  th { position: static; } thead { display: table-header-group; } tr, .card, figure { break-inside: avoid; }
  h2 { break-after: avoid; }
}`;

function summaryCards(report: ComplianceReport): string {
  return COMPLIANCE_STATES.map(
    (state) =>
      `<div class="card" style="--c:${COMPLIANCE_COLORS[state]}"><div class="n" data-summary="${state}">${report.summary[state]}</div>` +
      `<div class="t"><b>${state}</b>: ${STATE_TEXT[state]}${state === 'compliant' && report.summary.dueSoon > 0 ? ` (${report.summary.dueSoon} due soon)` : ''}</div></div>`,
  ).join('');
}

function stateBadge(state: ComplianceState): string {
  return `<span class="state ${state}" style="--c:${COMPLIANCE_COLORS[state]}">${state}</span>`;
}

function keysTable(report: ComplianceReport, perAccount: boolean): string {
  const rows = report.keys.map(
    (key) =>
      `<tr data-state="${key.compliance}">${perAccount ? `<td>${e(key.accountName ?? key.accountId)}<br><code>${e(key.accountId)}</code></td>` : ''}` +
      `<td>${e(key.userName)}</td><td><code>${e(key.accessKeyId)}</code></td><td>${stateBadge(key.compliance)}</td>` +
      `<td class="num">${key.ageDays}</td><td class="num">${key.maxAgeDays}</td><td>${e(key.dueOn)}</td><td>${e(key.lastUsedAt?.slice(0, 10))}</td>` +
      `<td>${e(key.owner)}</td><td>${e(key.exemptUntil)}</td>` +
      `<td>${key.lastRotation ? `${e(key.lastRotation.startedAt.slice(0, 10))} ${e(key.lastRotation.outcome)}` : '—'}</td><td>${e(key.reason)}</td></tr>`,
  );
  return (
    `<table id="keys"><thead><tr>${perAccount ? '<th>account</th>' : ''}<th>user</th><th>access key</th><th>state</th><th>age (days)</th>` +
    `<th>window (days)</th><th>due on</th><th>last used</th><th>owner</th><th>exempt until</th><th>last rotation</th><th>reason</th></tr></thead>` +
    `<tbody>${rows.join('\n')}</tbody></table>`
  );
}

function rotationsTable(report: ComplianceReport): string {
  if (report.history.rotations.length === 0) return `<p>No rotation started in the period.</p>`;
  const rows = report.history.rotations.map(
    (record) =>
      `<tr><td>${e(record.startedAt.replace('T', ' ').slice(0, 19))}</td><td>${e(record.userName)}</td><td><code>${e(record.oldAccessKeyId)}</code></td>` +
      `<td><code>${e(record.newAccessKeyId)}</code></td><td>${e(record.kind)}</td><td>${e(record.outcome)}</td>` +
      `<td class="num">${e(record.gateWaitSeconds)}</td><td><code>${e(record.executionName)}</code></td></tr>`,
  );
  return (
    `<table id="rotations"><thead><tr><th>started (UTC)</th><th>user</th><th>old key</th><th>new key</th><th>kind</th><th>outcome</th>` +
    `<th>gate wait (s)</th><th>execution</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`
  );
}

function accountsTable(report: ComplianceReport): string {
  const rows = report.accounts.map(
    (account) =>
      `<tr><td>${e(account.accountName)}</td><td><code>${e(account.accountId)}</code></td><td class="num">${account.summary.keys}</td>` +
      COMPLIANCE_STATES.map((state) => `<td class="num">${account.summary[state]}</td>`).join('') +
      `<td>${account.error === null ? (account.problems > 0 ? `${account.problems} users or tags could not be read` : '') : e(account.error)}</td></tr>`,
  );
  return (
    `<table id="accounts"><thead><tr><th>account</th><th>id</th><th>keys</th>${COMPLIANCE_STATES.map((state) => `<th>${state}</th>`).join('')}` +
    `<th>problems</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`
  );
}

function problemsSection(report: ComplianceReport): string {
  const items = [
    ...report.userErrors.map(
      (problem) => `<li>${e(problem.accountId)} ${e(problem.userName)}: ${e(problem.error)}: ${e(problem.message)}</li>`,
    ),
    ...report.tagProblems.map(
      (problem) => `<li>${e(problem.accountId)} ${e(problem.userName)}: tag ${e(problem.tag)}: ${e(problem.message)}</li>`,
    ),
    ...report.accounts
      .filter((account) => account.error !== null)
      .map((account) => `<li>account ${e(account.accountId)} could not be read: ${e(account.error)}</li>`),
  ];
  return items.length === 0 ? '' : `<h2>What the report could not read</h2><ul>${items.join('')}</ul>`;
}

/** The compliance report as one self-contained HTML page: summary, two charts drawn to SVG now, and the tables. */
export async function reportHtml(report: ComplianceReport, title: string): Promise<string> {
  const perAccount = report.accounts.length > 1;
  const ages = await chartSvg(keyAgeSpec(report));
  const weeks = report.history.perWeek.length === 0 ? null : await chartSvg(rotationsPerWeekSpec(report));
  const historyNote = report.history.note === null ? '' : `<p class="note">${e(report.history.note)}</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${e(title)}</h1>
<p class="meta">Generated ${e(report.generatedAt.replace('T', ' ').slice(0, 19))} UTC by iam-key-rotator${report.asOf === report.generatedAt ? '' : ` · key ages as of ${e(report.asOf.slice(0, 10))}`} · ${report.summary.keys} access keys in ${report.accounts.length} account${report.accounts.length === 1 ? '' : 's'} · default rotation window ${report.defaultMaxAgeDays} days · rotations since ${e(report.history.since.slice(0, 10))}</p>
<section id="summary"><h2>Summary</h2><div class="cards">${summaryCards(report)}</div></section>
<section><h2>Key ages against the rotation window</h2><figure id="ages-chart">${ages}<figcaption>Active keys by age; colour is each key's state against its own window (a user's tag may shorten it). The dashed line is the account default.</figcaption></figure></section>
<section><h2>Rotations per week</h2>${historyNote}${weeks === null ? '<p>No rotation started in the period.</p>' : `<figure id="weeks-chart">${weeks}<figcaption>Rotations by the week they started, by how they ended.</figcaption></figure>`}</section>
${perAccount ? `<section><h2>Accounts</h2>${accountsTable(report)}</section>` : ''}
<section><h2>Keys</h2>${keysTable(report, perAccount)}</section>
<section><h2>Rotations</h2>${rotationsTable(report)}</section>
${problemsSection(report)}
</body></html>
`;
}
