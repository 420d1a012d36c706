import { textFieldProblem } from './text';
import { jsonValueProblem } from './jsonValue';

describe('the text rule', () => {
  const line = { max: 200, visible: true };
  const multiline = { max: 4000, multiline: true };

  it.each([
    ['plain text', 'Daily blank check'],
    ['accents, CJK and emoji', 'Spectre d’absorbance 吸光度 🧪'],
    ['right-to-left script', 'מדידה יומית'],
    ['surrounding spaces, kept as sent', '  padded  '],
    ['a surrogate pair at the limit', '🧪'.repeat(200)],
    ['zero-width joiner inside visible text', 'a\u200Db'],
  ])('accepts %s', (_what, text) => {
    expect(textFieldProblem(text, line)).toBeUndefined();
  });

  it.each([
    ['NUL', 'a\u0000b', /control characters/],
    ['a line break', 'a\nb', /control characters/],
    ['a tab', 'a\tb', /control characters/],
    ['ESC', 'a\u001Bb', /control characters/],
    ['DEL', 'a\u007Fb', /control characters/],
    ['a C1 control', 'a\u0085b', /control characters/],
    ['a right-to-left override', 'abc\u202Etxt.exe', /text-direction/],
    ['a left-to-right embedding', '\u202Aabc', /text-direction/],
    ['a first-strong isolate', 'abc\u2068', /text-direction/],
    ['a pop directional isolate', 'abc\u2069', /text-direction/],
    ['U+FFFE', 'a\uFFFEb', /not valid text/],
    ['U+FFFF', 'a\uFFFF', /not valid text/],
    ['a lone high surrogate', 'a\uD83Eb', /not valid text/],
    ['a lone low surrogate', 'a\uDDEAb', /not valid text/],
    ['a reversed surrogate pair', '\uDDEA\uD83E', /not valid text/],
    ['nothing', '', /must not be empty$/],
    ['only spaces', '   ', /only spaces or invisible/],
    ['only a zero-width space', '\u200B', /only spaces or invisible/],
    ['only byte-order marks and spaces', '\uFEFF \uFEFF', /only spaces/],
    ['only a word joiner and soft hyphen', '\u2060\u00AD', /only spaces/],
    ['201 characters', 'x'.repeat(201), /at most 200 characters/],
  ])('refuses %s in a one-line field', (_what, text, message) => {
    expect(textFieldProblem(text, line)).toMatch(message);
  });

  it('allows tabs and line breaks, and nothing else of the kind, in multi-line text', () => {
    expect(textFieldProblem('line 1\r\n\tline 2', multiline)).toBeUndefined();
    expect(textFieldProblem('', multiline)).toBeUndefined();
    expect(textFieldProblem('a\u0000b', multiline)).toMatch(
      /only tabs and line breaks/,
    );
    expect(textFieldProblem('a\u000Bb', multiline)).toMatch(/control/);
  });
});

describe('the JSON rule', () => {
  const nested = (depth: number): unknown =>
    depth === 1 ? {} : { a: nested(depth - 1) };

  it('accepts nesting up to the limit and refuses one level more', () => {
    expect(jsonValueProblem(nested(4), 4)).toBeUndefined();
    expect(jsonValueProblem(nested(5), 4)).toEqual({
      path: [],
      message: 'must not nest objects or lists more than 4 levels deep',
    });
    expect(jsonValueProblem([[[[1]]]], 4)).toBeUndefined();
    expect(jsonValueProblem([[[[[1]]]]], 4)).toBeDefined();
  });

  it('walks nesting far deeper than the call stack without overflowing', () => {
    const deep = JSON.parse(`${'['.repeat(30_000)}${']'.repeat(30_000)}`);
    expect(jsonValueProblem(deep, 16)?.message).toMatch(/16 levels/);
  });

  it.each(['__proto__', 'constructor', 'prototype'])(
    'refuses %s as a key at any depth, naming where it is',
    key => {
      expect(jsonValueProblem(JSON.parse(`{"${key}":{"x":1}}`), 8)).toEqual({
        path: [key],
        message: 'is not allowed as a field name',
      });
      expect(
        jsonValueProblem(JSON.parse(`{"qc":[{"${key}":1}]}`), 8)?.path,
      ).toEqual(['qc', 0, key]);
    },
  );

  it('accepts scalars and ordinary keys', () => {
    expect(jsonValueProblem(null, 1)).toBeUndefined();
    expect(jsonValueProblem('text', 1)).toBeUndefined();
    expect(
      jsonValueProblem({ proto: 1, constructorName: 'x' }, 2),
    ).toBeUndefined();
  });
});
