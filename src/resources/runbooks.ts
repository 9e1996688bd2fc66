/**
 * The runbooks API (1.92): global objects like deploy templates, with the
 * same replicated writes (docs/federation/global-objects.md). Below 1.92 —
 * always, over sites as old as Ironic 21.4 — the proxy answers as Ironic does
 * below the version: 404 for GET, 405 for anything else; `runbooks` is
 * advertised in `GET /v1` only from 1.92.
 */
import type { GlobalFamily } from '../federation/replicate.js';
import { globalObjectEngines } from './deploy-templates.js';
import type { ResourceModule } from './plugin.js';

export const RUNBOOKS: GlobalFamily = {
  noun: 'Runbook',
  collectionPath: '/v1/runbooks',
  collectionKey: 'runbooks',
  fields: ['name', 'steps', 'extra', 'owner', 'public', 'disable_ramdisk'],
  sinceMinor: 92,
};

export const runbooksModule: ResourceModule = {
  name: 'runbooks',
  engines: (services) => globalObjectEngines(services, RUNBOOKS, 'runbook', {}),
};
