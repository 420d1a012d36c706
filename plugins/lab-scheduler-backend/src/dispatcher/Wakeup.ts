import { LoggerService } from '@backstage/backend-plugin-api';
import { Knex } from 'knex';
import { EventEmitter } from 'node:events';

/**
 * Wakes dispatchers early when tasks change, so they need not poll. `notify` is called by the API
 * (any replica); `subscribe` by dispatchers (any replica).
 */
export interface Wakeup {
  notify(): Promise<void>;
  subscribe(listener: () => void): () => void;
  close(): Promise<void>;
}

/** Same-process wake-ups: the embedded default on SQLite, where API and dispatcher share a process. */
export class LocalWakeup implements Wakeup {
  private readonly emitter = new EventEmitter();

  async notify() {
    this.emitter.emit('wake');
  }

  subscribe(listener: () => void) {
    this.emitter.on('wake', listener);
    return () => {
      this.emitter.off('wake', listener);
    };
  }

  async close() {
    this.emitter.removeAllListeners();
  }
}

export const WAKEUP_CHANNEL = 'lab_scheduler_wakeup';

/**
 * Cross-replica wake-ups over PostgreSQL LISTEN/NOTIFY. The listening connection is re-established
 * after errors (failover, restarts); a missed notification only costs the fallback poll interval.
 */
export class PgNotifyWakeup implements Wakeup {
  private readonly local = new LocalWakeup();
  private connection: any;
  private closed = false;
  private reconnectTimer?: NodeJS.Timeout;
  private listening = false;

  constructor(
    private readonly knex: Knex,
    private readonly logger: LoggerService,
  ) {}

  async notify() {
    await this.knex.raw('select pg_notify(?, ?)', [WAKEUP_CHANNEL, '']);
  }

  subscribe(listener: () => void) {
    const unsubscribe = this.local.subscribe(listener);
    if (!this.listening) {
      this.listening = true;
      void this.connect();
    }
    return unsubscribe;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    try {
      const connection = await (this.knex.client as any).acquireRawConnection();
      this.connection = connection;
      connection.on('notification', (msg: { channel: string }) => {
        if (msg.channel === WAKEUP_CHANNEL) void this.local.notify();
      });
      connection.on('error', (error: Error) => this.reconnect(error));
      connection.on('end', () => this.reconnect(new Error('connection ended')));
      await connection.query(`LISTEN ${WAKEUP_CHANNEL}`);
      // Anything may have changed while we were not listening.
      void this.local.notify();
    } catch (error) {
      this.reconnect(error as Error);
    }
  }

  private reconnect(error: Error) {
    if (this.closed || this.reconnectTimer) return;
    this.logger.warn(
      `Lab Scheduler wake-up listener lost (${error.message}); reconnecting`,
    );
    const old = this.connection;
    this.connection = undefined;
    if (old) {
      old.removeAllListeners?.('notification');
      old.end?.().catch(() => {});
    }
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, 1000);
  }

  async close() {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const connection = this.connection;
    this.connection = undefined;
    if (connection) {
      connection.removeAllListeners('end');
      connection.removeAllListeners('error');
      connection.on('error', () => {});
      await connection.end().catch(() => {});
    }
    await this.local.close();
  }
}
