import { z } from 'zod';
import {
  absorbanceSpectrumParameters,
  massReadingParameters,
  phTimeseriesParameters,
  plateOdParameters,
  qpcrAmplificationParameters,
} from './builtInParameters';
import {
  MeasurementParameterSchema,
  parameterSchema,
} from './measurementParameters';

/**
 * The measurement types the Lab Scheduler knows, each with the schema of its parameters.
 * Every parameter has a default, so `{ "type": "...", "parameters": {} }` is always valid; the QC
 * thresholds are optional and only checked when given.
 */

/** How results show one value of a measurement type's summary (or the QC check of it). @public */
export interface SummaryFieldDescriptor {
  label: string;
  unit?: string;
  /** The unit is the summary's own `unit` value (a balance reads in the unit the task asks for). */
  unitFromSummary?: boolean;
}

/**
 * The one summary value whose drift a scientist watches across a task's runs (the task page's trend), and
 * the task's QC parameters that bound it, drawn as lines. Its label and unit are its `summaryFields` entry.
 * @public
 */
export interface TrendDescriptor {
  /** Key of the summary value. */
  key: string;
  /** The chart's name for it, when the summary field's label is too short out of context. */
  label?: string;
  /** Name of the QC parameter (under `qc`) giving the lower limit. */
  lowerQc?: string;
  /** Name of the QC parameter giving the upper limit. */
  upperQc?: string;
  /** Or limits expected ± tolerance from two QC parameters. */
  bandQc?: { expected: string; tolerance: string };
}

/** @public */
export interface MeasurementTypeDefinition {
  type: string;
  title: string;
  description: string;
  /** Validates (and defaults) the parameters; made from `parameterSchema` for the built-in types. */
  parameters: z.ZodType<Record<string, unknown>, any>;
  /** The parameters' fields for forms (labels, units, ranges, help); the source of `parameters`. */
  parameterSchema?: MeasurementParameterSchema;
  /**
   * How long a run of this type usually holds the instrument, in seconds: the length of its block in the
   * instrument calendar and of the interval checked for clashes.
   */
  expectedDurationSeconds: number;
  /** Units of the raw data's channels (e.g. `{ wavelength: 'nm', absorbance: 'AU' }`), for docs and the UI. */
  units?: Record<string, string>;
  /**
   * Labels and units of the summary values processing produces, by key (QC check names too): the run page,
   * run history and trend show them. A key not listed is shown by its name.
   */
  summaryFields?: Record<string, SummaryFieldDescriptor>;
  /** What the task page's trend plots; absent: no trend for the type. */
  trend?: TrendDescriptor;
}

