/** A self-contained SVG chart of latency percentiles by request shape (bench:api writes it to docs/). */
export interface LatencySeries {
  label: string;
  results: Array<{ shape: string; p50: number; p99: number }>;
}

const COLOURS = ['#b0413e', '#2f6f9f', '#8a8a8a', '#e8a09e', '#9cc3e0'];

const escapeXml = (text: string) =>
  text.replace(/[<>&"]/g, c => `&#${c.charCodeAt(0)};`);

/**
 * Horizontal bars on a log scale (the figures span from a few ms to seconds): per shape, one bar per
 * series up to its p99, with a tick at its p50, and the p99 written after the bar.
 */
export function latencyChartSvg(options: {
  title: string;
  shapes: string[];
  series: LatencySeries[];
  /** A vertical line at this latency, e.g. the target. */
  targetMs?: number;
}): string {
  const { title, shapes, series, targetMs = 20 } = options;
  const left = 330;
  const width = 980;
  const plotWidth = width - left - 90;
  const barHeight = 12;
  const groupHeight = series.length * (barHeight + 3) + 14;
  const top = 100;
  const height = top + shapes.length * groupHeight + 40;
  const minMs = 0.5;
  const maxMs = 10_000;
  const x = (ms: number) =>
    left +
    (Math.log10(Math.max(minMs, ms) / minMs) / Math.log10(maxMs / minMs)) *
      plotWidth;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${escapeXml(
      title,
    )}</text>`,
  ];
  series.forEach((s, i) => {
    const lx = 10 + (i % 3) * 320;
    const ly = 36 + Math.floor(i / 3) * 20;
    out.push(
      `<rect x="${lx}" y="${ly}" width="12" height="12" fill="${
        COLOURS[i % COLOURS.length]
      }"/>`,
      `<text x="${lx + 18}" y="${ly + 10}">${escapeXml(
        s.label,
      )} (bar: p99, tick: p50)</text>`,
    );
  });
  for (const ms of [1, 10, 100, 1000, 10_000]) {
    out.push(
      `<line x1="${x(ms)}" y1="${top - 8}" x2="${x(ms)}" y2="${
        height - 30
      }" stroke="#ddd"/>`,
      `<text x="${x(ms)}" y="${
        height - 14
      }" text-anchor="middle">${ms.toLocaleString('en-US')} ms</text>`,
    );
  }
  out.push(
    `<line x1="${x(targetMs)}" y1="${top - 8}" x2="${x(targetMs)}" y2="${
      height - 30
    }" stroke="#000" stroke-dasharray="4 3"/>`,
    `<text x="${x(targetMs) + 4}" y="${
      top - 12
    }">target p99 ${targetMs} ms</text>`,
  );
  shapes.forEach((shape, row) => {
    const y0 = top + row * groupHeight;
    out.push(
      `<text x="${left - 8}" y="${
        y0 + groupHeight / 2
      }" text-anchor="end">${escapeXml(shape)}</text>`,
    );
    series.forEach((s, i) => {
      const result = s.results.find(r => r.shape === shape);
      if (!result) return;
      const y = y0 + i * (barHeight + 3);
      const colour = COLOURS[i % COLOURS.length];
      out.push(
        `<rect x="${left}" y="${y}" width="${Math.max(
          1,
          x(result.p99) - left,
        )}" height="${barHeight}" fill="${colour}"/>`,
        `<line x1="${x(result.p50)}" y1="${y - 1}" x2="${x(result.p50)}" y2="${
          y + barHeight + 1
        }" stroke="#000" stroke-width="2"/>`,
        `<text x="${x(result.p99) + 4}" y="${
          y + barHeight - 2
        }" font-size="11">${result.p99}</text>`,
      );
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
