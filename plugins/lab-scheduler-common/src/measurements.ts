import { z } from 'zod';
import { textField } from './text';

/**
 * The measurement types the Lab Scheduler knows, each with the schema of its parameters.
 * Every parameter has a default, so `{ "type": "...", "parameters": {} }` is always valid; the QC
 * thresholds are optional and only checked when given.
 */

const qcRange = (min: number, max: number) =>
  z.number().finite().min(min).max(max).optional();

const absorbanceSpectrum = z
  .strictObject({
    startNm: z.number().int().min(190).max(1100).default(230),
    endNm: z.number().int().min(190).max(1100).default(700),
    stepNm: z.number().int().min(1).max(50).default(2),
    sampleId: textField({ max: 100 }).optional(),
    qc: z
      .strictObject({
        minPeakAbsorbance: qcRange(0, 10),
        maxPeakAbsorbance: qcRange(0, 10),
        expectedPeakNm: qcRange(190, 1100),
        peakToleranceNm: qcRange(0, 200),
      })
      .default({}),
  })
  .refine(p => p.endNm > p.startNm, {
    message: 'must be greater than startNm',
    path: ['endNm'],
  });

const plateOd = z.strictObject({
  wavelengthNm: z.number().int().min(190).max(1100).default(600),
  plateFormat: z.union([z.literal(96), z.literal(384)]).default(96),
  shakeSeconds: z.number().int().min(0).max(600).default(0),
  qc: z
    .strictObject({
      maxCvPercent: qcRange(0, 100),
      maxBlankOd: qcRange(0, 5),
    })
    .default({}),
});

const phTimeseries = z
  .strictObject({
    durationSeconds: z.number().int().min(1).max(86400).default(60),
    intervalSeconds: z.number().int().min(1).max(3600).default(5),
    qc: z
      .strictObject({
        minPh: qcRange(0, 14),
        maxPh: qcRange(0, 14),
        maxDriftPerMinute: qcRange(0, 14),
      })
      .default({}),
  })
  .refine(p => p.intervalSeconds <= p.durationSeconds, {
    message: 'must not exceed durationSeconds',
    path: ['intervalSeconds'],
  });

const qpcrAmplification = z.strictObject({
  cycles: z.number().int().min(10).max(60).default(40),
  wells: z.number().int().min(1).max(384).default(96),
  threshold: z.number().finite().min(0.001).max(10).default(0.2),
  qc: z
    .strictObject({
      maxCt: qcRange(0, 60),
      maxNtcAmplification: qcRange(0, 10),
    })
    .default({}),
});

const massReading = z.strictObject({
  replicates: z.number().int().min(1).max(100).default(5),
  unit: z.enum(['mg', 'g', 'kg']).default('g'),
  qc: z
    .strictObject({
      maxStdDev: qcRange(0, 1000),
      expectedMass: qcRange(0, 1e6),
      tolerance: qcRange(0, 1e6),
    })
    .default({}),
});

/** @public */
export interface MeasurementTypeDefinition {
  type: string;
  title: string;
  description: string;
  parameters: z.ZodType<Record<string, unknown>, any>;
}

/** Definitions of every supported measurement type, keyed by type. @public */
export const measurementTypes: Record<string, MeasurementTypeDefinition> = {
  'absorbance-spectrum': {
    type: 'absorbance-spectrum',
    title: 'Absorbance spectrum',
    description: 'UV-Vis absorbance scan over a wavelength range',
    parameters: absorbanceSpectrum,
  },
  'plate-od': {
    type: 'plate-od',
    title: 'Plate optical density',
    description:
      'Optical density of every well of a micro-plate at one wavelength',
    parameters: plateOd,
  },
  'ph-timeseries': {
    type: 'ph-timeseries',
    title: 'pH time series',
    description: 'pH sampled at a fixed interval',
    parameters: phTimeseries,
  },
  'qpcr-amplification': {
    type: 'qpcr-amplification',
    title: 'qPCR amplification',
    description: 'Fluorescence amplification curves and Ct values',
    parameters: qpcrAmplification,
  },
  'mass-reading': {
    type: 'mass-reading',
    title: 'Mass reading',
    description: 'Replicate readings of an analytical balance',
    parameters: massReading,
  },
};

/** The known measurement type names. @public */
export const MEASUREMENT_TYPES = Object.keys(measurementTypes);

/**
 * The catalog annotation on an instrument entity listing the measurement types it supports,
 * comma-separated.
 * @public
 */
export const MEASUREMENT_TYPES_ANNOTATION =
  'lab-scheduler.io/measurement-types';

/** Reads the supported measurement types from an instrument entity's annotations. @public */
export function getSupportedMeasurementTypes(entity: {
  metadata: { annotations?: Record<string, string> };
}): string[] {
  const raw = entity.metadata.annotations?.[MEASUREMENT_TYPES_ANNOTATION] ?? '';
  return raw
    .split(',')
    .map(s => s.trim())
    .filter(Boolean);
}

/**
 * The catalog annotation on an instrument entity saying how many runs it takes at once: a positive
 * integer, or `unlimited` (e.g. a simulated instrument). Absent: 1. The dispatcher holds every run beyond
 * it until one finishes; a task cannot change it.
 * @public
 */
export const INSTRUMENT_CAPACITY_ANNOTATION = 'lab-scheduler.io/capacity';

/** Capacity of an instrument whose entity does not say (or says something unreadable). @public */
export const DEFAULT_INSTRUMENT_CAPACITY = 1;

/** Reads an instrument's capacity from its annotations: runs at once, or null for no limit. @public */
export function getInstrumentCapacity(entity: {
  metadata: { annotations?: Record<string, string> };
}): number | null {
  const raw = entity.metadata.annotations?.[INSTRUMENT_CAPACITY_ANNOTATION];
  if (raw === undefined) return DEFAULT_INSTRUMENT_CAPACITY;
  const value = raw.trim().toLocaleLowerCase('en-US');
  if (value === 'unlimited') return null;
  // Anything but a plain positive integer falls back to the safe default rather than no limit.
  if (!/^[1-9][0-9]{0,3}$/.test(value)) return DEFAULT_INSTRUMENT_CAPACITY;
  return Number(value);
}
