#!/usr/bin/env node
// The CLI runs the shared bundle (dist/index.cjs, built by `npm run build` and committed).
// The embedded database (PGlite) is PostgreSQL compiled to WebAssembly: V8's baseline compiler
// (Liftoff) alone, never TurboFan's optimised second copy of the 10 MB module, keeps about 100 MB
// off the CLI's peak memory. Set before anything compiles WebAssembly.
require('node:v8').setFlagsFromString('--liftoff-only');
require('../dist/index.cjs')
  .cliMain(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
