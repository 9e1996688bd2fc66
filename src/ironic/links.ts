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
