/** Ironic's link objects (`link.make_link`): `self` under /v1, `bookmark` without it. */

export interface Link {
  href: string;
  rel: string;
  type?: string;
}

export function makeLink(rel: string, base: string, resource: string, args: string, bookmark = false): Link {
  const root = bookmark ? `${base}/${resource}` : `${base}/v1/${resource}`;
  return { href: args.startsWith('?') ? `${root}${args}` : `${root}/${args}`, rel };
}

/** The `[self, bookmark]` pair every resource object carries. */
export function selfAndBookmark(base: string, resource: string, args: string): Link[] {
  return [makeLink('self', base, resource, args), makeLink('bookmark', base, resource, args, true)];
}

/**
 * Ironic's volume document (volume.py `convert`): links to itself and to its
 * connectors and targets — under /v1/volume, or under the node as the path
 * names it (Ironic does not look the node up).
 */
export function volumeLinks(base: string, nodeIdent?: string): { links: Link[]; connectors: Link[]; targets: Link[] } {
  const resource = nodeIdent === undefined ? 'volume' : 'nodes';
  const args = nodeIdent === undefined ? '' : `${nodeIdent}/volume/`;
  return {
    links: selfAndBookmark(base, resource, args),
    connectors: selfAndBookmark(base, resource, `${args}connectors`),
    targets: selfAndBookmark(base, resource, `${args}targets`),
  };
}
