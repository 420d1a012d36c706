import { Config, readDurationFromConfig } from '@backstage/config';
import { durationToMilliseconds, HumanDuration } from '@backstage/types';

/** The unit of a deprecated number key, from its name: `leaseSeconds` was in seconds. */
const UNIT_SUFFIXES: [string, keyof HumanDuration][] = [
  ['Ms', 'milliseconds'],
  ['Seconds', 'seconds'],
  ['Minutes', 'minutes'],
  ['Days', 'days'],
];

function unitOf(deprecatedKey: string): keyof HumanDuration {
  const unit = UNIT_SUFFIXES.find(([suffix]) => deprecatedKey.endsWith(suffix));
  if (!unit) throw new Error(`No unit in the name of ${deprecatedKey}`);
  return unit[1];
}

/**
 * An optional duration setting in milliseconds, or undefined when it is not set. `key` is the full path
 * from the root config (so that errors name it) and holds a HumanDuration object (`{ seconds: 30 }`) or
 * a string (`30s`, `2 minutes`, `PT30S`), read with Backstage's `readDurationFromConfig`.
 *
 * `deprecatedKey` is the number key of earlier releases that the setting replaces (`…Ms`, `…Seconds`,
 * `…Minutes`, `…Days`): still read, in the unit its name gives, so that an existing app-config keeps
 * working. Setting both is refused rather than one silently winning: with a base file and an override
 * that use different forms, which value applies would otherwise be a surprise.
 */
export function readOptionalDurationMs(
  config: Config,
  key: string,
  options: { deprecatedKey?: string; positive?: boolean } = {},
): number | undefined {
  const { deprecatedKey, positive = false } = options;
  const hasKey = config.has(key);
  const hasDeprecated =
    deprecatedKey !== undefined && config.has(deprecatedKey);
  if (hasKey && hasDeprecated) {
    throw new Error(
      `Both ${key} and ${deprecatedKey} (deprecated) are set; keep only ${key}`,
    );
  }
  let ms: number;
  if (hasKey) {
    const value = config.getOptional(key);
    // readDurationFromConfig would answer "wanted object"; say what a duration looks like instead.
    if (typeof value === 'number') {
      throw new Error(
        `${key} must be a duration such as '30s' or { seconds: 30 }, not the bare number ${value}`,
      );
    }
    ms = durationToMilliseconds(readDurationFromConfig(config, { key }));
  } else if (hasDeprecated) {
    ms = durationToMilliseconds({
      [unitOf(deprecatedKey)]: config.getNumber(deprecatedKey),
    });
  } else {
    return undefined;
  }
  if (!Number.isFinite(ms) || ms < 0 || (positive && ms === 0)) {
    throw new Error(
      `${hasKey ? key : deprecatedKey} must be ${
        positive ? 'longer than zero' : 'zero or longer'
      }`,
    );
  }
  return ms;
}
