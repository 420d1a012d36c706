import { LoggerService } from '@backstage/backend-plugin-api';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  ClaimedRun,
  ClaimResult,
  DispatchStore,
} from '../database/DispatchStore';
import { TaskQueue } from '../queue/TaskQueue';
import { createDispatcherMetrics, DispatcherMetrics } from './metrics';
import { Wakeup } from './Wakeup';

/** Messages published per round trip group; the lease is re-checked between groups. */
const PUBLISH_CHUNK = 100;
/** Publish requests in flight at once within a round. */
const MAX_PUBLISHES_IN_FLIGHT = 8;
/** How often, at most, a busy dispatcher looks for pending runs (recoveries, retries) between wake-ups. */
const PENDING_RECHECK_MS = 1_000;

export interface DispatcherOptions {
  store: DispatchStore;
  queue: TaskQueue;
  logger: LoggerService;
  wakeup?: Wakeup;
  /** Unique per replica; defaults to host, pid and a random suffix. */
  instanceId?: string;
  /** Tasks or runs claimed per transaction. */
  batchSize?: number;
  /** How long a claim protects a run; a replica that dies releases its runs after this. */
  leaseMs?: number;
  /** Longest sleep without a wake-up: bounds the cost of a missed notification. */
  pollIntervalMs?: number;
  /** How late an occurrence may be and still count as on time (beyond it: misfire policy). */
  misfireGraceMs?: number;
  /** First and largest delay between publish retries (exponential backoff). */
  retryInitialDelayMs?: number;
  retryMaxDelayMs?: number;
  /** How often a run waiting for a busy instrument checks again (also woken by run completions). */
  slotRetryMs?: number;
  /**
   * Claim occurrences due within this many ms and publish each exactly at its instant: fewer, larger
   * claims under load, and a timer rather than a database round trip between instant and publish.
   */
  lookAheadMs?: number;
  now?: () => number;
  metrics?: DispatcherMetrics;
}

export interface TickResult {
  claimed: number;
  published: number;
  failed: number;
  recovered: number;
  skipped: number;
  waitingForInstrument: number;
  more: boolean;
}

/**
 * Claims due occurrences and publishes one message per run. Any number of instances may run against
 * one database: claims are atomic (SELECT … FOR UPDATE SKIP LOCKED), every occurrence has exactly one
 * run row, and a claim is a lease another instance takes over when it expires.
 *
 * It sleeps until the earliest due instant instead of polling, and wakes early on task changes.
 */
export class Dispatcher {
  readonly instanceId: string;
  private readonly store: DispatchStore;
  private readonly queue: TaskQueue;
  private readonly logger: LoggerService;
  private readonly now: () => number;
  private readonly metrics: DispatcherMetrics;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly pollIntervalMs: number;
  private readonly graceMs: number;
  private readonly retryInitialDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly slotRetryMs: number;
  private readonly lookAheadMs: number;
  /** When pending runs (retries, recoveries, run now) may next be claimable; 0 = check now. */
  private pendingDueAt = 0;
  /** The last round looked for pending runs; and that look filled its batch (more are claimable). */
  private pendingChecked = false;
  private pendingBacklog = false;
  private running = false;
  private loop?: Promise<void>;
  private wakeTimer?: NodeJS.Timeout;
  private wakeResolve?: () => void;
  private wokenEarly = false;
  private unsubscribe?: () => void;
  private consecutiveErrors = 0;

