// How a README's TypeScript snippet lands in the adopter app (run.mjs, issue 15 "docs that compile").
//
// A snippet names its file on its first line, `// packages/…/File.tsx` (optionally `, <remark>`).
//
// - If the template's file does not exist or carries no `README:` marker, the snippet is the whole file.
// - Otherwise it adds to the file:
//   * its import declarations join the file's imports: names imported from a module the file already
//     imports (in the same way: named or default, type-only or not) are added to that declaration, names it
//     already has are skipped; any other import goes after the file's last import;
//   * a line `// <place>:` (at the start of the line, ending with a colon; `// inside <FlatRoutes>:`) starts
//     a part that goes where the file has the marker `// README: <place>` or `{/* README: <place> */}`
//     (without the colon); the template must have that marker;
//   * lines before the first such line go where the file has `// README: <the file's path>`.
//   Lines go above the marker, indented as it is; markers stay, so several snippets can add to one place.
//
// So a README can show what a reader types, where: the imports, then "inside <FlatRoutes>:" and the route.
// JSX parts carry no `;` (prettier would add one to a JSX expression statement: such README blocks are
// preceded by `<!-- prettier-ignore -->`).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const ts = createRequire(join(root, 'package.json'))('typescript');

/**
 * The fenced code blocks of a markdown file: language, body lines, the line of their first body line, and
 * the heading they are under (`Install — legacy frontend system`).
 */
export function codeBlocks(file) {
  const blocks = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const heading = lines[i].match(/^#+\s+(.*)$/);
    if (heading) section = heading[1].trim();
    const open = lines[i].match(/^```(\w*)\s*$/);
    if (!open) continue;
    const body = [];
    for (i++; i < lines.length && !lines[i].startsWith('```'); i++)
      body.push(lines[i]);
    blocks.push({ file, line: i - body.length, lang: open[1], body, section });
  }
  return blocks;
}

/** The import declarations of a module's text, with their positions and what they import. */
function importsOf(text) {
  const source = ts.createSourceFile(
    'snippet.tsx',
    text,
    ts.ScriptTarget.Latest,
    true,
    ts.ScriptKind.TSX,
  );
  return source.statements.filter(ts.isImportDeclaration).map(node => {
    const clause = node.importClause;
    const bindings = clause?.namedBindings;
    return {
      start: node.getStart(source),
      end: node.getEnd(),
      text: node.getText(source),
      module: node.moduleSpecifier.text,
      typeOnly: Boolean(clause?.isTypeOnly),
      defaultName: clause?.name?.text,
      namespace: bindings && ts.isNamespaceImport(bindings),
      named:
        bindings && ts.isNamedImports(bindings)
          ? bindings.elements.map(e => e.getText(source))
          : [],
    };
  });
}

function importText({ typeOnly, defaultName, named, module }) {
  const what = [defaultName, named.length ? `{ ${named.join(', ')} }` : '']
    .filter(Boolean)
    .join(', ');
  return `import ${typeOnly ? 'type ' : ''}${what} from '${module}';`;
}

/** The file's text with the snippet's import declarations merged into its imports. */
export function mergeImports(text, imports) {
  let result = text;
  for (const wanted of imports) {
    const existing = importsOf(result);
    const same = existing.find(
      e =>
        e.module === wanted.module &&
        e.typeOnly === wanted.typeOnly &&
        !e.namespace &&
        !wanted.namespace &&
        (e.named.length > 0 || e.defaultName) &&
        (!wanted.defaultName ||
          !e.defaultName ||
          e.defaultName === wanted.defaultName),
    );
    if (same) {
      const merged = {
        ...same,
        defaultName: same.defaultName ?? wanted.defaultName,
        named: [
          ...same.named,
          ...wanted.named.filter(n => !same.named.includes(n)),
        ],
      };
      result =
        result.slice(0, same.start) +
        importText(merged) +
        result.slice(same.end);
    } else if (!existing.some(e => e.text === wanted.text)) {
      const at = existing.length ? existing[existing.length - 1].end : 0;
      result = `${result.slice(0, at)}${at ? '\n' : ''}${wanted.text}${
        at ? '' : '\n'
      }${result.slice(at)}`;
    }
  }
  return result;
}

const PART = /^\/\/ (.+):\s*$/;

/** A snippet's body (without its first line): its imports, and its other lines by the place they go. */
export function splitSnippet(content) {
  const imports = importsOf(content);
  let rest = '';
  let at = 0;
  for (const i of imports) {
    rest += content.slice(at, i.start);
    at = i.end;
  }
  rest += content.slice(at);
  const parts = [{ place: undefined, lines: [] }];
  for (const line of rest.split('\n')) {
    const part = line.match(PART);
    if (part) parts.push({ place: part[1].trim(), lines: [] });
    else parts[parts.length - 1].lines.push(line);
  }
  for (const part of parts) {
    while (part.lines.length && !part.lines[0].trim()) part.lines.shift();
    while (part.lines.length && !part.lines[part.lines.length - 1].trim())
      part.lines.pop();
  }
  return {
    imports,
    parts: parts.filter(p => p.lines.length > 0),
  };
}

/** Whether a template file takes additions (carries a `README:` marker) rather than being replaced. */
export function hasMarkers(text) {
  return /^\s*(\/\/|\{\/\*) README: /m.test(text);
}

/**
 * The template file's text with the snippet added by the convention above; throws naming the place when
 * the template lacks its marker. `path` is the snippet's first-line path (the default place).
 */
export function addSnippet(text, path, content) {
  const { imports, parts } = splitSnippet(content);
  let lines = mergeImports(text, imports).split('\n');
  for (const { place = path, lines: added } of parts) {
    const index = lines.findIndex(l => {
      const t = l.trim();
      return t === `// README: ${place}` || t === `{/* README: ${place} */}`;
    });
    if (index < 0)
      throw new Error(
        `${path} has no marker "README: ${place}" for the snippet's lines`,
      );
    const indent = lines[index].match(/^\s*/)[0];
    lines = [
      ...lines.slice(0, index),
      ...added.map(l => (l ? `${indent}${l}` : l)),
      ...lines.slice(index),
    ];
  }
  return lines.join('\n');
}
