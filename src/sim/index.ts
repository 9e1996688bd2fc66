/**
 * Public API of the in-memory Ironic simulator.
 *
 *   const site = await startSimSite({ name: 'edge1', conductorGroups: ['', 'grp1'], nodes: 1000 });
 *   // … site.url is an Ironic 21.4-compatible endpoint …
 *   await site.setFault('refuse'); await site.setFault('none');
 *   await site.close();
 */
export { startSimSite, GARBAGE_SHAPES, type FaultOptions, type GarbageShape, type SimFault, type SimSite, type SimSiteOptions } from './server.js';
export { SimApi, type ApiReply, type ApiRequest, type SimApiConfig } from './api.js';
