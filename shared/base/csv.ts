/**
 * RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. A field a spreadsheet
 * would run as a formula (=, +, -, @, tab, CR first) gets a leading apostrophe: user names and owners
 * come from IAM tags, and tags are data anyone who may tag the user can set (OWASP, CSV injection).
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Lines as CSV: CRLF line ends, as RFC 4180 says. */
export function csvLines(lines: readonly (readonly (string | number | null)[])[]): string {
  return `${lines.map((fields) => fields.map(csvField).join(',')).join('\r\n')}\r\n`;
}

/** One cell of a row that came as JSON: a list of plain values joined with "; ", anything else nested as its JSON. */
function cell(value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' || typeof item === 'number')) return value.join('; ');
  return JSON.stringify(value);
}

/**
 * Rows as CSV with a column per field, named as in the JSON, in the order the fields first appear (a field only some
 * rows have is an empty cell in the others). A header line even when there are no rows needs the columns: `columns`.
 */
export function rowsCsv(rows: readonly object[], columns: readonly string[] = []): string {
  const fields = rows.map((row) => new Map<string, unknown>(Object.entries(row)));
  const names = [...columns];
  for (const row of fields) for (const name of row.keys()) if (!names.includes(name)) names.push(name);
  return csvLines([names, ...fields.map((row) => names.map((name) => cell(row.get(name))))]);
}
