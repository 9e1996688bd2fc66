/**
 * What Ironic answers when keystonemiddleware cannot validate a token
 * (Keystone unreachable, timing out, refusing the service credentials,
 * failing): auth_token raises webob's HTTPServiceUnavailable('The Keystone
 * service is temporarily unavailable.') before Ironic's own error middleware,
 * so the body is webob's, in the form the client's Accept header prefers
 * among HTML and JSON, plain text when it takes neither (or sends no Accept).
 * Nothing in it names Keystone's address; the detail goes to the log.
 */

const STATUS_LINE = '503 Service Unavailable';
const EXPLANATION = 'The server is currently unavailable. Please try again at a later time.';
const DETAIL = 'The Keystone service is temporarily unavailable.';

/** webob 1.8's three renderings of that exception, byte for byte. */
const BODIES = {
  'text/plain': {
    contentType: 'text/plain; charset=UTF-8',
    body: `${STATUS_LINE}\n\n${EXPLANATION}\n\n ${DETAIL}  `,
  },
  'text/html': {
    contentType: 'text/html; charset=UTF-8',
    body:
      `<html>\n <head>\n  <title>${STATUS_LINE}</title>\n </head>\n <body>\n  <h1>${STATUS_LINE}</h1>\n` +
      `  ${EXPLANATION}<br /><br />\n${DETAIL}\n\n\n </body>\n</html>`,
  },
  'application/json': {
    contentType: 'application/json',
    // Python's json.dumps separators; webob's HTML line breaks stay in the message.
    body: `{"message": ${JSON.stringify(`${EXPLANATION}<br /><br />\n${DETAIL}\n\n`)}, "code": "${STATUS_LINE}", "title": "Service Unavailable"}`,
  },
} as const;

export type UnavailableForm = keyof typeof BODIES;

/** The 503's content type and body for this Accept header. */
export function keystoneUnavailableBody(accept: string | undefined): { contentType: string; body: string } {
  return BODIES[preferredForm(accept)];
}

// RFC 7231 §5.3.2 grammar, as webob reads it.
const OWS = '[ \\t]*';
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
const PARAM = `${TOKEN}=(?:${TOKEN}|${QUOTED})`;
const MEDIA_RANGE = `(${TOKEN}/${TOKEN})((?:${OWS};${OWS}(?![qQ]=)${PARAM})*)`;
const QVALUE = '0(?:\\.[0-9]{0,3})?|1(?:\\.0{0,3})?';
const EXT = `${OWS};${OWS}${TOKEN}(?:=(?:${TOKEN}|${QUOTED}))?`;
const ELEMENT = `${MEDIA_RANGE}(?:${OWS};${OWS}[qQ]=(${QVALUE})(?:${EXT})*)?`;
const ELEMENT_NC = ELEMENT.replace(/\((?!\?)/g, '(?:');
const VALID = new RegExp(`^(?:|(?:,|${ELEMENT_NC})(?:${OWS},(?:${OWS}${ELEMENT_NC})?)*)$`);
const ELEMENTS = new RegExp(ELEMENT, 'g');
const PARAMS = new RegExp(`${OWS};${OWS}(${TOKEN})=(${TOKEN}|${QUOTED})`, 'g');

/** The offers in webob's order: equal preference goes to HTML. */
const OFFERS = ['text/html', 'application/json'] as const;

/**
 * webob's choice among HTML and JSON: each offer takes the quality of the
 * most specific range matching it (the first of equals; a range with
 * parameters matches no offer, which has none), quality 0 excludes, the
 * highest quality wins and HTML wins ties. An Accept header that breaks the
 * grammar accepts everything (HTML); an empty or absent one, nothing (text).
 */
export function preferredForm(accept: string | undefined): UnavailableForm {
  const value = accept ?? '';
  if (!VALID.test(value)) return 'text/html';
  const ranges = [...value.matchAll(ELEMENTS)].map((m) => ({
    range: m[1]!.toLowerCase(),
    hasParams: [...(m[2] ?? '').matchAll(PARAMS)].length > 0,
    q: m[3] === undefined ? 1 : Number(m[3]),
  }));
  let best: { form: UnavailableForm; q: number } | undefined;
  for (const offer of OFFERS) {
    const [type] = offer.split('/');
    let specificity = 0;
    let q = 0;
    for (const r of ranges) {
      let s: number;
      if (r.range === offer) {
        if (r.hasParams) continue;
        s = 3;
      } else if (r.range === `${type}/*`) s = 2;
      else if (r.range === '*/*') s = 1;
      else continue;
      if (s > specificity) {
        specificity = s;
        q = r.q;
      }
    }
    if (q > 0 && (!best || q > best.q)) best = { form: offer, q };
  }
  return best?.form ?? 'text/plain';
}
