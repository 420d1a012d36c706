// Work for the phases: bursts of one-time tasks due at one instant (inserted as the plugin's store would, through
// the tests' seed helper), and steady load through the API behind the load balancer.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { INSTRUMENT_COUNT, instrumentRef, root } from './topology.mjs';

let seedModule;
function seed() {
  if (!seedModule) {
    const require = createRequire(join(root, 'package.json'));
    require('@backstage/cli/config/nodeTransform.cjs');
    seedModule = require(join(
      root,
      'plugins/lab-scheduler-backend/src/__testUtils__/seed.ts',
    ));
  }
  return seedModule;
}

/** `count` one-time tasks due at `dueAt`, spread over the gateway's instruments, without instrument guards. */
export function burst(db, count, dueAt) {
  const { seedTasks, noGuards } = seed();
  return seedTasks(
    db,
    Array.from({ length: count }, (_, i) => ({
      schedule: { type: 'once', at: new Date(dueAt).toISOString() },
      nextRunAt: dueAt,
      policies: noGuards,
      instrumentRef: instrumentRef(i % INSTRUMENT_COUNT),
    })),
  );
}

/**
 * Creates one-time tasks through the API at `ratePerSecond`, each due `leadMs` after its creation, until stopped.
 * Every request's outcome is kept: created task ids, and failures with their status. 5 s, not 2: under a fault on
 * this 2-core machine a creation took over 2 s and was refused as "schedule.at must not be in the past" (245 of
 * 2005 in the rolling restart), which is the client's timing, not a failure of the system.
 */
export function steadyLoad({ api, ratePerSecond, leadMs = 5_000, name }) {
  const taskIds = [];
  const failures = [];
  let requests = 0;
  let sequence = 0;
  const inFlight = new Set();
  const tickMs = 100;
  let carry = 0;
  const timer = setInterval(() => {
    carry += (ratePerSecond * tickMs) / 1000;
    for (; carry >= 1; carry -= 1) {
      const n = sequence++;
      requests += 1;
      const p = api
        .createTask({ name: `${name} ${n}`, at: Date.now() + leadMs, index: n })
        .then(res => {
          if (res.status === 201) taskIds.push(res.body.id);
          else
            failures.push({
              at: Date.now(),
              status: res.status,
              error: JSON.stringify(res.body).slice(0, 200),
            });
        })
        .catch(error =>
          failures.push({
            at: Date.now(),
            status: 0,
            error: String(error.cause?.code ?? error),
          }),
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  }, tickMs);
  return {
    taskIds,
    failures,
    get requests() {
      return requests;
    },
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...inFlight]);
    },
  };
}

export const sleep = ms => new Promise(r => setTimeout(r, ms));
