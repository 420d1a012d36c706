/*
 * Dispatch: per-task policies and the run columns the dispatcher and the instrument guard need.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('lab_scheduler_tasks', table => {
    table.string('misfire_policy', 16).notNullable().defaultTo('run_once');
    table.integer('misfire_window_seconds').notNullable().defaultTo(3600);
    table.string('overlap_policy', 16).notNullable().defaultTo('skip');
    table
      .integer('instrument_concurrency')
      .nullable()
      .defaultTo(1)
      .comment(
        'at most this many queued/running runs per instrument; null = no limit',
      );
  });
  await knex.schema.alterTable('lab_scheduler_runs', table => {
    table.string('instrument_ref', 255).nullable();
    table
      .integer('slot')
      .nullable()
      .comment(
        'instrument slot held from publish until the run ends; unique per instrument',
      );
    table.integer('publish_failures').notNullable().defaultTo(0);
    // NULLs are distinct in both PostgreSQL and SQLite: only runs holding a slot collide.
    table.unique(['instrument_ref', 'slot'], {
      indexName: 'lab_scheduler_runs_slot_uniq',
    });
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('lab_scheduler_runs', table => {
    table.dropUnique(
      ['instrument_ref', 'slot'],
      'lab_scheduler_runs_slot_uniq',
    );
    table.dropColumn('instrument_ref');
    table.dropColumn('slot');
    table.dropColumn('publish_failures');
  });
  await knex.schema.alterTable('lab_scheduler_tasks', table => {
    table.dropColumn('misfire_policy');
    table.dropColumn('misfire_window_seconds');
    table.dropColumn('overlap_policy');
    table.dropColumn('instrument_concurrency');
  });
};
