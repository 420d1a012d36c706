/**
 * The raw data the executor stores per measurement type (see lab-scheduler-node's SimulatedInstrumentDriver
 * and the HTTP gateway contract), as the run page reads it back from `GET /runs/:id/raw`.
 */

export interface RawMeasurementDocument {
  type: string;
  instrumentRef?: string;
  acquiredAt?: string;
  units?: Record<string, string>;
  data: unknown;
}

export interface SpectrumData {
  wavelengthNm: number[];
  absorbance: number[];
}

export interface PlateData {
  wavelengthNm: number;
  rows: number;
  cols: number;
  rowLabels: string[];
  od: number[][];
}

export interface PhSeriesData {
  tSeconds: number[];
  ph: number[];
  temperatureC: number[];
}

export interface QpcrWell {
  well: string;
  sample: 'unknown' | 'ntc';
  fluorescence: number[];
}

export interface QpcrData {
  cycles: number;
  threshold: number;
  wells: QpcrWell[];
}

export interface MassData {
  readings: number[];
  unit: string;
}

const isNumbers = (v: unknown): v is number[] =>
  Array.isArray(v) && v.every(x => typeof x === 'number');

/** Checks that raw data has the shape its plot needs; a gateway may send anything. */
export const rawDataGuards = {
  'absorbance-spectrum': (d: any): d is SpectrumData =>
    isNumbers(d?.wavelengthNm) &&
    isNumbers(d?.absorbance) &&
    d.wavelengthNm.length === d.absorbance.length,
  'plate-od': (d: any): d is PlateData =>
    Array.isArray(d?.od) &&
    d.od.every(isNumbers) &&
    Array.isArray(d?.rowLabels),
  'ph-timeseries': (d: any): d is PhSeriesData =>
    isNumbers(d?.tSeconds) &&
    isNumbers(d?.ph) &&
    d.tSeconds.length === d.ph.length,
  'qpcr-amplification': (d: any): d is QpcrData =>
    typeof d?.threshold === 'number' &&
    Array.isArray(d?.wells) &&
    d.wells.every(
      (w: any) => typeof w?.well === 'string' && isNumbers(w?.fluorescence),
    ),
  'mass-reading': (d: any): d is MassData => isNumbers(d?.readings),
};
