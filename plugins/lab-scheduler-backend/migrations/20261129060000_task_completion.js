/*
 * A task completes when it will not run again AND its last run has ended (issue 12), and completed tasks
 * sort by when they completed, the latest first (src/tasks/lifecycle.ts). Before, the dispatcher's claim
 * completed a one-time task as soon as it took its occurrence, with the sort key of a task that never
 * runs again: the task showed "completed" while its run was still pending or running, and dropped to the
 * last page of the list.
 *
 * Data only: the sort key keeps its column and its list indexes (20261129020000), so the list stays one
 * ordered index range scan. Up:
 * - tasks the old claim completed while a run of theirs is still under way become active again (they
 *   complete when it ends), sorting at their latest occurrence, near the top;
 * - completed tasks sort at NEVER_SORT_AT minus the end of their last run (or their last update, with no
 *   run): after every task that will run, the latest completed first.
 * Down restores the old rule: no next run means completed, sorting at NEVER_SORT_AT.
 */

// @ts-check

/** lifecycle.ts NEVER_SORT_AT (migrations keep their own literals: they are history). */
const NEVER_SORT_AT = '8640000000000000';
const UNDER_WAY = `r.status in ('pending', 'queued', 'running')`;

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.raw(`
    update lab_scheduler_tasks set state = 'active',
      sort_at = coalesce(
        (select max(r.scheduled_for) from lab_scheduler_runs r where r.task_id = lab_scheduler_tasks.id),
        sort_at)
    where state = 'completed' and deleted_at is null
      and exists (select 1 from lab_scheduler_runs r
                  where r.task_id = lab_scheduler_tasks.id and ${UNDER_WAY})`);
  await knex.raw(`
    update lab_scheduler_tasks set sort_at = ${NEVER_SORT_AT} - coalesce(
        (select max(r.finished_at) from lab_scheduler_runs r where r.task_id = lab_scheduler_tasks.id),
        updated_at)
    where state = 'completed' and deleted_at is null`);
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.raw(`
    update lab_scheduler_tasks set state = 'completed'
    where state = 'active' and next_run_at is null and deleted_at is null`);
  await knex.raw(`
    update lab_scheduler_tasks set sort_at = ${NEVER_SORT_AT}
    where next_run_at is null and sort_at <> ${NEVER_SORT_AT}`);
};
