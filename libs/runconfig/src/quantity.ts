const SUFFIXES: Record<string, number> = {
  '': 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const QUANTITY =
  /^([+]?[0-9]+(?:\.[0-9]*)?|[+]?\.[0-9]+)(?:[eE]([+-]?[0-9]+))?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

/**
 * Parses a Kubernetes resource quantity (`512Mi`, `1Gi`, `1.5G`, `100`) into bytes, rounded
 * up like Kubernetes does. Returns `undefined` when the text is not a quantity.
 *
 * @example
 * ```ts
 * parseQuantity('1Gi'); // 1073741824
 * ```
 */
export function parseQuantity(text: string): number | undefined {
  const m = QUANTITY.exec(text.trim());
  if (!m?.[1]) return undefined;
  const base = Number(m[1]) * 10 ** Number(m[2] ?? 0);
  const factor = SUFFIXES[m[3] ?? ''];
  if (factor === undefined || !Number.isFinite(base)) return undefined;
  return Math.ceil(base * factor);
}
