import {
  type DocumentOptions,
  Parser,
  type ParseOptions,
  parseDocument,
  type SchemaOptions,
  type ToJSOptions,
} from 'yaml';

/** nesting deeper than this is refused before the document is composed; real configs and OpenAPI files stay far below */
export const MAX_YAML_DEPTH = 200;

type Options = ParseOptions &
  DocumentOptions &
  SchemaOptions &
  ToJSOptions & {
    /**
     * what a warning (an unresolved tag such as `!Ref` or `!!js/function`, whose value yaml would keep as a string)
     * does: `error` (default) refuses the document, as a meshward config or policy must not mean something else
     * than it says; `ignore` keeps yaml's reading (third-party documents such as OpenAPI files). Never printed.
     */
    warnings?: 'error' | 'ignore';
  };

/**
 * yaml's `parse()` with a nesting limit. The library composes nodes recursively, so a document nested a few thousand
 * levels deep (`[[[[…`, `{a: {a: …`, `- - - …`) overflows the stack; when the overflow lands in V8's regexp compiler
 * the process dies with a fatal out-of-memory error that no `catch` sees. The CST parser is iterative, so the depth is
 * measured on it first. Warnings refuse the document unless `warnings: 'ignore'`, instead of going to stderr as
 * process warnings. Throws a plain Error of one line (what, at which line and column); callers wrap it in their
 * catalogue code as for any parse error.
 */
export function parseYamlBounded(text: string, options: Options = {}, maxDepth = MAX_YAML_DEPTH): unknown {
  if (yamlDepth(text, maxDepth) > maxDepth) throw new Error(`nested deeper than ${maxDepth} levels`);
  const { warnings = 'error', ...yamlOptions } = options;
  const doc = parseDocument(text, yamlOptions);
  if (doc.errors.length > 0) throw oneLine(doc.errors[0]);
  if (warnings === 'error' && doc.warnings.length > 0) throw oneLine(doc.warnings[0]);
  return doc.toJS(yamlOptions);
}

/**
 * yaml's error as one line: its message says what and where (`… at line 2, column 1`), then quotes the lines around
 * it, which a one-line error (`meshward: MW_ERR_CONFIG_INVALID: …`) cannot carry
 */
function oneLine(err: Error): Error {
  return new Error(err.message.split('\n')[0].replace(/:$/, ''), { cause: err });
}

interface CstNode {
  value?: unknown;
  items?: { key?: unknown; value?: unknown }[];
}

/** the nesting depth of a YAML text's syntax tree, counted without recursion; stops counting past `stopAt` */
export function yamlDepth(text: string, stopAt = Number.POSITIVE_INFINITY): number {
  let max = 0;
  const stack: [unknown, number][] = [];
  for (const token of new Parser().parse(text)) stack.push([token, 0]);
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) max = depth;
    if (max > stopAt) return max;
    const n = node as CstNode;
    if (n.value !== null && typeof n.value === 'object') stack.push([n.value, depth + 1]);
    if (Array.isArray(n.items)) {
      for (const item of n.items) {
        if (item?.key) stack.push([item.key, depth + 1]);
        if (item?.value) stack.push([item.value, depth + 1]);
      }
    }
  }
  return max;
}
