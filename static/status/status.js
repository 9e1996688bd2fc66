// ironic-proxy status page: polls GET /status (Accept: application/json) and
// redraws in place. Every value from the proxy goes into the page as text
// (textContent), never as HTML. The token, when Keystone needs one, lives in
// sessionStorage and travels only in the X-Auth-Token header.
'use strict';
(function () {
  var POLL_MS = 5000;
  var TOKEN_KEY = 'ironic-proxy.status.token';
  var ORDER = { down: 0, errors: 1, slow: 2, unknown: 3, up: 4 };
  var STATE_COLORS = {
    active: '#2fbf71', available: '#4c9aff', manageable: '#8a7dff', enroll: '#6b7785', verifying: '#b0bac5',
    deploying: '#e0a526', 'wait call-back': '#e0a526', cleaning: '#d6b84a', 'clean wait': '#d6b84a', inspecting: '#56c8d8',
    'inspect wait': '#56c8d8', rescue: '#c678dd', rescuing: '#c678dd', deleting: '#ef7d31', servicing: '#d19a66',
    'deploy failed': '#e5484d', 'clean failed': '#e5484d', 'inspect failed': '#e5484d', 'rescue failed': '#e5484d',
    'service failed': '#e5484d', error: '#e5484d', adopting: '#98c379', 'adopt failed': '#e5484d', none: '#3d4650',
  };
  var POWER_COLORS = { 'power on': '#2fbf71', 'power off': '#6b7785', none: '#3d4650' };
  var last = null;
  var lastOkAt = 0;
  var timer = null;

  function $(id) { return document.getElementById(id); }
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (attrs[k] === null || attrs[k] === undefined) continue;
      if (k === 'text') el.textContent = attrs[k];
      else if (k === 'class') el.className = attrs[k];
      // CSSOM, not a style attribute: the page's CSP allows no inline styles.
      else if (k === 'style') for (var p in attrs.style) el.style.setProperty(p, attrs.style[p]);
      else el.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return el;
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
  function ago(iso) {
    if (!iso) return '—';
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min ago';
    return Math.floor(s / 86400) + ' d ago';
  }
  function ageSeconds(iso) { return iso ? (Date.now() - Date.parse(iso)) / 1000 : Infinity; }
  function duration(s) {
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }
  function ms(v) { return v === null || v === undefined ? '—' : v < 10 ? v.toFixed(1) : String(Math.round(v)); }
  function pct(v) { return v === null || v === undefined ? '—' : v === 0 ? '0 %' : (v * 100 < 0.1 ? '<0.1' : (v * 100).toFixed(1)) + ' %'; }
  function rate(v) { return v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v > 0 ? v.toFixed(2) : '0'; }
  function groupName(g) { return g === '' ? '(default)' : g; }
  function stateColor(s) { return STATE_COLORS[s] || '#8b96a3'; }

  // ---- token handling
  function token() { try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; } }
  function setToken(t) { try { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage off */ } }
  function showAuth(reason) {
    $('auth').hidden = false;
    $('auth-reason').textContent = reason;
    $('auth-token').focus();
  }
  $('auth-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var t = $('auth-token').value.trim();
    $('auth-token').value = '';
    if (!t) return;
    setToken(t);
    $('auth').hidden = true;
    poll();
  });
  $('auth-forget').addEventListener('click', function () { setToken(null); $('token-button').hidden = true; showAuth('Token forgotten. Enter a token with the admin role to see the status.'); });
  $('token-button').addEventListener('click', function () { showAuth('Replace or forget the token used for this page.'); });
  $('filter').addEventListener('input', function () { if (last) renderSites(last); });
  $('problems').addEventListener('change', function () { if (last) renderSites(last); });

  // ---- polling
  function poll() {
    if (timer) clearTimeout(timer);
    var headers = { Accept: 'application/json' };
    var t = token();
    if (t) headers['X-Auth-Token'] = t;
    fetch(location.pathname.replace(/\/+$/, ''), { headers: headers, cache: 'no-store', credentials: 'omit' })
      .then(function (res) {
        if (res.status === 401) {
          setToken(null);
          showAuth(t ? 'The token was refused (expired or revoked). Enter a new token with the admin role.' : 'This proxy validates users with Keystone: the status data needs a token with the admin role.');
          throw new Error('authentication needed');
        }
        if (res.status === 403) {
          showAuth('This token is valid but lacks the admin role (Ironic\'s admin_api rule). Enter an admin token.');
          throw new Error('the token lacks the admin role');
        }
        if (!res.ok) throw new Error('the proxy answered HTTP ' + res.status);
        return res.json();
      })
      .then(function (doc) {
        last = doc;
        lastOkAt = Date.now();
        // The proxy says how often ([status]refresh_interval).
        if (doc.collector && doc.collector.refresh_interval_seconds > 0) POLL_MS = doc.collector.refresh_interval_seconds * 1000;
        $('auth').hidden = true;
        $('token-button').hidden = !token();
        $('banner').hidden = true;
        render(doc);
      })
      .catch(function (err) {
        var b = $('banner');
        b.hidden = false;
        b.textContent = 'Could not refresh: ' + err.message + (lastOkAt ? ' — the data below is ' + Math.round((Date.now() - lastOkAt) / 1000) + ' s old.' : '.');
        $('live-dot').className = 'dot stale';
      })
      .then(function () { timer = setTimeout(poll, POLL_MS); });
  }
  setInterval(function () {
    if (!lastOkAt) return;
    var s = Math.round((Date.now() - lastOkAt) / 1000);
    $('live-text').textContent = 'updated ' + s + ' s ago · every ' + POLL_MS / 1000 + ' s';
    if (s * 1000 > POLL_MS * 3) $('live-dot').className = 'dot stale';
  }, 1000);

  // ---- rendering
  function render(doc) {
    renderFacts(doc);
    renderTiles(doc);
    renderSites(doc);
    renderStates(doc);
    renderDrift(doc);
    renderRoutes(doc);
    renderPartials(doc);
    $('live-dot').className = 'dot ok';
    $('live-text').textContent = 'updated 0 s ago · every ' + POLL_MS / 1000 + ' s';
    var c = doc.collector;
    $('footer').textContent = 'Generated ' + doc.generated_at + ' by pid ' + doc.proxy.pid + (doc.proxy.worker ? ' (worker ' + doc.proxy.worker + ' of ' + doc.proxy.workers + ': site health, breakers and tally are this worker\'s view; rates are all workers\')' : '') +
      '. Sites probed every ' + c.probe_interval_seconds + ' s while this page is open; the background work stops ' + duration(c.idle_timeout_seconds) + ' after the last view. Same data: curl -H "Accept: application/json" -H "X-Auth-Token: $TOKEN" ' + location.origin + location.pathname;
  }

  function renderFacts(doc) {
    var p = doc.proxy;
    var f = clear($('facts'));
    function fact(k, v, title) { var d = h('div', title ? { title: title } : null, h('dt', { text: k }), h('dd', { text: v })); f.appendChild(d); }
    fact('version', p.version, 'Node.js ' + p.nodejs);
    fact('API', p.versions ? p.versions.min + ' – ' + p.versions.max : 'unknown', 'Microversion range common to all sites');
    fact('uptime', duration(p.uptime_seconds), 'since ' + p.started_at);
    fact('workers', String(p.workers));
    fact('auth', p.auth_strategy);
    if (p.coordination !== 'none') fact('store', p.coordination, 'The store replicas share ([coordination]): reservations of unique names and shared locations');
    fact('req/s', rate(p.rates.request_rate), (p.rates.since_start ? 'since start, ' : 'over the last ') + p.rates.window_seconds + ' s');
    fact('5xx', pct(p.rates.error_rate));
  }

  function tile(label, value, sub, cls, id) {
    return h('div', { class: 'tile ' + (cls || ''), id: id || null }, h('div', { class: 'label', text: label }), h('div', { class: 'value', text: value }), h('div', { class: 'sub', text: sub }));
  }
  function renderTiles(doc) {
    var s = doc.summary;
    var t = clear($('tiles'));
    var downNames = doc.sites.filter(function (x) { return x.verdict === 'down'; }).map(function (x) { return x.name; });
    var slowNames = doc.sites.filter(function (x) { return x.verdict === 'slow'; }).map(function (x) { return x.name; });
    var parts = [];
    if (s.slow) parts.push(s.slow + ' slow');
    if (s.errors) parts.push(s.errors + ' failing');
    if (s.down) parts.push(s.down + ' down');
    if (s.unknown) parts.push(s.unknown + ' not heard from');
    t.appendChild(tile('Sites up', s.up + ' / ' + s.sites, parts.length ? parts.join(' · ') : 'every site answering normally', s.up === s.sites ? 'good' : s.down ? 'bad' : 'warn', 'tile-up'));
    t.appendChild(tile('Down', String(s.down), downNames.length ? downNames.join(', ') : 'none', s.down ? 'bad' : 'good', 'tile-down'));
    var behind = doc.sites.filter(function (x) { return x.out_of_date; }).map(function (x) { return x.name; });
    var failing = doc.sites.filter(function (x) { return x.verdict === 'errors'; }).map(function (x) { return x.name; });
    var notes = [];
    if (slowNames.length) notes.push('slow: ' + slowNames.join(', '));
    if (failing.length) notes.push('failing: ' + failing.join(', '));
    if (behind.length) notes.push('API behind: ' + behind.join(', '));
    t.appendChild(tile('Slow / failing', s.slow + ' / ' + s.errors, notes.length ? notes.join(' · ') : 'none', s.slow || s.errors ? 'warn' : 'good', 'tile-slow'));
    var counted = doc.nodes.sites.filter(function (x) { return !x.error || x.total > 0; });
    var lower = counted.some(function (x) { return x.truncated; });
    t.appendChild(tile('Nodes', (lower ? '≥' : '') + s.nodes.toLocaleString('en'), doc.nodes.sites.length ? counted.length + ' of ' + s.sites + ' sites counted' : 'first count running…', counted.length < s.sites && doc.nodes.sites.length ? 'warn' : '', 'tile-nodes'));
    t.appendChild(tile('Global objects', s.drifting_sites ? s.drifting_sites + ' drifting' : doc.drift.checked_at ? 'in sync' : '—', doc.drift.checked_at ? 'checked ' + ago(doc.drift.checked_at) : 'not checked yet', s.drifting_sites ? 'warn' : doc.drift.checked_at ? 'good' : '', 'tile-drift'));
    var pa = doc.proxy.rates.partial_answers;
    var left = Object.keys(pa.missing_by_site);
    t.appendChild(tile('Partial answers', String(pa.total), pa.total ? 'without ' + left.join(', ') : 'every listing complete', pa.total ? 'warn' : 'good', 'tile-partial'));
  }

  function bar(counts, colors, total) {
    var b = h('div', { class: 'bars' });
    var keys = Object.keys(counts).sort(function (a, c) { return counts[c] - counts[a]; });
    keys.forEach(function (k) {
      var w = total ? (counts[k] / total) * 100 : 0;
      b.appendChild(h('span', { style: { width: w.toFixed(2) + '%', background: colors[k] || stateColor(k) }, title: k + ': ' + counts[k] }));
    });
    b.title = keys.map(function (k) { return k + ' ' + counts[k]; }).join(' · ');
    return b;
  }

  function renderSites(doc) {
    var body = clear($('sites').tBodies[0]);
    var q = $('filter').value.trim().toLowerCase();
    var problems = $('problems').checked;
    var rows = doc.sites.slice().sort(function (a, b) { return ORDER[a.verdict] - ORDER[b.verdict] || (b.out_of_date - a.out_of_date) || a.name.localeCompare(b.name); });
    var shown = 0;
    var interval = doc.nodes.interval_seconds;
    rows.forEach(function (s) {
      if (q && (s.name + ' ' + s.conductor_groups.map(groupName).join(' ')).toLowerCase().indexOf(q) < 0) return;
      if (problems && s.verdict === 'up' && !s.out_of_date) return;
      shown++;
      var lat = s.latency_ms || {};
      var slowMs = doc.collector.slow_threshold_ms;
      var n = s.nodes;
      var tr = h('tr', { class: 'row-' + s.verdict, 'data-site': s.name, 'data-verdict': s.verdict, title: s.reasons.join('\n') || 'answering normally' },
        h('td', { class: 'site', text: s.name }),
        h('td', { class: 'state' }, h('span', { class: 'pill ' + s.verdict, text: s.verdict }), s.reasons.length ? h('div', { class: 'reason', text: s.reasons.join('; ') }) : null),
        h('td', null, h('span', { class: 'pill ' + s.circuit.state, text: s.circuit.state }), s.circuit.retry_in_seconds !== undefined ? h('span', { class: 'muted small', text: ' probe in ' + s.circuit.retry_in_seconds + ' s' }) : null),
        h('td', null, s.conductor_groups.map(function (g) { return h('span', { class: 'tag', text: groupName(g) }); }).reduce(function (f, e) { f.appendChild(e); return f; }, document.createDocumentFragment())),
        h('td', { class: 'mono' + (s.out_of_date ? ' hot' : ''), text: s.versions ? s.versions.min + '–' + s.versions.max : '—', title: s.out_of_date ? 'behind the newest site: holds the common range down' : '' }),
        h('td', { class: 'num' + (lat.p50 > slowMs ? ' hot' : ''), text: ms(lat.p50) }),
        h('td', { class: 'num' + (lat.p95 > slowMs ? ' hot' : ''), text: ms(lat.p95) }),
        h('td', { class: 'num', text: ms(lat.p99) }),
        h('td', { class: 'num', text: String(s.requests) }),
        h('td', { class: 'num' + (s.error_rate ? ' bad' : ''), text: pct(s.error_rate) }),
        s.last_error ? h('td', { class: 'err', title: s.last_error.at + ': ' + s.last_error.message }, h('span', { class: 'when', text: ago(s.last_error.at) }), s.last_error.message) : h('td', { class: 'muted', text: '—' }),
        h('td', { class: 'num', text: n ? (n.truncated ? '≥' : '') + n.total.toLocaleString('en') : '—', title: n && n.error ? n.error : '' }),
        h('td', { class: 'wide' }, n && n.total ? bar(n.provision_state, STATE_COLORS, n.total) : h('span', { class: 'muted small', text: n && n.error ? 'not counted: see its last error' : '—', title: n && n.error ? n.error : '' })),
        h('td', { class: 'small' }, n && n.total ? (n.power_state['power on'] || 0) + ' on · ' + (n.power_state['power off'] || 0) + ' off' : '—'),
        h('td', { class: 'num' + (n && n.maintenance ? ' hot' : ''), text: n ? String(n.maintenance) : '—' }),
        h('td', { class: 'num small' + (n && ageSeconds(n.at) > interval * 2 + 30 ? ' old' : ''), text: n ? ago(n.at) : doc.nodes.active ? 'running' : '—', title: n ? 'counted at ' + n.at + ' in ' + n.ms + ' ms' + (n.error ? '; last walk: ' + n.error : '') : '' }));
      body.appendChild(tr);
    });
    $('sites-count').textContent = shown === doc.sites.length ? doc.sites.length + ' sites' : shown + ' of ' + doc.sites.length + ' sites shown';
    $('sites-note').textContent = 'Latency and errors over the last ' + (doc.sites[0] ? doc.sites[0].window_seconds / 60 : 5) + ' minutes (requests the proxy sent). Slow: median of its last 5 answers over ' + doc.collector.slow_threshold_ms + ' ms. Node tally every ' + interval + ' s in the background, not per view.';
  }

  function renderStates(doc) {
    var states = {}, power = {}, maint = 0, total = 0;
    doc.nodes.sites.forEach(function (t) {
      total += t.total; maint += t.maintenance;
      Object.keys(t.provision_state).forEach(function (k) { states[k] = (states[k] || 0) + t.provision_state[k]; });
      Object.keys(t.power_state).forEach(function (k) { power[k] = (power[k] || 0) + t.power_state[k]; });
    });
    function chips(el, counts, colors) {
      clear(el);
      Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a]; }).forEach(function (k) {
        el.appendChild(h('span', { class: 'chip' }, h('span', { class: 'swatch', style: { background: colors[k] || stateColor(k) } }), k, h('b', { text: counts[k].toLocaleString('en') })));
      });
    }
    chips($('states'), states, STATE_COLORS);
    chips($('power'), power, POWER_COLORS);
    if (maint) $('power').appendChild(h('span', { class: 'chip' }, h('span', { class: 'swatch', style: { background: '#c678dd' } }), 'maintenance', h('b', { text: String(maint) })));
    // Site by state: the exact counts behind each site's bar.
    var cols = Object.keys(states).sort(function (a, b) { return states[b] - states[a]; });
    var head = clear($('node-matrix').tHead);
    var hr = h('tr', null, h('th', { text: 'Site' }));
    cols.forEach(function (c) { hr.appendChild(h('th', { class: 'num', text: c })); });
    hr.appendChild(h('th', { class: 'num', text: 'maint' }));
    hr.appendChild(h('th', { class: 'num', text: 'age' }));
    head.appendChild(hr);
    var mb = clear($('node-matrix').tBodies[0]);
    doc.nodes.sites.slice().sort(function (a, b) { return a.site.localeCompare(b.site); }).forEach(function (t) {
      var tr = h('tr', { 'data-tally-site': t.site }, h('td', { class: 'site', text: t.site, title: t.error || '' }));
      cols.forEach(function (c) {
        var n = t.provision_state[c] || 0;
        tr.appendChild(h('td', { class: 'num' + (n === 0 ? ' muted' : /fail|error/.test(c) ? ' bad' : ''), text: n ? (t.truncated ? '≥' : '') + n : '·' }));
      });
      tr.appendChild(h('td', { class: 'num' + (t.maintenance ? ' hot' : ' muted'), text: t.maintenance ? String(t.maintenance) : '·' }));
      tr.appendChild(h('td', { class: 'num small' + (t.error ? ' old' : ''), text: ago(t.at), title: t.error ? 'last walk: ' + t.error : 'counted in ' + t.ms + ' ms' }));
      mb.appendChild(tr);
    });
    var r = doc.nodes.round;
    $('nodes-note').textContent = total.toLocaleString('en') + ' nodes · ' + (r ? (r.finished_at ? 'last round finished ' + ago(r.finished_at) : 'round running since ' + ago(r.started_at)) : 'first round running');
  }

  function renderDrift(doc) {
    var d = doc.drift;
    var chips = clear($('drift-sites'));
    d.sites.forEach(function (s) {
      var cls = s.state === 'in sync' ? 'sync' : s.state === 'drifting' ? 'drift' : 'unchecked';
      chips.appendChild(h('span', { class: 'chip', 'data-drift-site': s.site, title: s.error || '' }, s.site, h('span', { class: 'pill ' + cls, text: s.state === 'drifting' ? s.objects.length + ' drifting' : s.state })));
    });
    var body = clear($('drift-objects').tBodies[0]);
    d.sites.forEach(function (s) {
      s.objects.forEach(function (o) {
        body.appendChild(h('tr', null, h('td', { class: 'site', text: s.site }), h('td', null, h('span', { class: 'muted', text: o.family + ' ' }), o.name || o.uuid), h('td', { text: o.problem })));
      });
    });
    $('drift-objects').hidden = body.rows.length === 0;
    $('drift-command').hidden = d.drifting_objects === 0;
    $('drift-command-text').textContent = d.command;
    $('drift-note').textContent = (d.families.length ? d.families.join(', ') : 'chassis, deploy templates, runbooks') + ' · ' + (d.checked_at ? 'checked ' + ago(d.checked_at) : 'not checked yet') + (d.interval_seconds ? ', every ' + duration(d.interval_seconds) : '');
  }

  function renderRoutes(doc) {
    var r = doc.proxy.rates;
    var body = clear($('routes').tBodies[0]);
    r.routes.slice(0, 12).forEach(function (x) {
      body.appendChild(h('tr', null, h('td', { class: 'mono', text: x.method }), h('td', { class: 'mono', text: x.route }), h('td', { class: 'num', text: rate(x.rate) }),
        h('td', { class: 'num' + (x.error_rate ? ' bad' : ''), text: pct(x.error_rate) }), h('td', { class: 'num', text: pct(x.client_error_rate) }), h('td', { class: 'num', text: x.requests.toLocaleString('en') })));
    });
    $('routes-note').textContent = (r.since_start ? 'since start (' + duration(r.window_seconds) + ')' : 'over the last ' + duration(r.window_seconds)) + (r.routes.length > 12 ? ' · top 12 of ' + r.routes.length : '');
  }

  function renderPartials(doc) {
    var pa = doc.proxy.rates.partial_answers;
    var chips = clear($('missing-sites'));
    var bySite = pa.missing_by_site;
    Object.keys(bySite).sort(function (a, b) { return bySite[b] - bySite[a]; }).forEach(function (k) {
      chips.appendChild(h('span', { class: 'chip' }, k, h('b', { text: String(bySite[k]) })));
    });
    var body = clear($('partials').tBodies[0]);
    doc.proxy.recent_partial_answers.slice(0, 8).forEach(function (p) {
      body.appendChild(h('tr', null, h('td', { class: 'small', text: ago(p.at) }), h('td', { class: 'mono', text: p.route }), h('td', { text: p.missing_sites.join(', ') })));
    });
    $('partials').hidden = body.rows.length === 0;
    $('partial-note').textContent = pa.total ? pa.total + ' since start, sites left out:' : 'none since start';
  }

  poll();
})();
