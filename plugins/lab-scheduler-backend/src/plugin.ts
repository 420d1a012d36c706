import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { notificationService } from '@backstage/plugin-notifications-node';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { labSchedulerPermissions } from '@lab-scheduler/plugin-lab-scheduler-common';
import {
  builtInMeasurementTypes,
  createMeasurementTypeRegistry,
  InstrumentDriverFactory,
  LocalRawDataStore,
  MeasurementType,
} from '@lab-scheduler/plugin-lab-scheduler-node';
import {
  instrumentDriversExtensionPoint,
  measurementTypesExtensionPoint,
} from '@lab-scheduler/plugin-lab-scheduler-node/alpha';
import { createStores } from './database/createStores';
import { warnWithoutTrigramIndex } from './database/textSearchIndex';
import { Dispatcher } from './dispatcher/Dispatcher';
import { LocalWakeup, PgNotifyWakeup, Wakeup } from './dispatcher/Wakeup';
import {
  driverCheckFromConfig,
  driversFromConfig,
} from './execution/createExecutor';
import {
  createInProcessQueue,
  requeueLostQueuedRuns,
} from './execution/InProcessExecution';
import { InProcessTaskQueue } from './queue/InProcessTaskQueue';
import {
  taskPermissionResourceRef,
  taskPermissionRules,
} from './permissions/rules';
import { SqsTaskQueue } from './queue/SqsTaskQueue';
import { TaskQueue } from './queue/TaskQueue';
import { catalogWithOutagesAsUnavailable } from './service/catalogUnavailable';
import { InstrumentCatalog } from './service/InstrumentCatalog';
import { OwnerCatalog } from './service/OwnerCatalog';
import { readLabSchedulerConfig } from './service/labSchedulerConfig';
import { scheduleRunNotifications } from './notifications/scheduleRunNotifications';
import { createRouter } from './service/router';
import { RunUpdateSignals } from './signals/RunUpdateSignals';
import { scheduleRunRetention } from './retention/scheduleRunRetention';
import { createExportRoutes } from './service/routes/exports';
import { createResultRoutes } from './service/routes/results';
import { stopWithin } from './lifecycle/stopWithin';

/**
 * The Lab Scheduler backend plugin: task store and REST API at `/api/lab-scheduler`, and (unless
 * `labScheduler.dispatcher.enabled` is false) the dispatcher that publishes due runs to the queue.
 *
 * @public
 */
