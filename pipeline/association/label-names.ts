import type { TokenGroup } from './config.js';
import type { TokenDoc } from './features.js';
import { splitIdentifier, stem } from './tokens.js';

/**
 * the token groups whose words may name a class (label_name_prior): every word the API uses, so an endpoint seen in
 * traffic (no description) is named by its path and parameters. Name, description and tags alone scored 0.005–0.015
 * higher in cross-validation on whole definitions but left endpoints unchanged (pipeline/association/README.md)
 */
export const NAME_GROUPS: readonly TokenGroup[] = ['words'];

/** class names' words, stemmed as the features' are (`open_data` → open, data); bounded by the classes the model has */
const wordsOfClass = new Map<string, string[]>();

function classNameWords(cls: string): string[] {
  let words = wordsOfClass.get(cls);
  if (!words) {
    words = splitIdentifier(cls)
      .map(stem)
      .filter((w) => /[a-z]/.test(w));
    wordsOfClass.set(cls, words);
  }
  return words;
}

/** the classes whose name's words all appear among an API's words (of NAME_GROUPS) */
export function namedClasses(doc: TokenDoc, classes: Iterable<string>): string[] {
  const words = new Set(NAME_GROUPS.flatMap((g) => doc[g]));
  const out: string[] = [];
  for (const c of classes) {
    const parts = classNameWords(c);
    if (parts.length > 0 && parts.every((w) => words.has(w))) out.push(c);
  }
  return out;
}
