import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { labSchedulerPermissions } from '@internal/plugin-lab-scheduler-common';
import { DatabaseTaskStore } from './database/DatabaseTaskStore';
import { taskPermissionResourceRef, taskPermissionRules } from './permissions/rules';
import { InstrumentCatalog } from './service/InstrumentCatalog';
import { createRouter } from './service/router';

/**
 * The Lab Scheduler backend plugin: task store, REST API at `/api/lab-scheduler`.
 *
 * @public
 */
export const labSchedulerPlugin = createBackendPlugin({
  pluginId: 'lab-scheduler',
  register(env) {
    env.registerInit({
      deps: {
        logger: coreServices.logger,
        config: coreServices.rootConfig,
        database: coreServices.database,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auth: coreServices.auth,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        catalog: catalogServiceRef,
      },
      async init({
        logger,
        config,
        database,
        httpRouter,
        httpAuth,
        auth,
        permissions,
        permissionsRegistry,
        catalog,
      }) {
        const store = await DatabaseTaskStore.create({ database });

        permissionsRegistry.addResourceType({
          resourceRef: taskPermissionResourceRef,
          permissions: labSchedulerPermissions,
          rules: taskPermissionRules,
          getResources: async resourceRefs => {
            const tasks = await store.getTasks(resourceRefs);
            const byId = new Map(tasks.map(t => [t.id, t]));
            return resourceRefs.map(ref => byId.get(ref));
          },
        });
        permissionsRegistry.addPermissions(labSchedulerPermissions);

        const instrumentsConfig = config.getOptionalConfig('labScheduler.instruments');
        const instruments = new InstrumentCatalog({
          catalog,
          auth,
          kind: instrumentsConfig?.getOptionalString('kind') ?? 'Resource',
          type: instrumentsConfig?.has('type')
            ? instrumentsConfig.getString('type') || undefined
            : 'instrument',
          validate: instrumentsConfig?.getOptionalBoolean('validateWithCatalog') ?? true,
        });

        httpRouter.use(
          await createRouter({
            store,
            instruments,
            httpAuth,
            permissions,
            logger,
            maxBodySize: config.getOptionalString('labScheduler.api.maxBodySize') ?? '64kb',
          }),
        );
        httpRouter.addAuthPolicy({ path: '/health', allow: 'unauthenticated' });
      },
    });
  },
});