export const labSchedulerPlugin = createBackendPlugin({
  pluginId: 'lab-scheduler',
  register(env) {
    const moduleDriverFactories: InstrumentDriverFactory[] = [];
    env.registerExtensionPoint(instrumentDriversExtensionPoint, {
      addDriverFactory(factory) {
        moduleDriverFactories.push(factory);
      },
    });
    const moduleMeasurementTypes: MeasurementType[] = [];
    env.registerExtensionPoint(measurementTypesExtensionPoint, {
      addMeasurementType(measurementType) {
        moduleMeasurementTypes.push(measurementType);
      },
    });
    env.registerInit({
      deps: {
        logger: coreServices.logger,
        config: coreServices.rootConfig,
        database: coreServices.database,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        auth: coreServices.auth,
        userInfo: coreServices.userInfo,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        lifecycle: coreServices.lifecycle,
        scheduler: coreServices.scheduler,
        catalog: catalogServiceRef,
        notifications: notificationService,
        signals: signalsServiceRef,
      },
      async init({
        logger,
        config,
        database,
        httpRouter,
        httpAuth,
        auth,
        userInfo,
        permissions,
        permissionsRegistry,
        lifecycle,
        scheduler,
        catalog,
        notifications,
        signals,
      }) {
        const settings = readLabSchedulerConfig(config);
        // Built-in types and those modules added: one registry validates, draws and processes them all.
        const measurementTypes = createMeasurementTypeRegistry(
          builtInMeasurementTypes,
          moduleMeasurementTypes,
        );
        const stores = await createStores({
          database,
          runStates: {
            staleRunningMs: settings.execution.runTimeoutMs,
            acceptReportsWithoutClaimToken:
              settings.execution.acceptReportsWithoutClaimToken,
          },
        });
        const { knex, tasks: store, runStates } = stores;

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
        // The rules as registered, with any a module added: what conditional decisions may name.
        const taskRules = permissionsRegistry.getPermissionRuleset(
          taskPermissionResourceRef,
        );

        const instrumentsConfig = config.getOptionalConfig(
          'labScheduler.instruments',
        );
        // Instrument and owner checks answer 503 while the catalog is down, not 500 (see the module).
        const checkedCatalog = catalogWithOutagesAsUnavailable(catalog, logger);
        const instruments = new InstrumentCatalog({
          catalog: checkedCatalog,
          auth,
          kind: instrumentsConfig?.getOptionalString('kind') ?? 'Resource',
          type: instrumentsConfig?.has('type')
            ? instrumentsConfig.getString('type') || undefined
            : 'instrument',
          validate:
            instrumentsConfig?.getOptionalBoolean('validateWithCatalog') ??
            true,
          hasDriver: driverCheckFromConfig(settings.execution.config),
        });

        const owners = new OwnerCatalog({
          catalog: checkedCatalog,
          auth,
          validate:
            config.getOptionalBoolean(
              'labScheduler.owners.validateWithCatalog',
            ) ?? true,
        });

        // Wake-ups cross replicas through PostgreSQL; on SQLite everything shares this process.
        const wakeup: Wakeup =
          knex.client.config.client === 'pg'
            ? new PgNotifyWakeup(knex, logger)
            : new LocalWakeup();
        // Open pages reload on a signal instead of waiting for their next poll.
        const runUpdates = new RunUpdateSignals(signals, logger);
        // Runs queued or started change what pages show but free no instrument slot: a signal only,
        // no dispatcher wake-up (the dispatcher's own claims and publishes would wake it again).
        const signalRunUpdate = () => runUpdates.changed();
        const notify = () => {
          runUpdates.changed();
          wakeup
            .notify()
            .catch(error =>
              logger.warn(`Could not send a dispatcher wake-up: ${error}`),
            );
        };

        let dispatcher: Dispatcher | undefined;
        let queue: TaskQueue | undefined;
        let inProcessQueue: InProcessTaskQueue | undefined;
        if (settings.dispatcher.enabled) {
          if (settings.queue.type === 'sqs') {
            queue = new SqsTaskQueue({
              queueUrl: settings.queue.queueUrl,
              region: settings.queue.region,
              endpoint: settings.queue.endpoint,
            });
          } else {
            queue = inProcessQueue = createInProcessQueue({
              runStates,
              drivers: driversFromConfig(
                settings.execution.config,
                moduleDriverFactories,
                measurementTypes,
              ),
              measurementTypes,
              rawData: new LocalRawDataStore(
                settings.execution.rawDataDirectory,
              ),
              logger: logger.child({ component: 'executor' }),
              concurrency: settings.queue.concurrency,
              maxAttempts: settings.execution.maxAttempts,
              retryDelayMs: settings.execution.retryDelayMs,
              onRunFinished: notify,
              onRunStarted: signalRunUpdate,
            });
          }
          dispatcher = new Dispatcher({
            store: stores.dispatch,
            queue,
            logger: logger.child({ component: 'dispatcher' }),
            wakeup,
            ...settings.dispatcher,
            onRunsChanged: signalRunUpdate,
          });
        }

        httpRouter.use(
          await createRouter({
            store,
            instruments,
            owners,
            userInfo,
            httpAuth,
            permissions,
            taskRules,
            logger,
            runStates,
            runQueue: stores.runQueue,
            measurementTypes,
            rawDataDirectory: settings.execution.rawDataDirectory,
            maxBodySize: config.getOptionalString(
              'labScheduler.api.maxBodySize',
            ),
            onTaskChanged: notify,
            onRunFinished: notify,
            onRunStarted: signalRunUpdate,
          }),
        );
        httpRouter.use(
          createResultRoutes({
            recentResults: stores.recentResults,
            httpAuth,
            permissions,
            taskRules,
            logger,
          }),
        );
        httpRouter.use(
          createExportRoutes({
            store,
            httpAuth,
            permissions,
            taskRules,
            logger,
            rawDataDirectory: settings.execution.rawDataDirectory,
          }),
        );
        httpRouter.addAuthPolicy({ path: '/health', allow: 'unauthenticated' });

        /** Fails the runs left running (RunStateStore.failStaleRuns), logs how many and tells open pages. */
        const failRunsLeftRunning = async (
          why: string,
          ...args: Parameters<typeof runStates.failStaleRuns>
        ) => {
          const failed = await runStates.failStaleRuns(...args);
          if (failed > 0) {
            logger.warn(why, { count: failed });
            notify();
          }
        };

        // Housekeeping on Backstage's scheduler (one host at a time): runs whose executor was lost.
        await scheduler.scheduleTask({
          id: 'lab-scheduler-fail-stale-runs',
          frequency: { minutes: 1 },
          timeout: { minutes: 1 },
          scope: 'global',
          fn: () =>
            failRunsLeftRunning(
              'Failed runs whose executor was lost',
              Date.now(),
              settings.execution.lostRunTimeoutMs,
            ),
        });

        // SQS drops a message nobody received within its retention period: the run it carried will never
        // start. It fails instead of staying queued (and holding its instrument's slot) for ever.
        if (settings.queue.type === 'sqs') {
          const { messageRetentionMs } = settings.queue;
          await scheduler.scheduleTask({
            id: 'lab-scheduler-fail-expired-queued-runs',
            frequency: { minutes: 1 },
            timeout: { minutes: 1 },
            scope: 'global',
            fn: async () => {
              const failed = await runStates.failExpiredQueuedRuns(
                Date.now(),
                messageRetentionMs,
              );
              if (failed > 0) {
                logger.warn(
                  'Failed queued runs whose message the queue dropped unread (retention period passed)',
                  { count: failed },
                );
                notify();
              }
            },
          });
        }

        // The in-process queue lives in memory: runs queued in a process that was killed are queued here
        // again (see requeueLostQueuedRuns): those queued for longer than the lost-run timeout, and at the
        // start on SQLite (one process owns the file) every queued run.
        if (inProcessQueue) {
          const lostQueue = inProcessQueue;
          const requeue = async (queuedForMs: number, nowMs?: number) => {
            if (
              (await requeueLostQueuedRuns({
                dispatch: stores.dispatch,
                queue: lostQueue,
                logger,
                queuedForMs,
                nowMs,
              })) > 0
            ) {
              signalRunUpdate();
            }
          };
          await scheduler.scheduleTask({
            id: 'lab-scheduler-requeue-lost-runs',
            frequency: { minutes: 1 },
            timeout: { minutes: 1 },
            scope: 'global',
            fn: () => requeue(settings.execution.lostRunTimeoutMs),
          });
          const onSqlite = knex.client.config.client !== 'pg';
          // Before this process queued or measured anything (start-up hooks run side by side with the
          // dispatcher's start): what was queued or running then was left by a process now dead.
          const initialisedAt = Date.now();
          lifecycle.addStartupHook(async () => {
            if (onSqlite) {
              // One process owns the SQLite file: a run "running" at its start was being measured by a
              // process that stopped (killed, crashed). Nothing will report it, and waiting for the
              // lost-run timeout (hours by default, sized for SQS redeliveries) would hold its
              // instrument's slot and skip its task's next occurrences meanwhile. It fails now, saying
              // why; "run now" measures again. (With PostgreSQL, another replica may still be measuring
              // it: the lost-run timeout decides.)
              await failRunsLeftRunning(
                'Failed runs left running by a backend that stopped',
                initialisedAt,
                0,
                'The backend stopped while this run was being measured',
              ).catch(error =>
                logger.error(`Could not fail runs left running: ${error}`),
              );
            }
            await requeue(
              onSqlite ? 0 : settings.execution.lostRunTimeoutMs,
              initialisedAt,
            ).catch(error =>
              logger.error(`Could not queue lost runs again: ${error}`),
            );
          });
        }

        // Run history does not grow for ever (labScheduler.retention); raw data follows its runs.
        await scheduleRunRetention({
          config,
          scheduler,
          knex,
          logger,
          rawDataDirectory:
            settings.queue.type === 'inProcess'
              ? settings.execution.rawDataDirectory
              : undefined,
        });
        await warnWithoutTrigramIndex(knex, logger);

        // Instruments' capacities may change in the catalog: copy them onto their tasks, where the
        // dispatcher's claim reads them (see InstrumentCapacities).
        if (instruments.enabled) {
          const capacities = stores.instrumentCapacities;
          await scheduler.scheduleTask({
            id: 'lab-scheduler-refresh-instrument-capacities',
            frequency: { minutes: 5 },
            timeout: { minutes: 5 },
            scope: 'global',
            fn: async () => {
              const changed = await capacities.refresh(ref =>
                instruments.capacity(ref),
              );
              if (changed > 0) {
                logger.info('Applied instrument capacities from the catalog', {
                  tasks: changed,
                });
              }
            },
          });
        }

        await scheduleRunNotifications({
          config,
          knex,
          notifications,
          scheduler,
          logger: logger.child({ component: 'notifier' }),
          measurementTypes,
        });
        lifecycle.addShutdownHook(() => runUpdates.close());

        lifecycle.addStartupHook(() => dispatcher?.start());
        lifecycle.addShutdownHook(() =>
          stopWithin(settings.lifecycle.shutdownTimeoutMs, logger, async () => {
            await dispatcher?.stop();
            await queue?.close();
            await wakeup.close();
          }),
        );
      },
    });
  },
});
