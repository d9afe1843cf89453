import { describe, expect, it } from 'vitest';
import { isRiskyRegExp } from './direct-runs.js';

describe('isRiskyRegExp', () => {
  it('accepts the usual pull request ref regexes', () => {
    expect(isRiskyRegExp('refs/pull/(\\d+)/head')).toBe(false);
    expect(isRiskyRegExp('refs/merge-requests/(\\d+)/head')).toBe(false);
    expect(isRiskyRegExp('^refs/(?:pull|pr)/(\\d+)$')).toBe(false);
  });

  it('refuses quantified groups that hold a quantifier or an alternation', () => {
    expect(isRiskyRegExp('(a+)+$')).toBe(true);
    expect(isRiskyRegExp('(x*){2,}')).toBe(true);
    expect(isRiskyRegExp('(a|a)*')).toBe(true);
    expect(isRiskyRegExp('((ab)+)*')).toBe(true);
    expect(isRiskyRegExp('\\(a+\\)+')).toBe(false);
  });
});
