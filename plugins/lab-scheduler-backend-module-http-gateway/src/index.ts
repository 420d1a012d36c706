/**
 * The `http` instrument driver of the Lab Scheduler: measures through an HTTP instrument gateway
 * (`openapi/instrument-gateway.yaml`). The default export is the backend module that adds it to the
 * backend plugin; the driver and its factory are exported for executors of your own (the Lambda).
 *
 * @packageDocumentation
 */
export { labSchedulerModuleHttpGateway as default } from './module';
export { httpGatewayDriverFactory } from './httpGatewayDriverFactory';
export {
  GatewayResponseError,
  HttpInstrumentDriver,
} from './HttpInstrumentDriver';
export type { HttpInstrumentDriverOptions } from './HttpInstrumentDriver';