/** Definitions of every supported measurement type, keyed by type. @public */
export const measurementTypes: Record<string, MeasurementTypeDefinition> = {
  'absorbance-spectrum': {
    type: 'absorbance-spectrum',
    title: 'Absorbance spectrum',
    description: 'UV-Vis absorbance scan over a wavelength range',
    parameters: parameterSchema(absorbanceSpectrumParameters),
    parameterSchema: absorbanceSpectrumParameters,
    summaryFields: {
      points: { label: 'Points' },
      peakWavelengthNm: { label: 'Peak wavelength', unit: 'nm' },
      peakAbsorbance: { label: 'Peak absorbance', unit: 'AU' },
      a260: { label: 'A260', unit: 'AU' },
      a280: { label: 'A280', unit: 'AU' },
      ratio260to280: { label: 'A260/A280' },
    },
    trend: {
      key: 'peakAbsorbance',
      lowerQc: 'minPeakAbsorbance',
      upperQc: 'maxPeakAbsorbance',
    },
    expectedDurationSeconds: 180,
    units: { wavelength: 'nm', absorbance: 'AU' },
  },
  'plate-od': {
    type: 'plate-od',
    title: 'Plate optical density',
    description:
      'Optical density of every well of a micro-plate at one wavelength',
    parameters: parameterSchema(plateOdParameters),
    parameterSchema: plateOdParameters,
    summaryFields: {
      wells: { label: 'Wells' },
      wavelengthNm: { label: 'Wavelength', unit: 'nm' },
      meanOd: { label: 'Mean OD', unit: 'OD' },
      sdOd: { label: 'SD of OD', unit: 'OD' },
      cvPercent: { label: 'CV', unit: '%' },
      blankMeanOd: { label: 'Blank mean OD', unit: 'OD' },
      outlierCount: { label: 'Outlier wells' },
    },
    trend: { key: 'cvPercent', upperQc: 'maxCvPercent' },
    expectedDurationSeconds: 300,
    units: { od: 'OD' },
  },
  'ph-timeseries': {
    type: 'ph-timeseries',
    title: 'pH time series',
    description: 'pH sampled at a fixed interval',
    parameters: parameterSchema(phTimeseriesParameters),
    parameterSchema: phTimeseriesParameters,
    summaryFields: {
      samples: { label: 'Samples' },
      meanPh: { label: 'Mean pH', unit: 'pH' },
      minPh: { label: 'Min pH', unit: 'pH' },
      maxPh: { label: 'Max pH', unit: 'pH' },
      driftPerMinute: { label: 'Drift', unit: 'pH/min' },
      absDriftPerMinute: { label: 'Drift (absolute)', unit: 'pH/min' },
      meanTemperatureC: { label: 'Mean temperature', unit: '°C' },
    },
    // The limits bound every sample; the mean must sit inside them too.
    trend: { key: 'meanPh', lowerQc: 'minPh', upperQc: 'maxPh' },
    expectedDurationSeconds: 120,
    units: { ph: 'pH', t: 's', temperature: '°C' },
  },
  'qpcr-amplification': {
    type: 'qpcr-amplification',
    title: 'qPCR amplification',
    description: 'Fluorescence amplification curves and Ct values',
    parameters: parameterSchema(qpcrAmplificationParameters),
    parameterSchema: qpcrAmplificationParameters,
    summaryFields: {
      wells: { label: 'Wells' },
      amplifiedWells: { label: 'Amplified wells' },
      meanCt: { label: 'Mean Ct', unit: 'cycles' },
      maxCt: { label: 'Max Ct', unit: 'cycles' },
      ntcMaxFluorescence: { label: 'NTC max fluorescence', unit: 'RFU' },
    },
    trend: { key: 'meanCt', upperQc: 'maxCt' },
    expectedDurationSeconds: 5400,
    units: { fluorescence: 'RFU' },
  },
  'mass-reading': {
    type: 'mass-reading',
    title: 'Mass reading',
    description: 'Replicate readings of an analytical balance',
    parameters: parameterSchema(massReadingParameters),
    parameterSchema: massReadingParameters,
    summaryFields: {
      replicates: { label: 'Replicates' },
      mean: { label: 'Mean', unitFromSummary: true },
      stdDev: { label: 'Standard deviation', unitFromSummary: true },
      drift: { label: 'Drift', unitFromSummary: true },
    },
    trend: {
      key: 'mean',
      label: 'Mean mass',
      bandQc: { expected: 'expectedMass', tolerance: 'tolerance' },
    },
    expectedDurationSeconds: 60,
  },
};

/** The built-in measurement type names. @public */
export const MEASUREMENT_TYPES = Object.keys(measurementTypes);

/**
 * The measurement types one backend (or Lambda) runs: the built-in ones and any its modules added
 * (`measurementTypesExtensionPoint` in `-node/alpha`). Validation and the calendar look types up here,
 * never in the built-in table directly, so a module's type is validated like a built-in one.
 * @public
 */
export interface MeasurementTypeLookup {
  /** The definition of a type, or undefined when this backend does not run it. */
  get(type: string): MeasurementTypeDefinition | undefined;
  /** Every definition, in registration order. */
  list(): MeasurementTypeDefinition[];
}

/**
 * A lookup over the given definitions. Two definitions of one type are refused: a module must not
 * silently replace a built-in type (or another module's).
 * @public
 */
export function createMeasurementTypeLookup(
  definitions: Iterable<MeasurementTypeDefinition>,
): MeasurementTypeLookup {
  // A Map, not an object: a type named `__proto__` or `constructor` must not find Object.prototype's members.
  const byType = new Map<string, MeasurementTypeDefinition>();
  for (const definition of definitions) {
    if (byType.has(definition.type)) {
      throw new Error(
        `Measurement type '${definition.type}' is defined twice; each type must be registered once`,
      );
    }
    byType.set(definition.type, definition);
  }
  return {
    get: type => byType.get(type),
    list: () => [...byType.values()],
  };
}

/** The built-in measurement types only: what a frontend knows before its backend answers. @public */
export const builtInMeasurementTypeLookup: MeasurementTypeLookup =
  createMeasurementTypeLookup(Object.values(measurementTypes));

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
