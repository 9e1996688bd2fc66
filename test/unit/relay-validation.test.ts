/**
 * Issue 15.1: a site answer is relayed only when it is the document it
 * claims to be — a final status, a JSON content type on a success, JSON as
 * Python reads it, an object, and for a node the node asked about —
 * otherwise the client gets the site's 502, in Ironic's body, naming it.
 * Before, a body that began with `{` and ended with `}` was relayed as 200
 * whatever lay between (Python's False/None leaking into it, a repr).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GARBAGE_SHAPES } from '../../src/sim/index.js';
import { checkSiteAnswer } from '../../src/http/site-answer.js';
import { startFleet, getJson, type Fleet } from '../support/sim-fleet.js';

const faultstring = (body: { error_message: string }): string => JSON.parse(body.error_message).faultstring as string;

describe('relayed answers are validated', () => {
  let fleet: Fleet;
  let uuid: string;
  before(async () => {
    fleet = await startFleet([
      { name: 'a', nodes: 2 },
      { name: 'b', conductorGroups: ['gb'], nodes: 2 },
    ]);
    uuid = (await getJson(`${fleet.url}/v1/nodes/b-node-0`)).body.uuid as string;
    await getJson(`${fleet.url}/v1/nodes/${uuid}`); // the node's site is known: the next requests go straight to it
  });
  after(() => fleet.close());

  // nan is a document the proxy cannot pass on faithfully (issue 16.2): the site's 502 for that object too.
  for (const shape of GARBAGE_SHAPES.filter((s) => s !== 'text')) {
    test(`a node answered with garbage (${shape}) by its site is the site's 502, never a 200`, async () => {
      await fleet.site('b').setFault('garbage', { shape });
      try {
        const r = await getJson(`${fleet.url}/v1/nodes/${uuid}`);
        assert.equal(r.status, 502, `${shape}: ${JSON.stringify(r.body)}`);
        assert.match(faultstring(r.body), /^Site b sent an invalid response: /);
      } finally {
        await fleet.site('b').setFault('none');
      }
    });
  }

  test('JSON served as text/plain is not relayed as a success', async () => {
    await fleet.site('b').setFault('garbage', { shape: 'text' });
    try {
      const r = await getJson(`${fleet.url}/v1/nodes/${uuid}`);
      assert.equal(r.status, 502);
      assert.match(faultstring(r.body), /Site b sent an invalid response: content type text\/plain instead of JSON/);
    } finally {
      await fleet.site('b').setFault('none');
    }
  });

  test('a body cut short by a reset is the site failing, never relayed', async () => {
    await fleet.site('b').setFault('reset-mid-body', { count: 1 });
    const r = await getJson(`${fleet.url}/v1/nodes/${uuid}`);
    assert.ok([502, 503].includes(r.status), String(r.status));
    assert.match(faultstring(r.body), /Site b /);
  });

  test('the answer once the site is well again is relayed as it is', async () => {
    const r = await getJson(`${fleet.url}/v1/nodes/${uuid}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.uuid, uuid);
  });
});

describe('checkSiteAnswer', () => {
  const res = (status: number, body: string, type = 'application/json') => ({ status, headers: { 'content-type': type }, body: Buffer.from(body) });

  test('what an Ironic answer is: a final status, JSON, an object', () => {
    assert.equal(checkSiteAnswer(res(200, '{"uuid": "x"}')).ok, true);
    assert.equal(checkSiteAnswer(res(202, '')).ok, true, "Ironic's 202 is empty");
    assert.equal(checkSiteAnswer(res(204, '')).ok, true);
    assert.equal(checkSiteAnswer(res(404, '{"error_message": "{}"}')).ok, true);
    assert.equal(checkSiteAnswer(res(503, '<html>down</html>', 'text/html')).ok, true, 'an error that is not JSON stays an error (relayed inert)');
    assert.deepEqual(checkSiteAnswer(res(200, '')), { ok: false, problem: 'empty body with status 200' });
    assert.equal(checkSiteAnswer(res(600, '{}')).ok, false);
    assert.equal(checkSiteAnswer(res(200, '{"maintenance": False}')).ok, false);
    assert.equal(checkSiteAnswer(res(200, "{'uuid': 'x'}")).ok, false);
    assert.equal(checkSiteAnswer(res(404, '{"error_message": None}')).ok, false, 'a body claiming JSON must be JSON, whatever the status');
    assert.equal(checkSiteAnswer(res(200, '[1]')).ok, false);
    assert.equal(checkSiteAnswer(res(200, '"x"'), { anyValue: true }).ok, true, 'vendor passthru answers what the driver returns');
    assert.equal(checkSiteAnswer(res(200, '{"a": NaN}')).ok, false);
  });

  test('a byte-order mark is dropped, as Python reads it', () => {
    const r = checkSiteAnswer(res(200, '\ufeff{"a": 1}'));
    assert.ok(r.ok);
    assert.equal(r.body.toString(), '{"a": 1}');
  });

  test('a node answer must be the node asked about', () => {
    const U = '6c3ad5b4-0b11-4bf3-9d3d-2f2a6e1f0a01';
    const V = '0f4b7b5c-8b0b-4d0e-a3a4-6a3c1d2e9f02';
    const ident = (i: string, complete = true) => ({ identity: { ident: i, complete } });
    assert.equal(checkSiteAnswer(res(200, `{"uuid": "${U}", "name": "n1"}`), ident(U.toUpperCase())).ok, true);
    assert.equal(checkSiteAnswer(res(200, `{"uuid": "${V}"}`), ident(U)).ok, false);
    assert.equal(checkSiteAnswer(res(200, `{"uuid": "${U}"}`), ident(U)).ok, true, 'the very string asked with');
    assert.equal(checkSiteAnswer(res(200, `{"uuid": "${U.replace(/-/g, '')}"}`), ident(U)).ok, true, 'the same uuid without hyphens');
    assert.equal(checkSiteAnswer(res(200, '{"uuid": "n1"}'), ident('n1')).ok, false, 'asked by name: a uuid equal to it is not a name');
    assert.equal(checkSiteAnswer(res(200, '{}'), ident(U)).ok, false, 'a node without its uuid');
    assert.equal(checkSiteAnswer(res(200, '{"name": "n1"}'), ident(U, false)).ok, true, 'fields=name: the uuid may be absent');
    assert.equal(checkSiteAnswer(res(200, `{"uuid": "${U}", "name": "n2"}`), ident('n1')).ok, false);
    assert.equal(checkSiteAnswer(res(200, '{"nodes": [{"uuid": "x", "name": "n1"}], "name": "n1"}'), ident('n1')).ok, true);
    assert.equal(checkSiteAnswer(res(404, '{"error_message": "{}"}'), ident(U)).ok, true, 'only a success must be the object');
  });
});
