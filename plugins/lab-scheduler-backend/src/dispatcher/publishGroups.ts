/** Runs in publishing order (earliest instant first), as the dispatcher's round holds them. */
type Scheduled = { scheduledFor: number };

/**
 * Where the publish request that starts with `runs[start]` ends (exclusive): at most `maxSize` runs,
 * those due by `nowMs`, and those due within `windowMs` of the first (the request then goes out at the
 * instant of its last run: none early, none held back longer than the window). The dispatcher gives a
 * window only while an earlier request is still in flight (Dispatcher.publishRuns).
 */
export function publishGroupEnd(
  runs: readonly Scheduled[],
  start: number,
  options: { nowMs: number; windowMs: number; maxSize: number },
): number {
  const until = Math.max(
    options.nowMs,
    runs[start].scheduledFor + options.windowMs,
  );
  let end = start + 1;
  while (
    end < runs.length &&
    end - start < options.maxSize &&
    runs[end].scheduledFor <= until
  ) {
    end++;
  }
  return end;
}
