import type { Run } from '@lab-scheduler/plugin-lab-scheduler-common';
import { csvLine } from './csv';
import { rawDataTable } from './rawDataTable';
import { runHistoryChunks } from './runHistoryExport';

describe('csvLine', () => {
  it('quotes separators, quotes and line breaks, and leaves numbers alone', () => {
    expect(csvLine(['a,b', 'say "hi"', 'two\nlines', 1.5, null, true])).toBe(
      '"a,b","say ""hi""","two\nlines",1.5,,true\r\n',
    );
  });

  it('defuses text a spreadsheet would run as a formula, but not negative numbers', () => {
    expect(csvLine(['=HYPERLINK("x")', '+1', '-cmd', '@SUM(A1)', -2])).toBe(
      `"'=HYPERLINK(""x"")",'+1,'-cmd,'@SUM(A1),-2\r\n`,
    );
  });
});

describe('rawDataTable', () => {
  it('tabulates a spectrum point by point in its units', () => {
    expect(
      rawDataTable({
        type: 'absorbance-spectrum',
        units: { wavelength: 'nm', absorbance: 'AU' },
        data: { wavelengthNm: [250, 260], absorbance: [0.1, 0.9] },
      }),
    ).toEqual({
      columns: ['wavelength_nm', 'absorbance_AU'],
      rows: [
        [250, 0.1],
        [260, 0.9],
      ],
    });
  });

  it('gives qPCR one row per well and cycle', () => {
    const table = rawDataTable({
      type: 'qpcr-amplification',
      units: { fluorescence: 'RFU' },
      data: {
        cycles: 2,
        wells: [
          { well: 'A1', sample: 'unknown', fluorescence: [0.1, 0.5] },
          { well: 'A12', sample: 'ntc', fluorescence: [0.02, 0.03] },
        ],
      },
    });
    expect(table.columns).toEqual([
      'well',
      'sample',
      'cycle',
      'fluorescence_RFU',
    ]);
    expect(table.rows).toEqual([
      ['A1', 'unknown', 1, 0.1],
      ['A1', 'unknown', 2, 0.5],
      ['A12', 'ntc', 1, 0.02],
      ['A12', 'ntc', 2, 0.03],
    ]);
  });

  it('tabulates pH series and mass replicates', () => {
    expect(
      rawDataTable({
        type: 'ph-timeseries',
        units: { ph: 'pH', t: 's', temperature: '°C' },
        data: { tSeconds: [0, 60], ph: [7, 7.1], temperatureC: [25, 25.1] },
      }).rows,
    ).toEqual([
      [0, 7, 25],
      [60, 7.1, 25.1],
    ]);
    expect(
      rawDataTable({
        type: 'mass-reading',
        units: { mass: 'g' },
        data: { readings: [12.5, 12.51], unit: 'g' },
      }),
    ).toEqual({
      columns: ['replicate', 'mass_g'],
      rows: [
        [1, 12.5],
        [2, 12.51],
      ],
    });
  });

  it("falls back to the data's own arrays, or one row of its values", () => {
    expect(
      rawDataTable({ type: 'gateway-x', data: { a: [1, 2], b: [3, 4] } }),
    ).toEqual({
      columns: ['a', 'b'],
      rows: [
        [1, 3],
        [2, 4],
      ],
    });
    expect(
      rawDataTable({ type: 'gateway-y', data: { a: [1, 2], b: 'x' } }),
    ).toEqual({ columns: ['a', 'b'], rows: [[[1, 2], 'x']] });
  });
});

describe('runHistoryChunks', () => {
  const run = (i: number): Run => ({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    taskId: 't',
    scheduledFor: new Date(i * 1000).toISOString(),
    status: 'succeeded',
    attempt: 1,
    claimedAt: null,
    publishedAt: null,
    startedAt: null,
    finishedAt: null,
    result: { summary: { mean: i }, durationMs: 5, measurementType: 'm' },
    error: null,
    outcome: { kind: 'measured' },
  });

  function pagedReader(total: number, pageSize: number, reads: number[]) {
    return async (after?: { k: number; id: string }) => {
      const start = after ? after.k : 0;
      reads.push(start);
      const items = Array.from(
        { length: Math.min(pageSize, total - start) },
        (_, i) => run(start + i),
      );
      const end = start + items.length;
      return {
        items,
        next:
          end < total ? { k: end, id: items[items.length - 1].id } : undefined,
      };
    };
  }

  it('reads the next page only after the previous chunk was taken', async () => {
    const reads: number[] = [];
    const chunks = runHistoryChunks(pagedReader(25, 10, reads), 'csv');
    const first = await chunks.next();
    // The header plus the first page, and nothing read ahead.
    expect(reads).toEqual([0]);
    expect((first.value as string).split('\r\n')).toHaveLength(12);
    const rest: string[] = [];
    for await (const chunk of chunks) {
      rest.push(chunk);
      expect(reads).toHaveLength(rest.length + 1);
    }
    expect(reads).toEqual([0, 10, 20]);
    expect(rest.join('').trimEnd().split('\r\n')).toHaveLength(15);
  });

  it('writes JSON as one array across pages, also when empty', async () => {
    const text = async (total: number) => {
      let out = '';
      for await (const chunk of runHistoryChunks(
        pagedReader(total, 10, []),
        'json',
      ))
        out += chunk;
      return JSON.parse(out);
    };
    expect((await text(25)).map((r: Run) => r.result?.summary)).toEqual(
      Array.from({ length: 25 }, (_, i) => ({ mean: i })),
    );
    expect(await text(0)).toEqual([]);
  });
});
