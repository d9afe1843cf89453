/** The default deepest nesting of a JSON request body (objects and arrays). */
export const DEFAULT_MAX_BODY_DEPTH = 64;

/**
 * How deep the objects and arrays of a JSON text nest, counting brackets outside strings in
 * one linear pass, stopping as soon as `limit` is passed (so a hostile body costs no more than
 * reading it). A `\` in a string escapes the next character.
 *
 * @returns the depth, or `limit + 1` as soon as the text nests deeper than `limit`.
 */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return limit + 1;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}
