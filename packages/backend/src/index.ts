/*
 * The demo portal's backend: Backstage's defaults plus the Lab Scheduler plugin (with its http instrument
 * gateway driver), and the notifications and signals plugins it tells task owners and open pages through.
 */
import { createBackend } from '@backstage/backend-defaults';
import { labSchedulerPermissionPolicyModule } from './permissionPolicy';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@backstage/plugin-permission-backend'));
backend.add(labSchedulerPermissionPolicyModule);
backend.add(import('@lab-scheduler/plugin-lab-scheduler-backend'));
backend.add(
  import('@lab-scheduler/plugin-lab-scheduler-backend-module-http-gateway'),
);
backend.add(import('@backstage/plugin-notifications-backend'));
backend.add(import('@backstage/plugin-signals-backend'));

backend.start();
