#!/usr/bin/env node
// The compiled reconcile command lives in dist/ (built by `npm ci` through the prepare script).
import('../dist/reconcile-cli.js').then((m) => m.main(process.argv.slice(2))).then((code) => process.exit(code)).catch((err) => {
  process.stderr.write(`ironic-proxy-reconcile: ${err && err.message ? err.message : err}\n`);
  process.exit(2);
});
