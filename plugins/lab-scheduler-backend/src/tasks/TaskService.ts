import { ConflictError } from '@backstage/errors';
import { Run, Task } from '@lab-scheduler/plugin-lab-scheduler-common';
import { TaskFields, TaskStore } from '../database/TaskStore';
import { activeTiming } from './lifecycle';

/** What a caller gives to create a task: everything but its timing, which the schedule decides. */
export type NewTaskFields = Omit<TaskFields, 'state' | 'nextRunAt'>;

/** Who changes a task, and when. */
export interface TaskChange {
  actor: string;
  nowMs: number;
}

/**
 * The lifecycle of tasks: creation, changes, pause and resume, run now, deletion. The router checks
 * who may do what and validates input; the rules of state and timing live here (and, shared with the
 * dispatcher, in `lifecycle.ts`).
 */
export class TaskService {
  private readonly store: TaskStore;
  private readonly onTaskChanged: (task: Task | undefined) => void;

  constructor(options: {
    store: TaskStore;
    /** Called after a task is created or changed, e.g. to wake the dispatcher. */
    onTaskChanged?: (task: Task | undefined) => void;
  }) {
    this.store = options.store;
    this.onTaskChanged = options.onTaskChanged ?? (() => {});
  }

  /** A new task, active from its schedule (completed at once when no occurrence is left). */
  async create(fields: NewTaskFields, change: TaskChange): Promise<Task> {
    const task = await this.store.createTask(
      { ...fields, ...activeTiming(fields.schedule, change.nowMs) },
      change.actor,
      change.nowMs,
    );
    this.onTaskChanged(task);
    return task;
  }

  /**
   * Applies changes at `expectedVersion`. A new schedule re-times the task from now: a paused task
   * stays paused, any other (a completed one included) becomes active or completed by the schedule; a
   * schedule with no occurrence left completes the task only once no run of it is under way (the store
   * decides that under the task's lock; the run's end completes it otherwise).
   */
  async update(
    task: Task,
    expectedVersion: number,
    changes: Partial<NewTaskFields>,
    change: TaskChange,
  ): Promise<Task> {
    let timing = {};
    if (changes.schedule !== undefined) {
      timing =
        task.state === 'paused'
          ? { nextRunAt: null }
          : activeTiming(changes.schedule, change.nowMs);
    }
    const updated = await this.store.updateTask({
      id: task.id,
      expectedVersion,
      fields: { ...changes, ...timing },
      action: 'update',
      ...change,
    });
    this.onTaskChanged(updated);
    return updated;
  }

  /** Pauses an active task (no next run); a paused one is answered as it is. */
  async pause(task: Task, change: TaskChange): Promise<Task> {
    if (task.state === 'completed') {
      throw new ConflictError(
        `Task ${task.id} is completed and cannot be paused`,
      );
    }
    if (task.state === 'paused') return task;
    const updated = await this.store.updateTask({
      id: task.id,
      expectedVersion: task.version,
      fields: { state: 'paused', nextRunAt: null },
      action: 'pause',
      ...change,
    });
    this.onTaskChanged(updated);
    return updated;
  }

  /** Resumes a paused task from its schedule as of now; an active one is answered as it is. */
  async resume(task: Task, change: TaskChange): Promise<Task> {
    if (task.state === 'completed') {
      throw new ConflictError(
        `Task ${task.id} is completed and cannot be resumed`,
      );
    }
    if (task.state === 'active') return task;
    const updated = await this.store.updateTask({
      id: task.id,
      expectedVersion: task.version,
      fields: activeTiming(task.schedule, change.nowMs),
      action: 'resume',
      ...change,
    });
    this.onTaskChanged(updated);
    return updated;
  }

  /** Run now: a run due immediately (ConflictError while another manual run is under way). */
  async runNow(task: Task, change: TaskChange): Promise<Run> {
    const run = await this.store.triggerRun(
      task.id,
      change.actor,
      change.nowMs,
    );
    this.onTaskChanged(task);
    return run;
  }

  async delete(
    task: Task,
    expectedVersion: number | undefined,
    change: TaskChange,
  ): Promise<void> {
    await this.store.deleteTask({ id: task.id, expectedVersion, ...change });
    this.onTaskChanged(undefined);
  }
}
