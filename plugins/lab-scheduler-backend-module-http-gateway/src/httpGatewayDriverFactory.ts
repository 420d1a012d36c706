import type { InstrumentDriverFactory } from '@lab-scheduler/plugin-lab-scheduler-node';
import { HttpInstrumentDriver } from './HttpInstrumentDriver';

/**
 * The HTTP instrument gateway driver, selected by `driver: http` (the default) in an instrument entry:
 * keys `endpoint` (required), `token`, `timeoutMs`, `maxResponseBytes`. The contract a gateway
 * implements is `openapi/instrument-gateway.yaml` in this package.
 *
 * The backend gets it from this package's module; the Lambda passes it to `createDriverRegistry` itself.
 *
 * @public
 */
export const httpGatewayDriverFactory: InstrumentDriverFactory = {
  name: 'http',
  create: ({ config }) =>
    new HttpInstrumentDriver({
      endpoint: config.getString('endpoint'),
      token: config.getOptionalString('token'),
      timeoutMs: config.getOptionalNumber('timeoutMs'),
      maxResponseBytes: config.getOptionalNumber('maxResponseBytes'),
    }),
};
