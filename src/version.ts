// deja's version, from package.json (the one place it is written): `deja --version` and
// every recording's header give it. Read at start-up, before any run (DESIGN.md I3).
// The nearest package.json above this module: from src/, dist/ or the bundle in dist/cli/.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageJson(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'package.json');
}

export const DEJA_VERSION: string = (JSON.parse(readFileSync(packageJson(), 'utf8')) as { version: string }).version;
