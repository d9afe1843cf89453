import type { Run } from '@agola-ts/types';

/** The states a run badge shows. */
export type BadgeState = 'unknown' | 'success' | 'failed' | 'inprogress' | 'error';

const COLORS: Record<BadgeState, string> = {
  unknown: '#9f9f9f',
  success: '#4c1',
  failed: '#e05d44',
  inprogress: '#007ec6',
  error: '#dfb317',
};

/**
 * The badge of a branch's last run, as Agola decides it: no run → unknown; success → success;
 * failed or stopped → failed; setup error → error; queued or running → inprogress; cancelled
 * → failed.
 */
export function badgeOfRun(run: Pick<Run, 'phase' | 'result'> | undefined): BadgeState {
  if (!run) return 'unknown';
  switch (run.result) {
    case 'success':
      return 'success';
    case 'failed':
    case 'stopped':
      return 'failed';
    case 'unknown':
      switch (run.phase) {
        case 'setuperror':
          return 'error';
        case 'queued':
        case 'running':
          return 'inprogress';
        case 'cancelled':
          return 'failed';
        default:
          return 'unknown';
      }
    default:
      return 'unknown';
  }
}

// approximate widths of DejaVu Sans 11px glyphs, enough for the fixed badge words
const textWidth = (s: string) => Math.round(s.length * 6.5 + 10);

/** A flat shields-style SVG badge "run | <state>" (fixed words only: nothing user-supplied). */
export function badgeSvg(state: BadgeState): string {
  const label = 'run';
  const lw = textWidth(label);
  const mw = textWidth(state);
  const w = lw + mw;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${label}: ${state}">`,
    `<title>${label}: ${state}</title>`,
    `<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`,
    `<clipPath id="r"><rect width="${w}" height="20" rx="3" fill="#fff"/></clipPath>`,
    `<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${mw}" height="20" fill="${COLORS[state]}"/><rect width="${w}" height="20" fill="url(#s)"/></g>`,
    `<g fill="#fff" text-anchor="middle" font-family="DejaVu Sans,Verdana,Geneva,sans-serif" font-size="11">`,
    `<text x="${lw / 2}" y="15" fill="#010101" fill-opacity=".3">${label}</text><text x="${lw / 2}" y="14">${label}</text>`,
    `<text x="${lw + mw / 2}" y="15" fill="#010101" fill-opacity=".3">${state}</text><text x="${lw + mw / 2}" y="14">${state}</text>`,
    `</g></svg>`,
  ].join('');
}
