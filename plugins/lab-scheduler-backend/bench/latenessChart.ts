/** A self-contained SVG chart of dispatch lateness percentiles (npm run bench writes it to docs/). */
export interface LatenessRow {
  label: string;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

const MARKS: Array<{ key: keyof Omit<LatenessRow, 'label'>; name: string }> = [
  { key: 'p50', name: 'p50' },
  { key: 'p90', name: 'p90' },
  { key: 'p99', name: 'p99' },
  { key: 'p999', name: 'p99.9' },
  { key: 'max', name: 'max' },
];
const COLOURS = ['#2f6f9f', '#5b8c3a', '#b0413e', '#8a5a9f', '#555'];

const escapeXml = (text: string) =>
  text.replace(/[<>&"]/g, c => `&#${c.charCodeAt(0)};`);

/**
 * One row per workload: a line from p50 to max on a log scale (lateness spans from a millisecond to
 * seconds), a dot per percentile, the p99 written at the right, and a dashed line at the target.
 */
export function latenessChartSvg(options: {
  title: string;
  subtitle: string;
  rows: LatenessRow[];
  targetMs: number;
}): string {
  const { title, subtitle, rows, targetMs } = options;
  const left = 360;
  const width = 1000;
  const plotWidth = width - left - 110;
  const rowHeight = 26;
  const top = 92;
  const height = top + rows.length * rowHeight + 44;
  const minMs = 0.5;
  const maxMs = 100_000;
  const x = (ms: number) =>
    left +
    (Math.log10(Math.min(maxMs, Math.max(minMs, ms)) / minMs) /
      Math.log10(maxMs / minMs)) *
      plotWidth;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${escapeXml(
      title,
    )}</text>`,
    `<text x="10" y="42" fill="#444">${escapeXml(subtitle)}</text>`,
  ];
  MARKS.forEach((mark, i) => {
    const lx = 10 + i * 90;
    out.push(
      `<circle cx="${lx + 6}" cy="62" r="5" fill="${COLOURS[i]}"/>`,
      `<text x="${lx + 16}" y="66">${mark.name}</text>`,
    );
  });
  for (const ms of [1, 10, 100, 1000, 10_000, 100_000]) {
    out.push(
      `<line x1="${x(ms)}" y1="${top - 8}" x2="${x(ms)}" y2="${
        height - 34
      }" stroke="#ddd"/>`,
      `<text x="${x(ms)}" y="${
        height - 18
      }" text-anchor="middle">${ms.toLocaleString('en-US')} ms</text>`,
    );
  }
  out.push(
    `<line x1="${x(targetMs)}" y1="${top - 8}" x2="${x(targetMs)}" y2="${
      height - 34
    }" stroke="#000" stroke-dasharray="4 3"/>`,
    `<text x="${x(targetMs) + 4}" y="${
      top - 12
    }">target p99 ${targetMs} ms</text>`,
  );
  rows.forEach((row, i) => {
    const y = top + i * rowHeight + rowHeight / 2;
    out.push(
      `<text x="${left - 10}" y="${y + 4}" text-anchor="end">${escapeXml(
        row.label,
      )}</text>`,
      `<line x1="${x(row.p50)}" y1="${y}" x2="${x(
        row.max,
      )}" y2="${y}" stroke="#999" stroke-width="2"/>`,
      ...MARKS.map(
        (mark, m) =>
          `<circle cx="${x(row[mark.key])}" cy="${y}" r="5" fill="${
            COLOURS[m]
          }"><title>${mark.name} ${row[mark.key]} ms</title></circle>`,
      ),
      `<text x="${width - 100}" y="${y + 4}">p99 ${row.p99.toLocaleString(
        'en-US',
      )} ms</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
