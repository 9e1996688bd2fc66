/**
 * The simulator's shared collection routes (src/sim/kit.ts routeCollection):
 * which handler a method and path reach, and the order of the checks that
 * clients see in the error (the `_lookup` before anything below an item,
 * `/detail` only where the controller has it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { RoutingError } from '../../src/sim/errors.js';
import { routeCollection, type CollectionRoutes, type Ctx } from '../../src/sim/kit.js';

const ctx = (method: string): Ctx => ({ method, minor: 1, base: 'http://x', query: new Map(), rawBody: '', headers: {}, render: {} as Ctx['render'] });

/** Routes that answer with the name of the handler reached (and its arguments) in the body. */
function recorder(extra: Partial<CollectionRoutes> = {}): CollectionRoutes {
  const said = (what: string) => ({ status: 200, body: what });
  return {
    list: (detailPath) => said(`list ${detailPath}`),
    create: () => said('create'),
    show: (ident) => said(`show ${ident}`),
    update: (ident) => said(`update ${ident}`),
    remove: (ident) => said(`remove ${ident}`),
    ...extra,
  };
}

function reached(method: string, rest: string[], routes: CollectionRoutes): string {
  try {
    return routeCollection(ctx(method), rest, routes).body!;
  } catch (e) {
    if (e instanceof RoutingError) return `routing ${e.status}${e.description ? ` ${e.description}` : ''}`;
    throw e;
  }
}

describe('routeCollection', () => {
  it('sends each method on the collection and on an item to its handler; others are 405', () => {
    const r = recorder();
    assert.equal(reached('GET', [], r), 'list false');
    assert.equal(reached('POST', [], r), 'create');
    assert.equal(reached('PUT', [], r), 'routing 405');
    assert.equal(reached('DELETE', [], r), 'routing 405');
    assert.equal(reached('GET', ['a'], r), 'show a');
    assert.equal(reached('PATCH', ['a'], r), 'update a');
    assert.equal(reached('DELETE', ['a'], r), 'remove a');
    assert.equal(reached('POST', ['a'], r), 'routing 405');
    assert.equal(reached('PUT', ['a'], r), 'routing 405');
  });

  it('`detail` is a listing only where the controller has one, and only for GET', () => {
    assert.equal(reached('GET', ['detail'], recorder()), 'show detail');
    assert.equal(reached('GET', ['detail'], recorder({ detail: true })), 'list true');
    assert.equal(reached('PATCH', ['detail'], recorder({ detail: true })), 'update detail');
    assert.equal(reached('GET', ['detail', 'x'], recorder({ detail: true })), 'routing 404');
  });

  it('below an item: 404 without sub-controllers, else the rest after the ident', () => {
    assert.equal(reached('GET', ['a', 'ports'], recorder()), 'routing 404');
    const r = recorder({ below: (ident, rest) => ({ status: 200, body: `below ${ident} ${rest.join('/')}` }) });
    assert.equal(reached('GET', ['a', 'ports', 'detail'], r), 'below a ports/detail');
    assert.equal(reached('GET', ['a'], r), 'show a');
  });

  it('the lookup check runs before the item and before any route below it, not for the collection', () => {
    const r = recorder({
      lookup: (ident) => {
        if (ident === 'bad') throw new RoutingError(400, `bad ident ${ident}`);
      },
      below: () => ({ status: 200, body: 'below' }),
    });
    assert.equal(reached('GET', ['bad'], r), 'routing 400 bad ident bad');
    assert.equal(reached('GET', ['bad', 'ports'], r), 'routing 400 bad ident bad');
    assert.equal(reached('DELETE', ['bad'], r), 'routing 400 bad ident bad');
    assert.equal(reached('GET', ['good', 'ports'], r), 'below');
    assert.equal(reached('GET', [], r), 'list false');
  });
});
