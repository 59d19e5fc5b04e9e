// Runs before each test file (vitest.config.ts, setupFiles): whatever a test file made
// with tmp() is removed once it is done, so `npm test` leaves no folders behind.

import { afterAll } from 'vitest';
import { removeTmp } from './helpers/cli.js';

afterAll(removeTmp);
