import { CronExpressionParser } from 'cron-parser';
import cronstrue from 'cronstrue';
import { DateTime, IANAZone } from 'luxon';
import type { TaskSchedule } from './types';

/**
 * Schedule maths shared by the backend (nextRunAt, dispatch) and the frontend (previews).
 *
 * DST rules, chosen to match what a lab expects from a wall clock:
 * - a local time inside a spring-forward gap (e.g. 02:30 on the night clocks jump 02:00 → 03:00) fires
 *   once, at the instant the wall clock would have shown it had it not jumped, i.e. shifted forward by the
 *   gap (02:30 → 03:30 local) — never skipped, never twice;
 * - a local time that occurs twice in a fall-back night fires once, at its first (summer-time) instant.
 */

const CRON_FIELD_COUNT = 5;
/** How far ahead the maths looks for an occurrence before it calls a cron "never firing". */
const SEARCH_HORIZON_YEARS = 8;

/**
 * The shape of an IANA zone name (`UTC`, `Europe/Berlin`, `Etc/GMT+5`, `America/Port-au-Prince`). The
 * runtime also accepts bare offsets such as `+05:00`, which have no DST rules: those are refused.
 */
const IANA_ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;

/** Is `zone` an IANA time zone name known to this runtime? @public */
export function isValidTimeZone(zone: string): boolean {
  if (
    typeof zone !== 'string' ||
    zone.length > 64 ||
    !IANA_ZONE_NAME.test(zone)
  ) {
    return false;
  }
  return IANAZone.isValidZone(zone);
}

/**
 * Extensions the parser accepts (or misreads) but the walker does not implement, refused by name so that
 * none is silently ignored: `W` (nearest weekday) and `H` (a random value, different on every parse).
 * `L` and `#` are implemented (see dayMatchesWall).
 */
function unsupportedCronExtension(fields: string[]): string | undefined {
  const tokens = fields.map(f => f.split(','));
  if (tokens.some(field => field.some(t => /^H/i.test(t)))) {
    return 'uses H (a random value), which is not supported: write the value';
  }
  if (/W/i.test(fields[2])) {
    return 'uses W (nearest weekday) in the day-of-month field, which is not supported';
  }
  return undefined;
}

/**
 * Checks a cron expression's syntax. Returns an error message, or undefined when valid.
 * Five fields (minute hour day-of-month month day-of-week) are accepted, with `L` (last day of the
 * month; `5L` the last Friday) and `d#n` (the n-th weekday d of the month, e.g. `1#2` the second Monday).
 * @public
 */
export function cronSyntaxError(expression: string): string | undefined {
  if (typeof expression !== 'string' || expression.trim().length === 0) {
    return 'must be a cron expression';
  }
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== CRON_FIELD_COUNT) {
    return `must have ${CRON_FIELD_COUNT} fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  }
  if (fields.some(f => f.startsWith('@'))) {
    return 'macros such as @daily are not supported, write the five fields';
  }
  const unsupported = unsupportedCronExtension(fields);
  if (unsupported) return unsupported;
  try {
    CronExpressionParser.parse(expression.trim(), { strict: false });
  } catch (e) {
    const message = (e as Error).message;
    if (/explicit day of month/i.test(message)) {
      return 'can never fire (no month has that day)';
    }
    return `is not a valid cron expression (${message})`;
  }
  return undefined;
}

/**
 * Wall-clock fields of a cron expression, as sets. Matching is done by us on luxon local times so that
 * the DST rules above hold whatever the parser library does around transitions.
 */
interface CronFields {
  minute: Set<number>;
  hour: Set<number>;
  dayOfMonth: Set<number>;
  month: Set<number>;
  dayOfWeek: Set<number>;
  /** `L` in day-of-month: the last day of the month. */
  lastDayOfMonth: boolean;
  /** `d#n` in day-of-week: only the n-th such weekday of the month (0 when absent). */
  nthDayOfWeek: number;
  /** `dL` in day-of-week: the last such weekday of the month. */
  lastDaysOfWeek: Set<number>;
  dayOfMonthWildcard: boolean;
  dayOfWeekWildcard: boolean;
}

const fieldCache = new Map<string, CronFields>();