  constructor(private readonly options: DispatcherOptions) {
    this.store = options.store;
    this.queue = options.queue;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.metrics = options.metrics ?? createDispatcherMetrics();
    this.instanceId =
      options.instanceId ??
      `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.batchSize = options.batchSize ?? 200;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 5_000;
    this.graceMs = options.misfireGraceMs ?? 60_000;
    this.retryInitialDelayMs = options.retryInitialDelayMs ?? 500;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 60_000;
    this.slotRetryMs = options.slotRetryMs ?? 2_000;
    this.lookAheadMs = options.lookAheadMs ?? 50;
  }

  /** Starts the claim loop in the background. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.options.wakeup?.subscribe(() => this.wake());
    this.metrics.backlog.addCallback(this.observeBacklog);
    this.loop = this.runLoop();
    this.logger.info('Lab Scheduler dispatcher started', {
      instanceId: this.instanceId,
    });
  }

  /**
   * Stops claiming, finishes publishing what it already claimed, and hands any claim it could not
   * publish to the other instances at once (instead of after the lease).
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unsubscribe?.();
    this.metrics.backlog.removeCallback(this.observeBacklog);
    this.wake();
    await this.loop;
    try {
      const released = await this.store.releaseClaims(
        this.instanceId,
        this.now(),
      );
      if (released > 0) {
        this.logger.info('Released unpublished claims on shutdown', {
          instanceId: this.instanceId,
          released,
        });
      }
    } catch (error) {
      this.logger.warn(
        `Could not release claims on shutdown (the lease will expire): ${error}`,
      );
    }
    this.logger.info('Lab Scheduler dispatcher stopped', {
      instanceId: this.instanceId,
    });
  }

  /** Interrupts the current sleep: something may be due. */
  wake(): void {
    this.wokenEarly = true;
    this.pendingDueAt = 0;
    clearTimeout(this.wakeTimer);
    this.wakeResolve?.();
  }

  private observeBacklog = async (result: { observe(value: number): void }) => {
    try {
      result.observe(await this.store.dueBacklog(this.now()));
    } catch {
      // The database is unavailable: no observation this round.
    }
  };

  private async runLoop(): Promise<void> {
    while (this.running) {
      let result: TickResult;
      try {
        this.wokenEarly = false;
        result = await this.tick();
        this.consecutiveErrors = 0;
      } catch (error) {
        this.consecutiveErrors++;
        const delay = Math.min(
          this.pollIntervalMs,
          100 * 2 ** Math.min(this.consecutiveErrors, 6),
        );
        this.logger.error(
          `Dispatch failed; retrying in ${delay} ms: ${error}`,
          {
            instanceId: this.instanceId,
          },
        );
        await this.sleep(delay);
        continue;
      }
      if (result.more && this.pendingChecked && !this.pendingBacklog) {
        // Draining a backlog of due tasks skips nextDueAt below, so do not ask for pending runs on
        // every round either: that query would compete with the claims. Expired leases are then
        // recovered at most this much later; "run now" wakes the loop at once.
        this.pendingDueAt =
          this.now() + Math.min(this.pollIntervalMs, PENDING_RECHECK_MS);
      }
      if (result.more || this.wokenEarly || !this.running) continue;
      let delay = this.pollIntervalMs;
      try {
        const { taskAt, runAt } = await this.store.nextDueAt();
        const now = this.now();
        this.pendingDueAt = runAt ?? now + this.pollIntervalMs;
        for (const at of [
          taskAt === null ? null : taskAt - this.lookAheadMs,
          runAt,
        ]) {
          if (at !== null) delay = Math.min(delay, Math.max(0, at - now));
        }
        // Something is due but another replica holds it (its claim is not committed yet): do not
        // spin on it, look again shortly.
        if (delay === 0 && result.claimed === 0) delay = 5;
      } catch (error) {
        this.logger.warn(`Could not read the next due time: ${error}`);
      }
      if (delay > 0 && !this.wokenEarly) await this.sleep(delay);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>(resolve => {
      this.wakeResolve = resolve;
      this.wakeTimer = setTimeout(resolve, ms);
    }).then(() => {
      this.wakeResolve = undefined;
    });
  }

  /** One round: claim due tasks and pending runs, then publish them. Exposed for tests. */
  async tick(): Promise<TickResult> {
    const nowMs = this.now();
    const fresh = await this.store.claimDueTasks({
      instanceId: this.instanceId,
      nowMs,
      horizonMs: nowMs + this.lookAheadMs,
      batchSize: this.batchSize,
      leaseMs: this.leaseMs,
      graceMs: this.graceMs,
    });
    const checkPending = this.pendingDueAt <= nowMs;
    const pending: ClaimResult = checkPending
      ? await this.store.claimPendingRuns({
          instanceId: this.instanceId,
          nowMs,
          batchSize: this.batchSize,
          leaseMs: this.leaseMs,
        })
      : { runs: [], tasksClaimed: 0, skipped: 0, more: false };
    this.pendingChecked = checkPending;
    this.pendingBacklog = pending.more;
    const runs = [...fresh.runs, ...pending.runs];
    const recovered = pending.runs.filter(
      r =>
        r.previousClaimant !== null && r.previousClaimant !== this.instanceId,
    );
    for (const run of recovered) {
      this.logger.info('Recovered run from an expired claim', {
        runId: run.id,
        taskId: run.taskId,
        previousClaimant: run.previousClaimant,
        instanceId: this.instanceId,
      });
    }
    this.metrics.claimed.add(runs.length);
    this.metrics.recovered.add(recovered.length);
    this.metrics.skipped.add(fresh.skipped);

    const publishable: ClaimedRun[] = [];
    const waiting: string[] = [];
    for (const run of runs) {
      if (await this.store.acquireSlot(run)) publishable.push(run);
      else waiting.push(run.id);
    }
    await this.store.deferRuns(waiting, this.now() + this.slotRetryMs);
    if (waiting.length > 0) {
      this.pendingDueAt = Math.min(
        this.pendingDueAt,
        this.now() + this.slotRetryMs,
      );
    }
    publishable.sort((a, b) => a.scheduledFor - b.scheduledFor);

    let published = 0;
    let failed = 0;
    const done: { id: string; publishedAt: number }[] = [];
    // Publish only while our lease is comfortably valid: past that, another replica may take the
    // runs over, and publishing them too would send duplicates. What is left is recovered later.
    const leaseDeadline = nowMs + this.leaseMs * 0.8;
    const inFlight = new Set<Promise<void>>();
    const publishChunk = async (chunk: ClaimedRun[]) => {
      const outcomes = await this.queue.publish(chunk.map(r => r.message));
      const publishedAt = this.now();
      const byId = new Map(chunk.map(r => [r.id, r]));
      for (const outcome of outcomes) {
        const run = byId.get(outcome.runId)!;
        if (outcome.ok) {
          done.push({ id: run.id, publishedAt });
          this.metrics.lateness.record(publishedAt - run.scheduledFor, {
            measurement_type: run.message.measurement.type,
          });
          continue;
        }
        failed++;
        // Exponential backoff per run, by its number of publish failures so far.
        const attempt = Math.min(run.publishFailures + 1, 20);
        const delay = Math.min(
          this.retryMaxDelayMs,
          this.retryInitialDelayMs * 2 ** (attempt - 1),
        );
        this.logger.warn('Publish failed; will retry', {
          runId: run.id,
          taskId: run.taskId,
          retryInMs: delay,
          error: outcome.error,
        });
        await this.store.deferRuns([run.id], this.now() + delay, outcome.error);
        this.pendingDueAt = Math.min(this.pendingDueAt, this.now() + delay);
      }
    };
    let i = 0;
    while (i < publishable.length) {
      // Never early: wait for the instant of the next run (claimed up to lookAheadMs ahead). Timers may
      // fire a millisecond before the wall clock agrees, so check the clock again (bounded, for
      // injected clocks that do not move).
      for (let spins = 0; spins < 50; spins++) {
        const wait = publishable[i].scheduledFor - this.now();
        if (wait <= 0) break;
        await new Promise(r => setTimeout(r, wait));
      }
      if (this.now() > leaseDeadline) {
        this.logger.warn(
          'Lease nearly expired before publishing; leaving runs for recovery',
          {
            instanceId: this.instanceId,
            left: publishable.length - i,
          },
        );
        break;
      }
      const due = Math.max(this.now(), publishable[i].scheduledFor);
      let end = i;
      while (
        end < publishable.length &&
        end - i < PUBLISH_CHUNK &&
        publishable[end].scheduledFor <= due
      ) {
        end++;
      }
      // Pipelined: a slow publish does not hold back the runs due after it.
      const promise = publishChunk(publishable.slice(i, end)).finally(() =>
        inFlight.delete(promise),
      );
      inFlight.add(promise);
      i = end;
      if (inFlight.size >= MAX_PUBLISHES_IN_FLIGHT)
        await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    // One statement records every publish of the round, each with its own time.
    await this.store.markPublished(done);
    published = done.length;
    this.metrics.published.add(published);
    this.metrics.publishFailed.add(failed);
    return {
      claimed: runs.length,
      published,
      failed,
      recovered: recovered.length,
      skipped: fresh.skipped,
      waitingForInstrument: waiting.length,
      more: fresh.more || pending.more,
    };
  }
}
