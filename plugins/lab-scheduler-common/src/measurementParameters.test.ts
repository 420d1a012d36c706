import { measurementTypes } from './measurements';
import {
  defaultParameterValues,
  findParameter,
  parameterSchema,
} from './measurementParameters';
import {
  absorbanceSpectrumParameters,
  massReadingParameters,
  phTimeseriesParameters,
  plateOdParameters,
} from './builtInParameters';

const issues = (schema: ReturnType<typeof parameterSchema>, input: unknown) => {
  const result = schema.safeParse(input);
  return result.success
    ? []
    : result.error.issues.map(i => `${i.path.join('.')} ${i.message}`);
};

describe('measurement parameter descriptors', () => {
  it('is the source of every built-in type’s validation', () => {
    for (const definition of Object.values(measurementTypes)) {
      expect(definition.parameterSchema).toBeDefined();
      // The defaults the form starts with are exactly what the server fills in for `{}`.
      expect(definition.parameters.parse({})).toEqual(
        defaultParameterValues(definition.parameterSchema!),
      );
    }
  });

  it('checks ranges with the unit, whole numbers and types in plain words', () => {
    const plateOd = parameterSchema(plateOdParameters);
    expect(issues(plateOd, { wavelengthNm: 1200 })).toEqual([
      'wavelengthNm must be at most 1100 nm',
    ]);
    expect(issues(plateOd, { shakeSeconds: -1 })).toEqual([
      'shakeSeconds must be at least 0 s',
    ]);
    expect(issues(plateOd, { wavelengthNm: 600.5 })).toEqual([
      'wavelengthNm must be a whole number',
    ]);
    expect(issues(plateOd, { wavelengthNm: '600' })).toEqual([
      'wavelengthNm must be a number',
    ]);
    expect(issues(plateOd, { plateFormat: 48 })).toEqual([
      'plateFormat must be one of 96, 384',
    ]);
    expect(issues(plateOd, { qc: { maxCvPercent: 101 } })).toEqual([
      'qc.maxCvPercent must be at most 100 %',
    ]);
    expect(issues(plateOd, { qc: { maxCvPercent: 5 } })).toEqual([]);
  });

  it('refuses unknown fields, also among the QC thresholds', () => {
    const massReading = parameterSchema(massReadingParameters);
    expect(issues(massReading, { replicate: 3 })).toHaveLength(1);
    expect(issues(massReading, { qc: { maxStd: 3 } })).toHaveLength(1);
    expect(issues(massReading, { unit: 'lb' })).toEqual([
      'unit must be one of mg, g, kg',
    ]);
  });

  it('checks the rules between fields, naming the other field by its label', () => {
    expect(
      issues(parameterSchema(absorbanceSpectrumParameters), {
        startNm: 500,
        endNm: 400,
      }),
    ).toEqual(['endNm must be greater than the start wavelength']);
    expect(
      issues(parameterSchema(phTimeseriesParameters), {
        durationSeconds: 10,
        intervalSeconds: 20,
      }),
    ).toEqual(['intervalSeconds must not exceed the duration']);
  });

  it('checks the QC windows: a lowest threshold above the highest would fail every run', () => {
    const absorbance = parameterSchema(absorbanceSpectrumParameters);
    expect(
      issues(absorbance, {
        qc: { minPeakAbsorbance: 2, maxPeakAbsorbance: 1 },
      }),
    ).toEqual([
      'qc.minPeakAbsorbance must not exceed the highest peak absorbance',
    ]);
    expect(
      issues(absorbance, {
        qc: { minPeakAbsorbance: 1, maxPeakAbsorbance: 1 },
      }),
    ).toEqual([]);
    // One threshold alone is a half-open window: nothing to compare.
    expect(issues(absorbance, { qc: { minPeakAbsorbance: 2 } })).toEqual([]);
    expect(
      issues(parameterSchema(phTimeseriesParameters), {
        qc: { minPh: 8, maxPh: 6.5 },
      }),
    ).toEqual(['qc.minPh must not exceed the highest pH']);
  });

  it('builds the same validation from the JSON the API hands out', () => {
    const overTheWire = parameterSchema(
      JSON.parse(JSON.stringify(absorbanceSpectrumParameters)),
    );
    const local = parameterSchema(absorbanceSpectrumParameters);
    for (const input of [
      {},
      { startNm: 100 },
      { endNm: 200 },
      { stepNm: 2.5 },
      { sampleId: 'S\u0000' },
      { qc: { expectedPeakNm: 2000 } },
    ]) {
      expect(issues(overTheWire, input)).toEqual(issues(local, input));
    }
  });

  it('finds a field by its path', () => {
    expect(findParameter(plateOdParameters, 'wavelengthNm')?.label).toBe(
      'Wavelength',
    );
    expect(findParameter(plateOdParameters, 'qc.maxBlankOd')?.label).toBe(
      'Highest blank OD',
    );
    expect(findParameter(plateOdParameters, 'qc')).toBeUndefined();
  });
});
