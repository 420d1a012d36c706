import { createBackendModule } from '@backstage/backend-plugin-api';
import { instrumentDriversExtensionPoint } from '@lab-scheduler/plugin-lab-scheduler-node/alpha';
import { httpGatewayDriverFactory } from './httpGatewayDriverFactory';

/**
 * Adds the `http` instrument driver (an HTTP instrument gateway) to the Lab Scheduler backend plugin.
 *
 * @public
 */
export const labSchedulerModuleHttpGateway = createBackendModule({
  pluginId: 'lab-scheduler',
  moduleId: 'http-gateway',
  register(reg) {
    reg.registerInit({
      deps: { drivers: instrumentDriversExtensionPoint },
      async init({ drivers }) {
        drivers.addDriverFactory(httpGatewayDriverFactory);
      },
    });
  },
});
