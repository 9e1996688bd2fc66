/** One API resource family: the collections it adds to `GET /v1`, and its routes. */
import type { FastifyInstance } from 'fastify';
import type { ProxyServices } from '../services.js';
import type { AdvertisedResource } from './root.js';

export interface ResourcePlugin {
  /** For the docs and logs, e.g. "ports". */
  name: string;
  /** Top-level collections listed in `GET /v1` (each at its microversion). */
  advertises: AdvertisedResource[];
  register(app: FastifyInstance, services: ProxyServices): void;
}
