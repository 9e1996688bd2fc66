/** Entry point for running from source (`npm run dev -- --config-file FILE`). */
import { main } from './cli.js';

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`ironic-proxy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
