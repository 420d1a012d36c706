/** Raw data as a table: a header and rows, one per data point, in the instrument's units. */
export interface RawDataTable {
  columns: string[];
  rows: unknown[][];
}

const withUnit = (name: string, unit: string | undefined) =>
  unit ? `${name}_${unit}` : name;

const numbers = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : [];

/**
 * Tabulates the raw data file of a run (see lab-scheduler-node's RawMeasurement) per measurement type:
 * spectrum points, plate wells, pH samples, qPCR cycles per well, mass replicates. Data of another type
 * (a gateway's own) becomes one column per series when all its values are series of one length, or else
 * one row of its values.
 */
export function rawDataTable(raw: {
  type?: unknown;
  units?: Record<string, string>;
  data?: Record<string, unknown>;
}): RawDataTable {
  const data = (raw.data ?? {}) as Record<string, any>;
  const units = raw.units ?? {};
  switch (raw.type) {
    case 'absorbance-spectrum': {
      const wl = numbers(data.wavelengthNm);
      const abs = numbers(data.absorbance);
      return {
        columns: [
          withUnit('wavelength', units.wavelength ?? 'nm'),
          withUnit('absorbance', units.absorbance),
        ],
        rows: wl.map((w, i) => [w, abs[i]]),
      };
    }
    case 'plate-od': {
      const od = numbers(data.od) as unknown[][];
      const labels = numbers(data.rowLabels);
      const rows: unknown[][] = [];
      od.forEach((row, r) =>
        numbers(row).forEach((value, c) => {
          const rowLabel = labels[r] ?? String(r + 1);
          rows.push([`${rowLabel}${c + 1}`, rowLabel, c + 1, value]);
        }),
      );
      return {
        columns: ['well', 'row', 'column', withUnit('od', units.od)],
        rows,
      };
    }
    case 'ph-timeseries': {
      const t = numbers(data.tSeconds);
      const ph = numbers(data.ph);
      const temperature = numbers(data.temperatureC);
      return {
        columns: [
          withUnit('time', units.t ?? 's'),
          'ph',
          withUnit('temperature', units.temperature ?? '°C'),
        ],
        rows: t.map((time, i) => [time, ph[i], temperature[i]]),
      };
    }
    case 'qpcr-amplification': {
      const rows: unknown[][] = [];
      for (const well of numbers(data.wells) as any[]) {
        numbers(well?.fluorescence).forEach((value, i) =>
          rows.push([well.well, well.sample, i + 1, value]),
        );
      }
      return {
        columns: [
          'well',
          'sample',
          'cycle',
          withUnit('fluorescence', units.fluorescence),
        ],
        rows,
      };
    }
    case 'mass-reading': {
      return {
        columns: ['replicate', withUnit('mass', units.mass ?? data.unit)],
        rows: numbers(data.readings).map((value, i) => [i + 1, value]),
      };
    }
    default:
      return genericTable(data);
  }
}

function genericTable(data: Record<string, unknown>): RawDataTable {
  const arrays = Object.entries(data).filter(
    (entry): entry is [string, unknown[]] => Array.isArray(entry[1]),
  );
  const length = arrays[0]?.[1].length;
  // Columns only when every value is a series of the same length: a lone scalar has no row of its own.
  if (
    arrays.length > 0 &&
    arrays.length === Object.keys(data).length &&
    arrays.every(([, values]) => values.length === length)
  ) {
    return {
      columns: arrays.map(([name]) => name),
      rows: Array.from({ length: length! }, (_, i) =>
        arrays.map(([, values]) => values[i]),
      ),
    };
  }
  const columns = Object.keys(data);
  return { columns, rows: [columns.map(name => data[name])] };
}