function parseFields(expression: string): CronFields {
  const key = expression.trim();
  const cached = fieldCache.get(key);
  if (cached) {
    return cached;
  }
  const parsed = CronExpressionParser.parse(key);
  const f = parsed.fields;
  const raw = key.split(/\s+/);
  const sundayAsZero = (v: number) => (v === 7 ? 0 : v);
  const dayOfWeekValues = f.dayOfWeek.values as (number | string)[];
  const result: CronFields = {
    minute: new Set(f.minute.values as number[]),
    hour: new Set(f.hour.values as number[]),
    dayOfMonth: new Set(
      (f.dayOfMonth.values as (number | string)[]).filter(
        (v): v is number => typeof v === 'number',
      ),
    ),
    month: new Set(f.month.values as number[]),
    dayOfWeek: new Set(
      dayOfWeekValues
        .filter((v): v is number => typeof v === 'number')
        .map(sundayAsZero),
    ),
    lastDayOfMonth: (f.dayOfMonth.values as (number | string)[]).includes('L'),
    nthDayOfWeek: f.dayOfWeek.nthDay,
    // The parser keeps `5L` as the string '5L'.
    lastDaysOfWeek: new Set(
      dayOfWeekValues
        .filter((v): v is string => typeof v === 'string' && /^\dL$/.test(v))
        .map(v => sundayAsZero(Number(v[0]))),
    ),
    dayOfMonthWildcard: raw[2] === '*' || raw[2] === '?',
    dayOfWeekWildcard: raw[4] === '*' || raw[4] === '?',
  };
  if (fieldCache.size > 1000) {
    fieldCache.clear();
  }
  fieldCache.set(key, result);
  return result;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Zone offset transitions (DST and others) never move the clock by more than this. */
const MAX_SHIFT_MS = 3 * HOUR;

const zones = new Map<string, IANAZone>();
const offsetCache = new Map<string, Map<number, number>>();

/** UTC offset of `zone` at instant `ms`, in ms. Cached per 15-minute bucket (transitions fall on them). */
function offsetAt(zone: string, ms: number): number {
  let cache = offsetCache.get(zone);
  if (!cache) {
    cache = new Map();
    offsetCache.set(zone, cache);
  }
  const bucket = Math.floor(ms / (15 * MINUTE));
  let offset = cache.get(bucket);
  if (offset === undefined) {
    let iana = zones.get(zone);
    if (!iana) {
      iana = IANAZone.create(zone);
      zones.set(zone, iana);
    }
    offset = iana.offset(bucket * 15 * MINUTE) * MINUTE;
    if (cache.size > 50_000) cache.clear();
    cache.set(bucket, offset);
  }
  return offset;
}

/**
 * The instant of a wall-clock time (given as ms of the same fields in UTC) in `zone`, by the DST rules
 * above: the first pass of a repeated time; a time in a gap shifted forward by the gap.
 */
function instantOfWall(zone: string, wallMs: number): number {
  const guess = offsetAt(zone, wallMs);
  const before = offsetAt(zone, wallMs - guess - MAX_SHIFT_MS);
  const after = offsetAt(zone, wallMs - guess + MAX_SHIFT_MS);
  let best: number | undefined;
  for (const offset of [before, guess, after]) {
    const candidate = wallMs - offset;
    if (
      offsetAt(zone, candidate) === offset &&
      (best === undefined || candidate < best)
    ) {
      best = candidate;
    }
  }
  // No offset maps back: the time is in a spring-forward gap. Using the offset from before the
  // transition gives the instant the clock would have shown it had it not jumped (02:30 → 03:30).
  return best ?? wallMs - before;
}

const DAY_MS = 24 * HOUR;

function dayMatchesWall(fields: CronFields, wall: Date): boolean {
  const dayOfMonth = wall.getUTCDate();
  const weekday = wall.getUTCDay();
  const daysInMonth = new Date(
    Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth() + 1, 0),
  ).getUTCDate();
  const dom =
    fields.dayOfMonth.has(dayOfMonth) ||
    (fields.lastDayOfMonth && dayOfMonth === daysInMonth);
  const dow =
    (fields.dayOfWeek.has(weekday) &&
      (fields.nthDayOfWeek === 0 ||
        Math.ceil(dayOfMonth / 7) === fields.nthDayOfWeek)) ||
    (fields.lastDaysOfWeek.has(weekday) && dayOfMonth + 7 > daysInMonth);
  // Vixie cron: when both day fields are restricted, either may match.
  if (fields.dayOfMonthWildcard && fields.dayOfWeekWildcard) return true;
  if (fields.dayOfMonthWildcard) return dow;
  if (fields.dayOfWeekWildcard) return dom;
  return dom || dow;
}

/**
 * The first occurrence of a cron expression in `zone` strictly after `afterMs`, or null if none before
 * `untilMs`.
 * @public
 */
