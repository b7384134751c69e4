/** A demo's outcome table as printed (NO_COLOR): its column headings, and a user's row as cells by heading. */
export interface PrintedTable {
  readonly headings: readonly string[];
  /** Each cell's lines, trimmed, joined by newlines; empty when the table has no row for the user. */
  row(userName: string): Readonly<Record<string, string>>;
}

const cellsOf = (line: string): string[] => line.split('│').slice(1, -1);

export function printedTable(stdout: string): PrintedTable {
  const lines = stdout.split('\n');
  const headings = cellsOf(lines.find((line) => cellsOf(line).some((cell) => cell.trim() === 'user')) ?? '').map((cell) => cell.trim());
  return {
    headings,
    row: (userName) => {
      const first = lines.findIndex((line) => line.includes(`│ ${userName} `));
      if (first < 0) return {};
      const border = lines.findIndex((line, at) => at > first && /^[├└]/.test(line));
      const rowLines = lines.slice(first, border < 0 ? undefined : border).map(cellsOf);
      return Object.fromEntries(
        headings.map((heading, column) => [
          heading,
          rowLines
            .map((cells) => (cells[column] ?? '').trim())
            .filter((text) => text !== '')
            .join('\n'),
        ]),
      );
    },
  };
}
