/**
 * `ironic-proxy-reconcile --config-file FILE [--repair] [--json]`
 *
 * Compares the global objects (chassis, deploy templates, runbooks) of every
 * site of the proxy's configuration and reports drift: objects missing at a
 * site, fields that differ. With --repair, brings the sites in line (see
 * reconcile.ts for the rule: presence wins, fields follow the majority).
 *
 * Exit status: 0 in line (or fully repaired), 1 drift left (check only, or a
 * repair that failed somewhere, or a site not checked), 2 usage or
 * configuration error, or no site answered.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from './config/load.js';
import { createLogger } from './log.js';
import { checkDrift, formatDrift, repairDrift } from './reconcile.js';
import { SiteRegistry } from './sites/registry.js';

const USAGE = `usage: ironic-proxy-reconcile --config-file FILE [--repair] [--json]

  --config-file FILE  the proxy's INI file (its [group:SITE] sections are the sites)
  --repair            create missing copies and apply the majority's fields
  --json              the report (and repair actions) as one JSON document
  --help              this text`;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const STD_IO: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

export async function main(argv: string[], io: CliIo = STD_IO): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: { 'config-file': { type: 'string' }, repair: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
      strict: true,
    }).values;
  } catch (err) {
    io.err(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  if (!args['config-file']) {
    io.err(`--config-file is required\n${USAGE}\n`);
    return 2;
  }
  let config;
  try {
    config = loadConfigFile(args['config-file']);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const registry = new SiteRegistry(config, createLogger({ level: 'silent' }));
  try {
    await registry.refreshAll();
    const version = registry.commonRange()?.max;
    if (!version) {
      io.err('no site answered version discovery\n');
      return 2;
    }
    const report = await checkDrift(registry.sites, { version });
    const repairs = args.repair ? await repairDrift(registry.sites, report, { version }) : undefined;
    if (args.json) {
      io.out(`${JSON.stringify({ ...report, repairs }, null, 2)}\n`);
    } else {
      io.out(`checked ${report.families.join(', ')} at ${report.sites.join(', ')}\n`);
      const lines = formatDrift(report);
      io.out(lines.length === 0 ? 'no drift\n' : `${lines.join('\n')}\n`);
      for (const r of repairs ?? []) io.out(`repair ${r.family} ${r.uuid} at ${r.site}: ${r.action} ${r.ok ? 'done' : 'FAILED'} (${r.detail})\n`);
    }
    if (report.unreachable.length > 0) return 1;
    if (!repairs) return report.drift.length > 0 ? 1 : 0;
    return repairs.every((r) => r.ok) ? 0 : 1;
  } finally {
    await registry.close();
  }
}
