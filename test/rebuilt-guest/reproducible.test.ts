// The recipe rebuilds the shipped images byte for byte: the build `npm run guest` made from
// this checkout's recipe (tools/guest/, cached under its hash) is what guest/ holds.

import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { builtGuestDir } from '../../src/cli/guest.js';
// @ts-expect-error: a plain JavaScript module (tools run before anything is built)
import { differences, recipeKey } from '../../tools/guest/shipped.mjs';
import { NEEDS_REBUILT_GUEST } from './helpers.js';

const build = join(dirname(builtGuestDir()), recipeKey());

describe.skipIf(!existsSync(join(build, 'SHA256SUMS')))(`the shipped guest images (${NEEDS_REBUILT_GUEST})`, () => {
  it('are what the recipe builds, byte for byte', () => {
    expect(differences(build)).toEqual([]);
  });
});
