/**
 * One CSV line (RFC 4180, CRLF). A text cell starting with =, +, -, @, tab or CR is prefixed with an
 * apostrophe, so that a spreadsheet opening the export never runs it as a formula (task names, errors
 * and summary texts come from users and instruments). Numbers are written as they are.
 */
export function csvLine(cells: unknown[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
