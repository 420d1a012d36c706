import { httpGatewayDriverFactory } from '@lab-scheduler/plugin-lab-scheduler-backend-module-http-gateway';
import type {
  InstrumentDriverFactory,
  MeasurementType,
} from '@lab-scheduler/plugin-lab-scheduler-node';

/**
 * What this Lambda runs beyond the built-ins: the same objects the backend's modules register through
 * its extension points (`instrumentDriversExtensionPoint`, `measurementTypesExtensionPoint`). With the
 * SQS queue the Lambda measures every run, so a driver or measurement type added to the backend must be
 * listed here too; import it from the module's package, add it, and rebuild the bundle.
 */
export interface LambdaModules {
  driverFactories: InstrumentDriverFactory[];
  measurementTypes: MeasurementType[];
}

export const LAMBDA_MODULES: LambdaModules = {
  // `http`: instruments behind an HTTP gateway (INSTRUMENT_GATEWAYS entries without `driver`).
  driverFactories: [httpGatewayDriverFactory],
  measurementTypes: [],
};
