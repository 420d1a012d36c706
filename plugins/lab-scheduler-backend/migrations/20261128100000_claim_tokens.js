/*
 * Claim tokens: every claim of a run (by a dispatcher replica) draws a fresh random token, which travels in
 * the run's message. The executor's start is accepted only with the run's current token, so a message
 * published under a claim that has since been superseded (its replica stalled or died before recording the
 * publish, and another replica re-published the run) can never start a measurement: a duplicate message is
 * harmless. Runs claimed before this migration have no token and are started as before.
 */

// @ts-check

/**
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('lab_scheduler_runs', table => {
    table
      .string('claim_token', 32)
      .nullable()
      .comment(
        'token of the claim that may publish this run; fences superseded claims',
      );
  });
};

/**
 * @param {import('knex').Knex} knex
 */
exports.down = async function down(knex) {
  await knex.schema.alterTable('lab_scheduler_runs', table => {
    table.dropColumn('claim_token');
  });
};
