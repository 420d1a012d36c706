import { LoggerService } from '@backstage/backend-plugin-api';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  ClaimedRun,
  ClaimResult,
  DispatchStore,
} from '../database/DispatchStore';
import { PublishOutcome, TaskQueue } from '../queue/TaskQueue';
import {
  BackoffPolicy,
  backoffDelay,
} from '@lab-scheduler/plugin-lab-scheduler-common';
import { createDispatcherMetrics, DispatcherMetrics } from './metrics';
import { LAB_SCHEDULER_DEFAULTS } from '../config/defaults';
import { publishGroupEnd } from './publishGroups';
import { PublishRecorder } from './PublishRecorder';
import { Wakeup } from './Wakeup';

/** Messages per publish request when the queue sets no limit of its own (the in-process queue). */
const DEFAULT_PUBLISH_CHUNK = 100;
/** How often, at most, a busy dispatcher looks for pending runs (recoveries, retries) between wake-ups. */
const PENDING_RECHECK_MS = 1_000;
/**
 * Rounds still publishing while the loop claims the next: the loop does not wait for a round's runs to
 * come due before claiming what follows them (at 2,000 runs/s a round that holds the loop until its
 * last instant leaves the next instants to whoever claims them late).
 */
const MAX_PUBLISHING_ROUNDS = 2;

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
  /**
   * Durable queues (a request per publish, e.g. SQS), while a request is still in flight: runs whose
   * instants lie within this many ms of the first of them go out in one request, at the instant of the
   * last. At 2,000 runs/s a request then carries the queue's batch (10 for SQS) instead of one or two
   * messages (a tenth of the requests to send, sign and record); no run goes early, none waits longer
   * than this, and a queue that keeps up (no request in flight) gets each run at its own instant.
   * 0 sends each run at its own instant. Not used for the in-process queue (no request to save).
   */
  publishWindowMs?: number;
  /**
   * Most messages sent to a durable queue (SQS) but not yet recorded as published, at any instant:
   * what a crash, a stall past the lease or a lost database connection can make another replica
   * publish again.
   */
  maxUnrecordedMessages?: number;
  /** After a failed publish, how often to ask the queue whether it is back. */
  queueProbeIntervalMs?: number;
  now?: () => number;
  metrics?: DispatcherMetrics;
  /**
   * Runs were claimed (now pending), queued or refused by the queue: their state changed in the
   * database, so open pages may reload (the plugin sends the run-update signal).
   */
  onRunsChanged?: () => void;
}

/** What the loop needs from a round once its claims are in. */
export interface ClaimedRound {
  claimed: number;
  /** The claims filled their batch: more may be due right away. */
  more: boolean;
}

