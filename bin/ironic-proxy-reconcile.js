#!/usr/bin/env node
// The compiled reconcile command lives in dist/ (built by `npm ci` through the prepare script).
// exitCode, not exit(): a long report written to a pipe must be flushed before the process ends.
import('../dist/reconcile-cli.js').then((m) => m.main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
}).catch((err) => {
  process.stderr.write(`ironic-proxy-reconcile: ${err && err.message ? err.message : err}\n`);
  process.exitCode = 2;
});
