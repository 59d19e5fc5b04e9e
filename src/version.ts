// deja's version, from package.json (the one place it is written): `deja --version` and
// every recording's header give it. Read at start-up, before any run (DESIGN.md I3).

import { readFileSync } from 'node:fs';

export const DEJA_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
