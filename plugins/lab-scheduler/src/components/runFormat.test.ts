import { formatValue, runTimings, summaryEntries } from './runFormat';

describe('runTimings', () => {
  it('splits a run into lateness, queue wait and duration', () => {
    expect(
      runTimings({
        scheduledFor: '2030-01-01T09:00:00.000Z',
        publishedAt: '2030-01-01T09:00:00.250Z',
        startedAt: '2030-01-01T09:00:02.250Z',
        finishedAt: '2030-01-01T09:01:02.250Z',
      } as any),
    ).toEqual({ lateness: 250, queueWait: 2000, duration: 60_000 });
  });
});

describe('summaryEntries', () => {
  it('labels the summary values with their units, the mass in its own unit', () => {
    expect(
      summaryEntries({
        peakWavelengthNm: 260,
        cvPercent: 4.25,
        mean: 12.50012,
        unit: 'g',
        outliers: [{ well: 'A2' }],
        someNewValue: 3,
      }),
    ).toEqual([
      { key: 'peakWavelengthNm', label: 'Peak wavelength', text: '260 nm' },
      { key: 'cvPercent', label: 'CV', text: '4.25 %' },
      { key: 'mean', label: 'Mean', text: '12.5 g' },
      { key: 'someNewValue', label: 'Some new value', text: '3' },
    ]);
  });

  it("labels a module type's summary with the fields its definition gives", () => {
    const turbidity = {
      meanNtu: { label: 'Mean turbidity', unit: 'NTU' },
      mean: { label: 'Mean reading', unit: 'NTU' },
    };
    expect(
      summaryEntries({ meanNtu: 4.5, mean: 4.5, readings: 3 }, turbidity),
    ).toEqual([
      { key: 'meanNtu', label: 'Mean turbidity', text: '4.5 NTU' },
      // The type's own fields win over a built-in type's field of the same key.
      { key: 'mean', label: 'Mean reading', text: '4.5 NTU' },
      { key: 'readings', label: 'Readings', text: '3' },
    ]);
  });

  it('shows missing values as a dash', () => {
    expect(formatValue(null, 'AU')).toBe('—');
    expect(formatValue(0.00123, 'AU')).toBe('0.0012 AU');
  });
});
