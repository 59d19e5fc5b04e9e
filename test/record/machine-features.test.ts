// A recording replays on the machine it was made on: one made before the machine had the
// debug trigger module (its header has no debugTriggers) replays without it, as its guest
// found no triggers then; new recordings say they had it.

import { beforeAll, describe, expect, it } from 'vitest';
import { buildGuestPrograms, isaPrograms, runElf } from '../helpers/run-elf.js';
import { recordingHeader, replayConfig } from '../../src/record/manifest.js';
import type { Recording } from '../../src/record/reader.js';

const triggers = isaPrograms().find((p) => p.name === 'triggers')!.elf;

describe('machine features in recordings', () => {
  beforeAll(() => buildGuestPrograms());

  it('new recordings have the debug triggers; recordings without the field replay without them', () => {
    const header = recordingHeader({ ramBytes: 16 << 20, append: '', disks: [] }, {}, 0);
    expect(header.config.debugTriggers).toBe(true);
    const rec = (debugTriggers: boolean | undefined): Recording =>
      ({ path: 'x.deja', header: { ...header, images: [], config: { ...header.config, debugTriggers } }, embedded: new Map() }) as unknown as Recording;
    expect(replayConfig(rec(true)).debugTriggers).toBe(true);
    expect(replayConfig(rec(undefined)).debugTriggers).toBe(false);
  });

  it('without the triggers their CSRs are illegal, so the triggers program fails where it passes with them', () => {
    expect(runElf(triggers).exit).toEqual({ reason: 'poweroff', code: 0 });
    const without = runElf(triggers, { setup: (m) => (m.hart.hasTriggers = false) });
    expect(without.exit?.reason).not.toBe('poweroff');
  });
});
