// `npm run rehearsal`: the production topology on this machine, fault phases, and exact accounting per phase.
// JSON lines on stdout; a markdown report in e2e-artifacts/rehearsal/report.md. Exits non-zero when a
// requirement fails. Every process and temp dir is cleaned up, also on failure or interruption.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPluginDatabase } from './accounting.mjs';
import { PHASES, runPhase } from './phases.mjs';
import { writeReport } from './report.mjs';
import { bootTopology, root } from './topology.mjs';

const started = Date.now();
const budgetMs = Number(process.env.REHEARSAL_BUDGET_SECONDS ?? 900) * 1000;
const selected = (
  process.env.REHEARSAL_PHASES ?? PHASES.map(p => p.id).join(',')
)
  .split(',')
  .map(s => s.trim())
  .filter(Boolean);
const workDir = mkdtempSync(join(tmpdir(), 'rehearsal-'));
const cleanups = [];
let cleaning;

function emit(record) {
  process.stdout.write(
    `${JSON.stringify({ at: new Date().toISOString(), ...record })}\n`,
  );
}
const log = (event, data) => emit({ event, ...data });

async function cleanUp() {
  cleaning ??= (async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        log('cleanup-error', { error: String(error) });
      }
    }
    rmSync(workDir, { recursive: true, force: true });
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    log('interrupted', { signal });
    await cleanUp();
    process.exit(130);
  });
}
process.once('uncaughtException', async error => {
  log('error', { error: String(error?.stack ?? error) });
  await cleanUp();
  process.exit(2);
});
// The budget is a requirement too: past it, stop and fail rather than hold CI.
const watchdog = setTimeout(async () => {
  log('budget-exceeded', { budgetMs });
  await cleanUp();
  process.exit(3);
}, budgetMs);

let exitCode = 0;
const results = [];
try {
  const topology = await bootTopology({
    workDir,
    timeScale: Number(process.env.REHEARSAL_TIME_SCALE ?? 30),
    log,
    cleanups,
  });
  const db = openPluginDatabase(topology.postgres);
  cleanups.push(() => db.destroy());
  log('booted', { seconds: Math.round((Date.now() - started) / 1000) });
  for (const phase of PHASES.filter(p => selected.includes(p.id))) {
    const result = await runPhase(phase, { ...topology, db, log });
    results.push(result);
    emit({ event: 'phase', ...result });
    if (result.failures.length > 0) exitCode = 1;
  }
  const totalSeconds = Math.round((Date.now() - started) / 1000);
  writeReport({ root, results, topology, totalSeconds });
  log('done', {
    totalSeconds,
    failed: results.filter(r => r.failures.length > 0).map(r => r.phase),
  });
} catch (error) {
  log('error', { error: String(error?.stack ?? error) });
  exitCode = 2;
} finally {
  clearTimeout(watchdog);
  await cleanUp();
}
process.exit(exitCode);
