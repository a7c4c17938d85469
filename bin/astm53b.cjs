#!/usr/bin/env node
// The CLI runs the shared bundle (dist/index.cjs, built by `npm run build` and committed).
require('../dist/index.cjs')
  .cliMain(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
