/**
 * A duration in milliseconds as a person says it: "850 ms", "4.2 s", "3 min 5 s", "2 h 10 min", "3 d 4 h".
 *
 * @public
 */
export function humanDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const sign = ms < 0 ? '−' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) {
    const seconds = abs / 1000;
    return `${sign}${
      seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)
    } s`;
  }
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ];
  // Two units are enough to read: "2 h 10 min", not "2 h 10 min 3 s".
  const parts: string[] = [];
  let rest = Math.round(abs / 1000) * 1000;
  for (const [name, size] of units) {
    if (parts.length === 2) break;
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || parts.length > 0) parts.push(`${count} ${name}`);
  }
  return sign + parts.filter(p => !p.startsWith('0 ')).join(' ');
}
