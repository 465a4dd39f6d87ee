/** Human output is aligned tables and key/value lists; --json prints what the API returned. */

export type Cell = string | number | null | undefined;

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(columns: string[], rows: Cell[][], empty = 'nothing to show'): void {
  if (rows.length === 0) {
    process.stderr.write(`${empty}\n`);
    return;
  }
  const text = rows.map((row) => row.map(cellText));
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(columns), ...text.map(line)].join('\n')}\n`);
}

export function printFields(fields: [string, Cell][]): void {
  const width = Math.max(...fields.map(([k]) => k.length));
  process.stdout.write(`${fields.map(([k, v]) => `${`${k}:`.padEnd(width + 1)}  ${cellText(v)}`).join('\n')}\n`);
}

function cellText(value: Cell): string {
  return value === null || value === undefined || value === '' ? '-' : String(value);
}
