// Repeated runs in one process reuse translations: a unit whose source was compiled before
// reuses that code, and a setting that changes a unit's code (an injected fault) changes
// its key, so that unit alone is made again.

import { beforeAll, describe, expect, it } from 'vitest';
import { buildGuestPrograms, isaPrograms, runElf } from '../helpers/run-elf.js';
import { tierSettings, type TierOptions } from '../../src/session/tier.js';
import { Jit } from '../../src/jit/jit.js';
import { TranslationCache } from '../../src/jit/translation-cache.js';

const elf = isaPrograms().find((p) => p.name === 'calls')!.elf;

function run(settings: TierOptions, cache: TranslationCache) {
  let jit: Jit | null = null;
  const r = runElf(elf, {
    setup: (m) => {
      jit = new Jit(m.hart, tierSettings(settings).jit!, cache);
      m.useJit(jit);
    },
  });
  return { r, s: jit!.finalStats(), faultSite: jit!.faultSite };
}

describe('translation cache', () => {
  beforeAll(() => buildGuestPrograms());

  it('a second run with the same settings makes no unit and reuses every one', () => {
    const cache = new TranslationCache();
    const settings: TierOptions = { tier: 'trace', blockThreshold: '1', traceThreshold: '1' };
    const first = run(settings, cache);
    const second = run(settings, cache);
    expect(first.s.translationsMade).toBeGreaterThan(0);
    expect(second.s.translationsMade).toBe(0);
    expect(second.s.translationsReused).toBe(first.s.translationsMade + first.s.translationsReused);
    expect(second.s.blocksCompiled).toBe(first.s.blocksCompiled);
    expect(second.r.icount).toBe(first.r.icount);
    expect(second.r.console).toBe(first.r.console);
    expect(second.r.exit).toEqual({ reason: 'poweroff', code: 0 });
  });

  it('units are shared across thresholds, whatever their ids', () => {
    const cache = new TranslationCache();
    const a = run({ tier: 'block', blockThreshold: '0' }, cache);
    const b = run({ tier: 'block', blockThreshold: '1' }, cache);
    expect(a.s.translationsMade).toBeGreaterThan(0);
    expect(b.s.translationsReused).toBeGreaterThan(0);
    expect(b.r.icount).toBe(a.r.icount);
  });

  it('a fault changes the faulted unit\'s source: that unit alone is made again', () => {
    const cache = new TranslationCache();
    run({ tier: 'block', blockThreshold: '0' }, cache);
    const faulty = run({ tier: 'block', blockThreshold: '0', jitFault: 'missing-icount' }, cache);
    expect(faulty.faultSite).not.toBeNull();
    expect(faulty.s.translationsMade).toBe(1);
  });
});
