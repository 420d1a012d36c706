import { z } from 'zod';

/**
 * The rule for free-form JSON (measurement parameters, run results): bounded nesting, so that no later
 * JSON.stringify or recursive walk overflows the stack, and no prototype keys. JSON.parse makes
 * `__proto__` an own key, but copying it into a plain object (as zod's records do) drops it silently:
 * such a key is refused with a message rather than lost.
 */

const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** */
export interface JsonValueProblem {
  /** Path of the offending key, relative to the value checked. */
  path: (string | number)[];
  message: string;
}

/**
 * The first problem with a parsed JSON value, or undefined. Iterative: the input may be nested deeper
 * than the call stack allows.

 */
export function jsonValueProblem(
  value: unknown,
  maxDepth: number,
): JsonValueProblem | undefined {
  const pending: { value: unknown; path: (string | number)[] }[] = [
    { value, path: [] },
  ];
  while (pending.length > 0) {
    const { value: current, path } = pending.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (path.length >= maxDepth) {
      return {
        path: [],
        message: `must not nest objects or lists more than ${maxDepth} levels deep`,
      };
    }
    const isList = Array.isArray(current);
    for (const key of Object.keys(current)) {
      if (!isList && PROTOTYPE_KEYS.has(key)) {
        return {
          path: [...path, key],
          message: `is not allowed as a field name`,
        };
      }
      pending.push({
        value: (current as Record<string, unknown>)[key],
        path: [...path, isList ? Number(key) : key],
      });
    }
  }
  return undefined;
}

/**
 * Checks the raw value against the JSON rule before `schema` sees it (and before a record could drop a
 * prototype key).

 */
export function boundedJson<S extends z.ZodType>(schema: S, maxDepth: number) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      const problem = jsonValueProblem(value, maxDepth);
      if (problem) {
        ctx.addIssue({
          code: 'custom',
          message: problem.message,
          path: problem.path,
          input: value,
        });
      }
    })
    .pipe(schema);
}
