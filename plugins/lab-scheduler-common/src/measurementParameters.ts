import { z } from 'zod';
import { textField } from './text';

/**
 * One definition of a measurement type's parameters, from which both the server's validation (zod) and
 * the form fields of the UI are made. A descriptor is plain JSON, so the backend can hand it to the UI
 * (`GET /measurement-types`) and the UI builds the very same schema from it with `parameterSchema`.
 */

/** A number, with its range in the unit shown beside it. @public */
export interface NumberParameterDescriptor {
  kind: 'number';
  name: string;
  label: string;
  /** Whole numbers only. */
  integer?: boolean;
  /** Shown beside the field and in range messages, e.g. `nm`, `s`, `%`. */
  unit?: string;
  min: number;
  max: number;
  /** Used when the field is left empty; absent: the field is optional. */
  default?: number;
  help?: string;
}

/** One of a fixed list of values. @public */
export interface ChoiceParameterDescriptor {
  kind: 'choice';
  name: string;
  label: string;
  options: { value: string | number; label: string }[];
  default?: string | number;
  help?: string;
}

/** Free text, under the shared text rule; always optional. @public */
export interface TextParameterDescriptor {
  kind: 'text';
  name: string;
  label: string;
  maxLength: number;
  help?: string;
}

/** @public */
export type ParameterDescriptor =
  | NumberParameterDescriptor
  | ChoiceParameterDescriptor
  | TextParameterDescriptor;

/**
 * A rule between two number parameters, reported on `field`. Both are parameter paths as
 * `findParameter` reads them: `endNm`, or `qc.minPh` for a QC threshold.
 * @public
 */
export interface ParameterComparison {
  field: string;
  /** `greaterThan`: field > other; `atMost`: field ≤ other. */
  relation: 'greaterThan' | 'atMost';
  other: string;
}

/**
 * A measurement type's parameters: the measurement settings, the QC thresholds (optional, checked only
 * when given; they live under `qc`) and the rules between fields.
 * @public
 */
export interface MeasurementParameterSchema {
  parameters: ParameterDescriptor[];
  qc: ParameterDescriptor[];
  comparisons?: ParameterComparison[];
}

const unitSuffix = (unit?: string) => (unit ? ` ${unit}` : '');

function fieldSchema(field: ParameterDescriptor, optional: boolean) {
  let schema: z.ZodType;
  switch (field.kind) {
    case 'number': {
      let n = z
        .number({ error: 'must be a number' })
        .finite('must be a number');
      if (field.integer) n = n.int('must be a whole number');
      schema = n
        .min(
          field.min,
          `must be at least ${field.min}${unitSuffix(field.unit)}`,
        )
        .max(
          field.max,
          `must be at most ${field.max}${unitSuffix(field.unit)}`,
        );
      break;
    }
    case 'choice': {
      const values = field.options.map(o => o.value);
      schema = z.any().refine(v => values.includes(v), {
        message: `must be one of ${values.join(', ')}`,
      });
      break;
    }
    default:
      return textField({ max: field.maxLength }).optional();
  }
  if (field.default !== undefined) return schema.default(field.default);
  return optional ? schema.optional() : schema;
}

/** A label inside a sentence: "Highest pH" reads "highest pH" (only the first letter lowered). */
const labelOf = (schema: MeasurementParameterSchema, path: string) => {
  const label = findParameter(schema, path)?.label;
  return label ? label[0].toLocaleLowerCase() + label.slice(1) : path;
};

/** The value at a parameter path (`endNm`, `qc.minPh`) of a parameters object. */
const valueAt = (parameters: Record<string, any>, path: string): unknown =>
  path.split('.').reduce<any>((value, key) => value?.[key], parameters);

/** The zod schema of a parameter descriptor: strict (unknown fields refused), defaults filled. @public */
export function parameterSchema(
  schema: MeasurementParameterSchema,
): z.ZodType<Record<string, unknown>, any> {
  const shape: Record<string, z.ZodType> = {};
  for (const field of schema.parameters) {
    shape[field.name] = fieldSchema(field, true);
  }
  const qc: Record<string, z.ZodType> = {};
  for (const field of schema.qc) qc[field.name] = fieldSchema(field, true);
  shape.qc = z.strictObject(qc, { error: 'must be an object' }).default({});
  const comparisons = schema.comparisons ?? [];
  return z
    .strictObject(shape, { error: 'must be an object' })
    .superRefine((p: Record<string, any>, ctx) => {
      for (const c of comparisons) {
        const [a, b] = [valueAt(p, c.field), valueAt(p, c.other)];
        if (typeof a !== 'number' || typeof b !== 'number') continue;
        const ok = c.relation === 'greaterThan' ? a > b : a <= b;
        if (!ok) {
          ctx.addIssue({
            code: 'custom',
            message:
              c.relation === 'greaterThan'
                ? `must be greater than the ${labelOf(schema, c.other)}`
                : `must not exceed the ${labelOf(schema, c.other)}`,
            path: c.field.split('.'),
          });
        }
      }
    }) as z.ZodType<Record<string, unknown>, any>;
}

/** The parameters a form starts with: every default, and an empty `qc`. @public */
export function defaultParameterValues(
  schema: MeasurementParameterSchema,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const field of schema.parameters) {
    if (field.kind !== 'text' && field.default !== undefined)
      values[field.name] = field.default;
  }
  values.qc = {};
  return values;
}

/** The descriptor of a parameter path such as `wavelengthNm` or `qc.maxCt`, if there is one. @public */
export function findParameter(
  schema: MeasurementParameterSchema,
  path: string,
): ParameterDescriptor | undefined {
  const [first, second] = path.split('.');
  if (first === 'qc' && second !== undefined)
    return schema.qc.find(f => f.name === second);
  return schema.parameters.find(f => f.name === first);
}
