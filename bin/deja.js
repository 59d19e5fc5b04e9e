#!/usr/bin/env node
// Entry point: the compiled CLI (npm install / npm ci builds dist/ through "prepare").
import { main } from '../dist/cli/main.js';
main(process.argv);
