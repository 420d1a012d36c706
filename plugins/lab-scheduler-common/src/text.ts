import { z } from 'zod';

/**
 * The one rule for free text (names, descriptions, filters, errors, sample ids): what a person can read
 * and every store and queue on the way can carry. PostgreSQL refuses NUL in text; SQS refuses control
 * characters other than tab and line breaks, U+FFFE/U+FFFF and lone surrogates in a message body; bidi
 * overrides make a name display as something other than what is stored.
 */

// Tab, line feed and carriage return are the only control characters a multi-line text may hold.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
const LINE_BREAK_OR_TAB = /[\t\n\r]/;
const BIDI_OVERRIDE = /[\u202A-\u202E\u2066-\u2069]/;
const NONCHARACTER = /[\uFFFE\uFFFF]/;
const LONE_SURROGATE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Characters that render as nothing: a name made only of these (and spaces) looks empty.
const INVISIBLE = /[\s\u00AD\u180E\u200B-\u200F\u2060-\u2064\uFEFF]/gu;

/** Length in characters (code points), as a person counts them. */
const characters = (s: string) => [...s].length;

/** */
export interface TextFieldOptions {
  /** Largest length in characters. */
  max: number;
  /** Whether line breaks and tabs are allowed (descriptions, error messages). */
  multiline?: boolean;
  /** Whether the text must show something (not only spaces or invisible characters). */
  visible?: boolean;
}

/** The first problem with `text` as a text field, in plain words, or undefined when it is fine. */
export function textFieldProblem(
  text: string,
  options: TextFieldOptions,
): string | undefined {
  if (LONE_SURROGATE.test(text) || NONCHARACTER.test(text)) {
    return 'contains a character that is not valid text (U+FFFE, U+FFFF or half of a surrogate pair)';
  }
  if (
    CONTROL.test(text) ||
    (!options.multiline && LINE_BREAK_OR_TAB.test(text))
  ) {
    return options.multiline
      ? 'must not contain control characters (only tabs and line breaks are allowed)'
      : 'must not contain control characters such as line breaks, tabs or NUL';
  }
  if (BIDI_OVERRIDE.test(text)) {
    return 'must not contain text-direction override characters (U+202A–U+202E, U+2066–U+2069)';
  }
  if (options.visible && text.replace(INVISIBLE, '').length === 0) {
    return text.length === 0
      ? 'must not be empty'
      : 'must not be empty (it has only spaces or invisible characters)';
  }
  if (characters(text) > options.max) {
    return `must be at most ${options.max} characters`;
  }
  return undefined;
}

/** The text rule as a zod refinement, for string schemas with their own type message (query strings). */
export function textRule(options: TextFieldOptions) {
  return (text: string, ctx: z.RefinementCtx) => {
    const problem = textFieldProblem(text, options);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  };
}

/** A string schema applying the text rule, reused by every free-text field. */
export function textField(options: TextFieldOptions) {
  return z.string({ error: 'must be a string' }).superRefine(textRule(options));
}