export function nextCronOccurrence(
  expression: string,
  zone: string,
  afterMs: number,
  untilMs: number = afterMs + SEARCH_HORIZON_YEARS * 366 * 86_400_000,
): number | null {
  let fields: CronFields;
  try {
    fields = parseFields(expression);
  } catch {
    return null; // invalid, or a date no month has (e.g. 30 February)
  }
  const afterOffset = offsetAt(zone, afterMs);
  // Wall clock walks forward from the minute after `afterMs`; right after a spring-forward transition,
  // from before it, since a gap time shifted forward may still lie after `afterMs`.
  const recentTransition =
    offsetAt(zone, afterMs - MAX_SHIFT_MS) !== afterOffset;
  let wall =
    Math.floor((afterMs + afterOffset) / MINUTE) * MINUTE +
    (recentTransition ? -MAX_SHIFT_MS : MINUTE);
  const lastWall = untilMs + 14 * HOUR + DAY_MS;
  while (wall <= lastWall) {
    const d = new Date(wall);
    const year = d.getUTCFullYear();
    const month = d.getUTCMonth();
    const day = d.getUTCDate();
    const hour = d.getUTCHours();
    if (!fields.month.has(month + 1)) {
      wall = Date.UTC(year, month + 1, 1);
      continue;
    }
    if (!dayMatchesWall(fields, d)) {
      wall = Date.UTC(year, month, day + 1);
      continue;
    }
    if (!fields.hour.has(hour)) {
      wall = Date.UTC(year, month, day, hour + 1);
      continue;
    }
    if (!fields.minute.has(d.getUTCMinutes())) {
      wall += MINUTE;
      continue;
    }
    const at = instantOfWall(zone, wall);
    if (at > afterMs) return at <= untilMs ? at : null;
    wall += MINUTE;
  }
  return null;
}

function parseInstant(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Date.parse(value);
}

/**
 * The first occurrence of a schedule at or after `fromMs` (respecting startAt/endAt), or null when the
 * schedule will not fire again.
 * @public
 */
export function firstOccurrenceAtOrAfter(
  schedule: TaskSchedule,
  fromMs: number,
): number | null {
  if (schedule.type === 'once') {
    const at = Date.parse(schedule.at);
    return at >= fromMs ? at : null;
  }
  const startAt = parseInstant(schedule.startAt);
  const endAt = parseInstant(schedule.endAt);
  const from = startAt !== undefined ? Math.max(fromMs, startAt) : fromMs;
  return nextCronOccurrence(
    schedule.expression,
    schedule.timezone,
    from - 1,
    endAt,
  );
}

/**
 * The occurrence that follows `previousMs` (strictly after it), or null when the schedule is finished.
 * @public
 */
export function occurrenceAfter(
  schedule: TaskSchedule,
  previousMs: number,
): number | null {
  if (schedule.type === 'once') {
    const at = Date.parse(schedule.at);
    return at > previousMs ? at : null;
  }
  return firstOccurrenceAtOrAfter(schedule, previousMs + 1);
}

/**
 * Up to `count` occurrences at or after `fromMs`, for previews.
 * @public
 */
export function upcomingOccurrences(
  schedule: TaskSchedule,
  fromMs: number,
  count: number,
): number[] {
  const result: number[] = [];
  let next = firstOccurrenceAtOrAfter(schedule, fromMs);
  while (next !== null && result.length < count) {
    result.push(next);
    next = occurrenceAfter(schedule, next);
  }
  return result;
}

/**
 * Human-readable description of a schedule, e.g. "At 09:00, Monday through Friday (Europe/Berlin)".
 * @public
 */
export function describeSchedule(schedule: TaskSchedule): string {
  if (schedule.type === 'once') {
    // In the zone it was entered in, when it has one: the time the lab planned, with its zone named.
    const zoned = schedule.timezone
      ? DateTime.fromISO(schedule.at, { zone: schedule.timezone })
      : undefined;
    if (zoned?.isValid) {
      return `Once, at ${zoned.toFormat('yyyy-LL-dd HH:mm')} (${
        schedule.timezone
      })`;
    }
    const at = DateTime.fromISO(schedule.at, { zone: 'utc' });
    return at.isValid
      ? `Once, at ${at.toFormat("yyyy-LL-dd HH:mm:ss 'UTC'")}`
      : 'Once';
  }
  let text: string;
  try {
    text = cronstrue.toString(schedule.expression, {
      use24HourTimeFormat: true,
      verbose: false,
    });
  } catch {
    text = schedule.expression;
  }
  return `${text} (${schedule.timezone})`;
}
