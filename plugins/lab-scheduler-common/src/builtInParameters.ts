import type { MeasurementParameterSchema } from './measurementParameters';

/**
 * The parameters of the built-in measurement types: labels, units, ranges, defaults and help for the
 * form, and (through `parameterSchema`) the server's validation. Every measurement setting has a default,
 * so `{ "type": "...", "parameters": {} }` is always valid; QC thresholds are optional.
 */

const WAVELENGTH = { kind: 'number', integer: true, unit: 'nm' } as const;

/** @public */
export const absorbanceSpectrumParameters: MeasurementParameterSchema = {
  parameters: [
    {
      ...WAVELENGTH,
      name: 'startNm',
      label: 'Start wavelength',
      min: 190,
      max: 1100,
      default: 230,
      help: 'First wavelength of the scan',
    },
    {
      ...WAVELENGTH,
      name: 'endNm',
      label: 'End wavelength',
      min: 190,
      max: 1100,
      default: 700,
      help: 'Last wavelength of the scan; above the start',
    },
    {
      ...WAVELENGTH,
      name: 'stepNm',
      label: 'Step',
      min: 1,
      max: 50,
      default: 2,
      help: 'Distance between two readings',
    },
    {
      kind: 'text',
      name: 'sampleId',
      label: 'Sample ID',
      maxLength: 100,
      help: 'Optional; stored with the results',
    },
  ],
  qc: [
    {
      kind: 'number',
      name: 'minPeakAbsorbance',
      label: 'Lowest peak absorbance',
      unit: 'AU',
      min: 0,
      max: 10,
    },
    {
      kind: 'number',
      name: 'maxPeakAbsorbance',
      label: 'Highest peak absorbance',
      unit: 'AU',
      min: 0,
      max: 10,
    },
    {
      kind: 'number',
      name: 'expectedPeakNm',
      label: 'Expected peak',
      unit: 'nm',
      min: 190,
      max: 1100,
    },
    {
      kind: 'number',
      name: 'peakToleranceNm',
      label: 'Peak tolerance',
      unit: 'nm',
      min: 0,
      max: 200,
      help: 'How far the peak may lie from the expected one',
    },
  ],
  comparisons: [
    { field: 'endNm', relation: 'greaterThan', other: 'startNm' },
    // A window no peak can be in would fail every run's QC.
    {
      field: 'qc.minPeakAbsorbance',
      relation: 'atMost',
      other: 'qc.maxPeakAbsorbance',
    },
  ],
};

/** @public */
export const plateOdParameters: MeasurementParameterSchema = {
  parameters: [
    {
      ...WAVELENGTH,
      name: 'wavelengthNm',
      label: 'Wavelength',
      min: 190,
      max: 1100,
      default: 600,
    },
    {
      kind: 'choice',
      name: 'plateFormat',
      label: 'Plate format',
      options: [
        { value: 96, label: '96 wells' },
        { value: 384, label: '384 wells' },
      ],
      default: 96,
    },
    {
      kind: 'number',
      integer: true,
      name: 'shakeSeconds',
      label: 'Shake before reading',
      unit: 's',
      min: 0,
      max: 600,
      default: 0,
    },
  ],
  qc: [
    {
      kind: 'number',
      name: 'maxCvPercent',
      label: 'Highest coefficient of variation',
      unit: '%',
      min: 0,
      max: 100,
    },
    {
      kind: 'number',
      name: 'maxBlankOd',
      label: 'Highest blank OD',
      unit: 'OD',
      min: 0,
      max: 5,
    },
  ],
};

/** @public */
export const phTimeseriesParameters: MeasurementParameterSchema = {
  parameters: [
    {
      kind: 'number',
      integer: true,
      name: 'durationSeconds',
      label: 'Duration',
      unit: 's',
      min: 1,
      max: 86400,
      default: 60,
    },
    {
      kind: 'number',
      integer: true,
      name: 'intervalSeconds',
      label: 'Sampling interval',
      unit: 's',
      min: 1,
      max: 3600,
      default: 5,
      help: 'At most the duration',
    },
  ],
  qc: [
    { kind: 'number', name: 'minPh', label: 'Lowest pH', min: 0, max: 14 },
    { kind: 'number', name: 'maxPh', label: 'Highest pH', min: 0, max: 14 },
    {
      kind: 'number',
      name: 'maxDriftPerMinute',
      label: 'Highest drift',
      unit: 'pH/min',
      min: 0,
      max: 14,
    },
  ],
  comparisons: [
    { field: 'intervalSeconds', relation: 'atMost', other: 'durationSeconds' },
    { field: 'qc.minPh', relation: 'atMost', other: 'qc.maxPh' },
  ],
};

/** @public */
export const qpcrAmplificationParameters: MeasurementParameterSchema = {
  parameters: [
    {
      kind: 'number',
      integer: true,
      name: 'cycles',
      label: 'Cycles',
      min: 10,
      max: 60,
      default: 40,
    },
    {
      kind: 'number',
      integer: true,
      name: 'wells',
      label: 'Wells',
      min: 1,
      max: 384,
      default: 96,
    },
    {
      kind: 'number',
      name: 'threshold',
      label: 'Fluorescence threshold',
      unit: 'ΔRn',
      min: 0.001,
      max: 10,
      default: 0.2,
      help: 'The Ct is the cycle where a curve crosses it',
    },
  ],
  qc: [
    { kind: 'number', name: 'maxCt', label: 'Highest Ct', min: 0, max: 60 },
    {
      kind: 'number',
      name: 'maxNtcAmplification',
      label: 'Highest no-template amplification',
      unit: 'ΔRn',
      min: 0,
      max: 10,
    },
  ],
};

/** @public */
export const massReadingParameters: MeasurementParameterSchema = {
  parameters: [
    {
      kind: 'number',
      integer: true,
      name: 'replicates',
      label: 'Replicates',
      min: 1,
      max: 100,
      default: 5,
    },
    {
      kind: 'choice',
      name: 'unit',
      label: 'Unit',
      options: [
        { value: 'mg', label: 'mg' },
        { value: 'g', label: 'g' },
        { value: 'kg', label: 'kg' },
      ],
      default: 'g',
    },
  ],
  qc: [
    {
      kind: 'number',
      name: 'maxStdDev',
      label: 'Highest standard deviation',
      help: 'In the chosen unit',
      min: 0,
      max: 1000,
    },
    {
      kind: 'number',
      name: 'expectedMass',
      label: 'Expected mass',
      help: 'In the chosen unit',
      min: 0,
      max: 1e6,
    },
    {
      kind: 'number',
      name: 'tolerance',
      label: 'Tolerance',
      help: 'How far a reading may lie from the expected mass, in the chosen unit',
      min: 0,
      max: 1e6,
    },
  ],
};