export interface TickResult {
  claimed: number;
  published: number;
  /** Publishes that failed and will be retried. */
  failed: number;
  /** Runs failed because the queue refused their message for good. */
  rejected: number;
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
  private readonly publishRetry: BackoffPolicy;
  private readonly queueProbeIntervalMs: number;
  private readonly publishChunk: number;
  private readonly recorder: PublishRecorder;
  /** Asking the queue whether it is back, after a failed publish (at most one loop at a time). */
  private probing?: Promise<void>;
  private probeAgain = false;
  private readonly slotRetryMs: number;
  private readonly lookAheadMs: number;
  private readonly publishWindowMs: number;
  /** When pending runs (retries, recoveries, run now) may next be claimable; 0 = check now. */
  private pendingDueAt = 0;
  /** The last round looked for pending runs; and that look filled its batch (more are claimable). */
  private pendingChecked = false;
  private pendingBacklog = false;
  private running = false;
  private loop?: Promise<void>;
  /** Rounds whose claims are in and whose runs are being published, in the background of the loop. */
  private readonly publishing = new Set<Promise<unknown>>();
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
    // The defaults of labScheduler.dispatcher, from the one place the config reader takes them too.
    const defaults = LAB_SCHEDULER_DEFAULTS.dispatcher;
    this.batchSize = options.batchSize ?? defaults.batchSize;
    this.leaseMs = options.leaseMs ?? defaults.leaseMs;
    this.pollIntervalMs = options.pollIntervalMs ?? defaults.pollIntervalMs;
    this.graceMs = options.misfireGraceMs ?? defaults.misfireGraceMs;
    this.publishRetry = {
      baseMs: options.retryInitialDelayMs ?? defaults.retryInitialDelayMs,
      maxMs: options.retryMaxDelayMs ?? defaults.retryMaxDelayMs,
    };
    this.queueProbeIntervalMs =
      options.queueProbeIntervalMs ?? defaults.queueProbeIntervalMs;
    const maxUnrecorded = options.queue.durable
      ? Math.max(
          1,
          options.maxUnrecordedMessages ?? defaults.maxUnrecordedMessages,
        )
      : Number.POSITIVE_INFINITY;
    this.publishChunk = Math.min(
      options.queue.maxBatchSize ?? DEFAULT_PUBLISH_CHUNK,
      maxUnrecorded,
    );
    this.recorder = new PublishRecorder({
      maxUnrecorded,
      record: entries => this.store.markPublished(entries),
      retry: { baseMs: 100, maxMs: 2_000 },
      now: this.now,
      onRecordError: (error, entries, attempt) =>
        this.logger.warn(
          `Could not record ${entries} publishes (attempt ${attempt}); retrying until their lease ends: ${error}`,
          { instanceId: this.instanceId },
        ),
    });
    this.slotRetryMs = options.slotRetryMs ?? defaults.slotRetryMs;
    this.lookAheadMs = options.lookAheadMs ?? defaults.lookAheadMs;
    this.publishWindowMs = options.queue.durable
      ? Math.max(0, options.publishWindowMs ?? defaults.publishWindowMs)
      : 0;
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
    await Promise.allSettled(this.publishing);
    await this.probing;
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
      let result: ClaimedRound;
      try {
        this.wokenEarly = false;
        result = await this.claimAndPublishInBackground();
        // One per round that worked: a dispatcher that is dead, stuck or failing every round (database
        // unreachable, bad credentials) stops reporting it, which is the DispatcherDown alarm's signal.
        this.metrics.heartbeat.add(1);
        this.consecutiveErrors = 0;
      } catch (error) {
        this.consecutiveErrors++;
        const delay = Math.min(
          this.pollIntervalMs,
          backoffDelay({
            attempt: this.consecutiveErrors,
            baseMs: 200,
            maxMs: 6_400,
          }),
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
        // While a round is still publishing, the next claim waits until the next instant is half a
        // look-ahead away: claims stay ahead of their instants without becoming one per millisecond.
        const lead =
          this.publishing.size > 0 ? this.lookAheadMs / 2 : this.lookAheadMs;
        for (const at of [taskAt === null ? null : taskAt - lead, runAt]) {
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

  /**
   * The loop's round: claims, then publishes in the background (the loop goes on to the next claim
   * while this round's runs wait for their instants). Resolves once the claims are in (a backlog: once
   * they are published); a claim that fails rejects, as tick() would. At most MAX_PUBLISHING_ROUNDS
   * publish at once.
   */
  private async claimAndPublishInBackground(): Promise<ClaimedRound> {
    while (this.publishing.size >= MAX_PUBLISHING_ROUNDS) {
      await Promise.race(this.publishing);
    }
    let claimsAreIn = false;
    let claimed!: (round: ClaimedRound) => void;
    const claimsIn = new Promise<ClaimedRound>(resolve => {
      claimed = value => {
        claimsAreIn = true;
        resolve(value);
      };
    });
    const round = this.tick(claimed);
    const tracked = round
      .catch(error => {
        // A failed claim is the loop's to handle (it rejects below). After the claims, a failure is in
        // recording or deferring: the lease returns those runs to the dispatchers.
        if (!claimsAreIn) return;
        this.logger.error(`Publishing a round failed: ${error}`, {
          instanceId: this.instanceId,
        });
      })
      .finally(() => this.publishing.delete(tracked));
    this.publishing.add(tracked);
    const claims = await Promise.race([claimsIn, round]);
    // A full batch is a backlog, due now: claiming more before it is out would only queue the next
    // batch behind it for the unrecorded-message permits while its lease runs down.
    if (claims.more) await tracked;
    return claims;
  }

  /**
   * One round: claim due tasks and pending runs, then publish them. Exposed for tests. `claimed` is told
   * once the claims are in, before publishing starts.
   */
  async tick(claimed?: (round: ClaimedRound) => void): Promise<TickResult> {
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
    if (recovered.length > 0) {
      // Only a claim that was never released expires: its dispatcher died, stalled past its lease or
      // lost the database. (Publish retries and busy instruments release their runs instead.)
      this.logger.warn(
        `Recovered ${recovered.length} runs from expired claims of another dispatcher`,
        {
          instanceId: this.instanceId,
          previousClaimants: [
            ...new Set(recovered.map(r => r.previousClaimant)),
          ].join(','),
          runIds: recovered
            .slice(0, 10)
            .map(r => r.id)
            .join(','),
        },
      );
    }
    this.metrics.claimed.add(runs.length);
    this.metrics.recovered.add(recovered.length);
    this.metrics.skipped.add(fresh.skipped);

    // First due, first served: the earliest runs get the free instrument slots.
    runs.sort((a, b) => a.scheduledFor - b.scheduledFor);
    const { ready: publishable, waiting } = await this.store.acquireSlots(runs);
    await this.store.deferRuns(waiting, this.now() + this.slotRetryMs);
    if (waiting.length > 0) {
      this.pendingDueAt = Math.min(
        this.pendingDueAt,
        this.now() + this.slotRetryMs,
      );
    }

    claimed?.({ claimed: runs.length, more: fresh.more || pending.more });
    if (runs.length > 0) this.options.onRunsChanged?.();
    const outcome = await this.publishRuns(publishable, nowMs);
    if (outcome.published > 0 || outcome.rejected > 0) {
      this.options.onRunsChanged?.();
    }
    this.metrics.published.add(outcome.published);
    this.metrics.publishFailed.add(outcome.failed);
    this.metrics.publishRejected.add(outcome.rejected);
    return {
      claimed: runs.length,
      published: outcome.published,
      failed: outcome.failed,
      rejected: outcome.rejected,
      recovered: recovered.length,
      skipped: fresh.skipped,
      waitingForInstrument: waiting.length,
      more: fresh.more || pending.more,
    };
  }

  /**
   * Publishes the runs in order, each at its instant, recording each publish as soon as the queue took
   * it; at most `maxUnrecordedMessages` are sent but unrecorded at any time.
   */
  private async publishRuns(
    runs: ClaimedRun[],
    claimedAtMs: number,
  ): Promise<{ published: number; failed: number; rejected: number }> {
    const counts = { published: 0, failed: 0, rejected: 0 };
    const retried: { run: ClaimedRun; error: string }[] = [];
    // Publish only while our lease is comfortably valid: past that, another replica may take the
    // runs over, and publishing them too would send duplicates. What is left is recovered later.
    const leaseDeadline = claimedAtMs + this.leaseMs * 0.8;
    const sends = new Set<Promise<void>>();
    const send = async (chunk: ClaimedRun[]) => {
      let outcomes: PublishOutcome[];
      try {
        outcomes = await this.queue.publish(chunk.map(r => r.message));
      } catch (error) {
        // A queue that throws instead of reporting per message: nothing is known to be sent.
        outcomes = chunk.map(r => ({
          runId: r.id,
          ok: false,
          error: String(error),
        }));
      }
      const publishedAt = this.now();
      const byId = new Map(chunk.map(r => [r.id, r]));
      const sent = [];
      const rejected = [];
      for (const outcome of outcomes) {
        const run = byId.get(outcome.runId)!;
        const error = outcome.error ?? 'unknown error';
        if (outcome.ok) sent.push(run);
        else if (outcome.permanent) rejected.push({ run, error });
        else retried.push({ run, error });
      }
      await this.recorder.record(
        sent.map(r => ({ id: r.id, claimToken: r.claimToken, publishedAt })),
        claimedAtMs + this.leaseMs,
      );
      this.recorder.release(chunk.length);
      counts.published += sent.length;
      for (const run of sent) {
        this.metrics.lateness.record(publishedAt - run.scheduledFor, {
          measurement_type: run.message.measurement.type,
        });
      }
      if (rejected.length > 0) {
        try {
          await this.rejectRuns(rejected);
          counts.rejected += rejected.length;
        } catch (error) {
          // Not failed yet: leave them for a retry like any failed publish (the next attempt is
          // refused again and fails them then).
          this.logger.warn(`Could not fail refused runs: ${error}`);
          retried.push(...rejected);
        }
      }
    };

    /** Never early: waits for the instant (claimed up to lookAheadMs ahead). */
    const waitFor = async (instant: number) => {
      // Timers may fire a millisecond before the wall clock agrees, so check the clock again (bounded,
      // for injected clocks that do not move).
      for (let spins = 0; spins < 50; spins++) {
        const wait = instant - this.now();
        if (wait <= 0) break;
        await new Promise(r => setTimeout(r, wait));
      }
    };
    let i = 0;
    while (i < runs.length) {
      await waitFor(runs[i].scheduledFor);
      // This request's runs: those due by now and, while an earlier request is still in flight (the
      // queue is not keeping up with one request per instant), those due within the publish window of
      // the first; it goes out at the instant of the last of them. A queue that keeps up gets each run
      // at its own instant.
      const end = publishGroupEnd(runs, i, {
        nowMs: this.now(),
        windowMs: sends.size > 0 ? this.publishWindowMs : 0,
        maxSize: this.publishChunk,
      });
      await waitFor(runs[end - 1].scheduledFor);
      await this.recorder.acquire(end - i);
      if (this.now() > leaseDeadline) {
        this.recorder.release(end - i);
        // Released rather than left to expire: any replica may publish them now, and taking them up is
        // not mistaken for recovering a dead replica's claim.
        const left = runs.slice(i);
        this.logger.warn(
          `Lease nearly over before publishing; released ${left.length} runs for any dispatcher`,
          { instanceId: this.instanceId },
        );
        await this.store.deferRuns(left, this.now());
        this.pendingDueAt = this.now();
        break;
      }
      // Pipelined, bounded by the recorder's permits: a slow publish does not hold back the runs due
      // after it.
      const promise = send(runs.slice(i, end)).finally(() =>
        sends.delete(promise),
      );
      sends.add(promise);
      i = end;
    }
    // Every send settles on its own (publish failures are outcomes, not errors); wait for all of them
    // before deferring, so no run is left claimed when the round ends.
    const settled = await Promise.allSettled(sends);
    for (const result of settled) {
      if (result.status === 'rejected') {
        this.logger.error(`Publishing failed unexpectedly: ${result.reason}`, {
          instanceId: this.instanceId,
        });
      }
    }
    if (retried.length > 0) await this.deferFailedPublishes(retried);
    counts.failed = retried.length;
    return counts;
  }

  /** Leaves runs whose publish failed for a retry with exponential backoff, and watches the queue. */
  private async deferFailedPublishes(
    failures: { run: ClaimedRun; error: string }[],
  ): Promise<void> {
    const byDelay = new Map<number, { runs: ClaimedRun[]; error: string }>();
    for (const { run, error } of failures) {
      const delay = backoffDelay({
        ...this.publishRetry,
        attempt: run.publishFailures + 1,
      });
      const group = byDelay.get(delay) ?? { runs: [], error };
      group.runs.push(run);
      byDelay.set(delay, group);
    }
    for (const [delay, { runs, error }] of byDelay) {
      await this.store.deferRuns(runs, this.now() + delay, error);
      this.pendingDueAt = Math.min(this.pendingDueAt, this.now() + delay);
    }
    const [first] = failures;
    this.logger.warn(
      `Publish failed for ${failures.length} runs; retrying with backoff`,
      {
        instanceId: this.instanceId,
        error: first.error,
        retryInMs: Math.min(...byDelay.keys()),
      },
    );
    this.probeQueue();
  }

  /**
   * While the queue is unreachable, asks it every `queueProbeIntervalMs` whether it is back; when it
   * is, the runs waiting out their backoff are retried at once (by any replica), so an outage's backlog
   * goes out within a second or two of its end rather than after the longest backoff.
   */
  private probeQueue(): void {
    const probe = this.queue.probe?.bind(this.queue);
    if (!probe) return;
    if (this.probing) {
      // Runs deferred while a probe is under way may miss its release: probe (and release) again.
      this.probeAgain = true;
      return;
    }
    this.probing = (async () => {
      while (this.running) {
        await new Promise(r => setTimeout(r, this.queueProbeIntervalMs));
        try {
          await probe();
        } catch {
          continue;
        }
        try {
          const released = await this.store.retryDeferredPublishesNow(
            this.now(),
          );
          this.logger.info(
            `The queue answers again; retrying ${released} deferred publishes now`,
            { instanceId: this.instanceId },
          );
          this.wake();
          if (!this.probeAgain) return;
          this.probeAgain = false;
        } catch (error) {
          this.logger.warn(`Could not release deferred publishes: ${error}`);
        }
      }
    })().finally(() => {
      this.probing = undefined;
    });
  }

  /** Fails runs whose message the queue refused for good, so they free their instrument. */
  private async rejectRuns(
    rejected: { run: ClaimedRun; error: string }[],
  ): Promise<void> {
    await this.store.failUnpublishable(
      rejected.map(({ run, error }) => ({
        id: run.id,
        claimToken: run.claimToken,
        error: `The queue refused the run's message: ${error}`,
      })),
      this.now(),
    );
    for (const { run, error } of rejected) {
      this.logger.error('The queue refused a run for good; the run failed', {
        instanceId: this.instanceId,
        runId: run.id,
        taskId: run.taskId,
        error,
      });
    }
  }
}
