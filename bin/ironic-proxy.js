#!/usr/bin/env -S node --min-semi-space-size=16
// The interpreter line carries src/runtime-flags.ts's SERVER_NODE_FLAGS for a single process (workers get them from the primary).
// The compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
import('../dist/cli.js').then((m) => m.main(process.argv.slice(2))).catch((err) => {
  process.stderr.write(`ironic-proxy: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
