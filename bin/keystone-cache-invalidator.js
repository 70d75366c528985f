#!/usr/bin/env node
// The command-line entry point; the code is src/ bundled into one file (npm ci builds it via `prepare`).
import { runCommandLine } from '../dist/keystone-cache-invalidator.js';

runCommandLine(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(`keystone-cache-invalidator: ${error?.message ?? error}`);
    process.exitCode = 1;
  },
);
