/**
 * Ironic's URL builders beyond link objects: `link.build_url` and the `next`
 * link of collections (`collection.get_next`). Shared by the simulator; the
 * proxy may use them too.
 */

/**
 * `link.build_url`: `{base}/v1/{resource}/{args}`, or `{base}/{resource}/{args}`
 * for bookmarks; no slash before `args` when it starts with `?`. Also the
 * format of `Location` headers.
 */
export function buildUrl(base: string, resource: string, args: string, bookmark = false): string {
  const head = bookmark ? `${base}/${resource}` : `${base}/v1/${resource}`;
  return args.startsWith('?') ? head + args : `${head}/${args}`;
}

/**
 * `collection.get_next`: `{base}/v1/{url}?k1=v1&…&limit=L&marker=M`. Values are
 * not URL-encoded (Ironic does not encode them either); booleans must already be
 * rendered the Python way (see `pyBool`). Entries whose value is `undefined` are
 * skipped; a list (`fields`) is passed already comma-joined.
 */
export function ironicNextLink(
  base: string,
  url: string,
  params: ReadonlyArray<readonly [string, string | undefined]>,
  limit: number,
  marker: string,
): string {
  let q = '';
  for (const [k, v] of params) if (v !== undefined) q += `${k}=${v}&`;
  return buildUrl(base, url, `?${q}limit=${limit}&marker=${marker}`);
}

/** Python's `str(bool)`, as Ironic renders booleans in `next` links and messages. */
export function pyBool(v: boolean): string {
  return v ? 'True' : 'False';
}
