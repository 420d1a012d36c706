import { processMeasurement } from './processMeasurement';

const raw = (type: string, data: Record<string, unknown>) => ({
  type,
  instrumentRef: 'resource:default/x',
  acquiredAt: '2026-12-01T09:00:00.000Z',
  units: {},
  data,
});

describe('processMeasurement', () => {
  it('finds the spectrum peak and checks it', () => {
    const result = processMeasurement(
      raw('absorbance-spectrum', {
        wavelengthNm: [250, 260, 270, 280],
        absorbance: [0.5, 0.9, 0.7, 0.45],
      }),
      { qc: { minPeakAbsorbance: 1, expectedPeakNm: 260, peakToleranceNm: 2 } },
    );
    expect(result.summary).toMatchObject({
      peakWavelengthNm: 260,
      peakAbsorbance: 0.9,
      ratio260to280: 2,
    });
    expect(result.qc.status).toBe('fail');
    expect(result.qc.checks.map(c => [c.name, c.pass])).toEqual([
      ['peakAbsorbance', false],
      ['peakWavelengthNm', true],
    ]);
  });

  it('computes plate statistics and flags outliers', () => {
    const od = Array.from({ length: 8 }, () => [0.05, ...Array(11).fill(0.5)]);
    od[3][5] = 3;
    const result = processMeasurement(
      raw('plate-od', {
        wavelengthNm: 600,
        rows: 8,
        cols: 12,
        rowLabels: 'ABCDEFGH'.split(''),
        od,
      }),
      { qc: { maxBlankOd: 0.1 } },
    );
    expect(result.summary).toMatchObject({
      blankMeanOd: 0.05,
      outlierCount: 1,
      outliers: [{ well: 'D6', od: 3 }],
    });
    expect(result.qc.status).toBe('pass');
  });

  it('measures pH drift per minute', () => {
    const tSeconds = [0, 60, 120, 180];
    const result = processMeasurement(
      raw('ph-timeseries', {
        tSeconds,
        ph: [7, 7.1, 7.2, 7.3],
        temperatureC: [25, 25, 25, 25],
      }),
      { qc: { maxDriftPerMinute: 0.05 } },
    );
    expect(result.summary.driftPerMinute).toBeCloseTo(0.1, 6);
    expect(result.qc.status).toBe('fail');
  });

  it('interpolates Ct values and checks no-template controls', () => {
    const result = processMeasurement(
      raw('qpcr-amplification', {
        cycles: 4,
        threshold: 0.5,
        wells: [
          { well: 'A1', sample: 'unknown', fluorescence: [0, 0.2, 0.8, 1.2] },
          { well: 'A12', sample: 'ntc', fluorescence: [0, 0.01, 0.02, 0.02] },
        ],
      }),
      { qc: { maxCt: 3, maxNtcAmplification: 0.1 } },
    );
    expect(result.summary).toMatchObject({
      amplifiedWells: 1,
      meanCt: 2.5,
      ntcMaxFluorescence: 0.02,
    });
    expect(result.qc.status).toBe('pass');
  });

  it('summarises balance replicates without thresholds as not checked', () => {
    const result = processMeasurement(
      raw('mass-reading', { readings: [10, 10.2, 10.1], unit: 'g' }),
      {},
    );
    expect(result.summary).toMatchObject({
      replicates: 3,
      mean: 10.1,
      drift: 0.1,
    });
    expect(result.qc).toEqual({ status: 'not_checked', checks: [] });
  });
});
