import type { MeasurementType } from '../MeasurementType';
import { absorbanceSpectrum } from './absorbanceSpectrum';
import { massReading } from './massReading';
import { phTimeseries } from './phTimeseries';
import { plateOd } from './plateOd';
import { qpcrAmplification } from './qpcrAmplification';

/** The measurement types every backend and Lambda runs, written as modules would write theirs. @public */
export const builtInMeasurementTypes: readonly MeasurementType[] = [
  absorbanceSpectrum,
  plateOd,
  phTimeseries,
  qpcrAmplification,
  massReading,
];
