import { HumanDuration } from '@backstage/types';

/**
 * Durations are a HumanDuration object (`{ seconds: 30 }`) or a string (`30s`, `5 minutes`, `PT5M`), read
 * with Backstage's `readDurationFromConfig`. Prefer strings in files that override one another: a string
 * replaces a string, while two objects merge key by key (`{ minutes: 5 }` overridden by `{ seconds: 20 }`
 * is 5 minutes 20 seconds). The number keys of earlier releases (`leaseSeconds`, `pollIntervalMs`, …) are
 * still read, in the unit their names give, and deprecated; setting both forms of one is an error.
 */
export interface Config {
  /** Configuration of the Lab Scheduler plugin. */
  labScheduler?: {
    /** Task owners (users and groups). */
    owners?: {
      /**
       * Whether a task's owner must exist in the catalog as a User or Group. Default: true.
       * @visibility backend
       */
      validateWithCatalog?: boolean;
    };
    /** Which catalog entities are instruments. */
    instruments?: {
      /**
       * Entity kind of instruments. Default: Resource.
       * @visibility frontend
       */
      kind?: string;
      /**
       * Required `spec.type` of instrument entities; an empty string accepts any. Default: instrument.
       * @visibility frontend
       */
      type?: string;
      /**
       * Check that a task's instrument exists in the catalog and supports its measurement type.
       * Default: true.
       * @visibility backend
       */
      validateWithCatalog?: boolean;
    };
    /** REST API settings. */
    api?: {
      /**
       * Largest accepted JSON request body, in the `bytes` notation (e.g. 64kb). Default: 64kb.
       * @visibility backend
       */
      maxBodySize?: string;
    };
    /** The dispatcher that claims due runs and publishes them to the queue. */
    dispatcher?: {
      /**
       * Run the dispatcher in this backend. Set false for API-only replicas. Default: true.
       * @visibility backend
       */
      enabled?: boolean;
      /** Tasks or runs claimed per transaction. Default: 200. @visibility backend */
      batchSize?: number;
      /**
       * How long a claim protects a run before another replica may take it over. Default: 30 seconds.
       * @visibility backend
       */
      lease?: HumanDuration | string;
      /**
       * @deprecated Use `lease`. In seconds.
       * @visibility backend
       */
      leaseSeconds?: number;
      /**
       * Longest sleep without a wake-up (a safety net: the dispatcher sleeps until the next due run and
       * is woken on changes). Default: 5 seconds.
       * @visibility backend
       */
      pollInterval?: HumanDuration | string;
      /**
       * @deprecated Use `pollInterval`. In milliseconds.
       * @visibility backend
       */
      pollIntervalMs?: number;
      /**
       * How late an occurrence may be and still count as on time; later ones follow the task's misfire
       * policy. Default: 60 seconds.
       * @visibility backend
       */
      misfireGrace?: HumanDuration | string;
      /**
       * @deprecated Use `misfireGrace`. In seconds.
       * @visibility backend
       */
      misfireGraceSeconds?: number;
      /**
       * Most messages sent to SQS but not yet recorded as published, per replica: the most a crash, a
       * stall or a lost database can duplicate (duplicates never measure). Default: 80.
       * @visibility backend
       */
      maxUnrecordedMessages?: number;
      /** Backoff of failed publishes. @visibility backend */
      publishRetry?: {
        /** Before the first retry, doubling per retry. Default: 500 ms. @visibility backend */
        initialDelay?: HumanDuration | string;
        /** @deprecated Use `initialDelay`. In milliseconds. @visibility backend */
        initialDelayMs?: number;
        /** The longest delay between retries. Default: 1 minute. @visibility backend */
        maxDelay?: HumanDuration | string;
        /** @deprecated Use `maxDelay`. In milliseconds. @visibility backend */
        maxDelayMs?: number;
      };
    };
    /** Start and stop. */
    lifecycle?: {
      /**
       * Longest wait for the plugin's shutdown (dispatcher, in-process queue) before the backend goes on
       * stopping. Claims not released expire with their lease; in-process measurements still running are
       * taken over after the run timeout. Raise it to let in-process measurements finish. Default: 1.5
       * seconds.
       * @visibility backend
       */
      shutdownTimeout?: HumanDuration | string;
      /**
       * @deprecated Use `shutdownTimeout`. In milliseconds.
       * @visibility backend
       */
      shutdownTimeoutMs?: number;
    };
    /** Where runs are published. */
    queue?: {
      /**
       * inProcess: run measurements in this backend (embedded default); sqs: publish to AWS SQS.
       * Default: inProcess.
       * @visibility backend
       */
      type?: 'inProcess' | 'sqs';
      inProcess?: {
        /** Measurements run at once. Default: 4. @visibility backend */
        concurrency?: number;
      };
      sqs?: {
        /** URL of the queue (a .fifo URL selects FIFO behaviour). @visibility backend */
        queueUrl: string;
        /** AWS region; the default chain when absent. @visibility backend */
        region?: string;
        /** Custom endpoint (an SQS-compatible server). @visibility backend */
        endpoint?: string;
        /**
         * The queue's message retention period (SQS MessageRetentionPeriod), between 60 seconds and 14
         * days. A run still "queued" this long after its publish (plus 5 minutes for the hosts' clocks)
         * will not be delivered again: its message is gone, unread, or dead-lettered without a report. It
         * fails, saying so, and frees its instrument's slot. Default: 4 days (the CDK stack's queue); set
         * it to the queue's own period when that differs.
         * @visibility backend
         */
        messageRetention?: HumanDuration | string;
      };
    };
    /** The in-process executor (queue type inProcess). */
    execution?: {
      /** Attempts per run before it fails. Default: 3. @visibility backend */
      maxAttempts?: number;
      /** First retry delay, doubled per attempt. Default: 1 second. @visibility backend */
      retryDelay?: HumanDuration | string;
      /** @deprecated Use `retryDelay`. In milliseconds. @visibility backend */
      retryDelayMs?: number;
      /**
       * The longest a measurement may run: the executor's own time limit (on AWS, the Lambda's
       * timeout). A run still "running" after this long has lost its executor, and a redelivery of its
       * message may start it again. Default: 15 minutes.
       * @visibility backend
       */
      runTimeout?: HumanDuration | string;
      /** @deprecated Use `runTimeout`. In seconds. @visibility backend */
      runTimeoutSeconds?: number;
      /**
       * A run still "running" after this long is failed as lost: its message will not come back (with
       * SQS: longer than the visibility timeout times maxReceiveCount). Default: 31 × runTimeout
       * (the CDK stack's visibility timeout is 6 × the Lambda timeout, with 5 receives).
       * @visibility backend
       */
      lostRunTimeout?: HumanDuration | string;
      /** @deprecated Use `lostRunTimeout`. In seconds. @visibility backend */
      lostRunTimeoutSeconds?: number;
      /**
       * Upgrade window only (from a release without claim tokens): accept run reports that carry no
       * claim token, so executors deployed before the backend keep working. Turn it on with the new
       * backend, deploy the new Lambda, wait until the queue holds no older messages, turn it off.
       * While on, duplicate messages of such executors are not fenced. Default: false.
       * @visibility backend
       */
      acceptReportsWithoutClaimToken?: boolean;
      /** Folder for raw measurement data, relative to the backend's working directory. Default: data/raw. @visibility backend */
      rawDataDirectory?: string;
      /** The simulated instrument driver. */
      simulated?: {
        /**
         * Measure every instrument not listed under `instruments` with the simulated driver (fake data
         * with QC verdicts). Default: false: a task on an instrument without a driver is refused at
         * creation, and a run of one fails with NoInstrumentDriverError. For demos and development only.
         * @visibility backend
         */
        allowed?: boolean;
        /** Probability (0-1) of a simulated instrument fault. Default: 0. @visibility backend */
        faultRate?: number;
        /** Simulated acquisition time. Default: 0. @visibility backend */
        delay?: HumanDuration | string;
        /** @deprecated Use `delay`. In milliseconds. @visibility backend */
        delayMs?: number;
      };
      /**
       * Instruments and their drivers. With the SQS queue the Lambda measures (its INSTRUMENT_GATEWAYS);
       * list the same instruments here (driver and instrumentRef; endpoint unused) so tasks on them are
       * accepted.
       */
      instruments?: Array<{
        /** @visibility backend */
        instrumentRef: string;
        /**
         * The driver: http (gateway, from the backend module
         * @lab-scheduler/plugin-lab-scheduler-backend-module-http-gateway), simulated (built in), or one
         * another backend module added through instrumentDriversExtensionPoint (its own keys go next to
         * this one). Default: http.
         * @visibility backend
         */
        driver?: string;
        /** Gateway base URL; the driver POSTs to {endpoint}/measure. Required for driver http with the inProcess queue. @visibility backend */
        endpoint?: string;
        /** Bearer token of the gateway. @visibility secret */
        token?: string;
        /** Default: 60000. @visibility backend */
        timeoutMs?: number;
        /** Largest accepted gateway answer in bytes; larger ones fail the run. Default: 16777216 (16 MiB). @visibility backend */
        maxResponseBytes?: number;
      }>;
    };
    /**
     * Run history retention: a scheduled sweep deletes finished runs (succeeded, failed, dead-lettered,
     * skipped, cancelled) and their local raw data once they are older than keepFinishedRunsFor, in
     * small batches that never wait for the dispatcher. Off (history kept for ever) unless
     * keepFinishedRunsFor is set. Raw data in S3 is expired by the bucket's lifecycle rule (CDK prop
     * rawDataRetentionDays); set both to the same number of days.
     */
    retention?: {
      /** Finished runs are deleted this long after they finished, e.g. `90d`. @visibility backend */
      keepFinishedRunsFor?: HumanDuration | string;
      /** @deprecated Use `keepFinishedRunsFor`. In days. @visibility backend */
      keepFinishedRunsDays?: number;
      /** The newest this many finished runs of every task are kept whatever their age. Default: 10. @visibility backend */
      keepLastRunsPerTask?: number;
      /** Runs examined per short transaction. Default: 500. @visibility backend */
      batchSize?: number;
      /** Pause between batches. Default: 20 ms. @visibility backend */
      pauseBetweenBatches?: HumanDuration | string;
      /** @deprecated Use `pauseBetweenBatches`. In milliseconds. @visibility backend */
      pauseBetweenBatchesMs?: number;
      /** Time between sweeps. Default: 10 minutes. @visibility backend */
      frequency?: HumanDuration | string;
      /** @deprecated Use `frequency`. In minutes. @visibility backend */
      frequencyMinutes?: number;
    };
    /**
     * Notifications to task owners through Backstage notifications (needs the notifications backend in the
     * portal; without it sends fail with a warning and nothing else changes). Each task's policies.notify
     * chooses off, failures (QC fail, failed, dead-lettered; the default) or every_run.
     */
    notifications?: {
      /** Default: true. @visibility backend */
      enabled?: boolean;
      /**
       * At most one notification per task in this window; the runs in between are counted into the next
       * one. Default: 30 minutes. @visibility backend
       */
      window?: HumanDuration | string;
      /** How often finished runs are read. Default: 10 seconds. @visibility backend */
      pollInterval?: HumanDuration | string;
    };
  };
}
