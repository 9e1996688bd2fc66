import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseOsloIni, IniSyntaxError } from '../../src/config/oslo-ini.js';
import { ConfigError, loadConfigFile, loadConfigText } from '../../src/config/load.js';
import type { ProxyConfig } from '../../src/config/types.js';

/** A configuration written the way the original proof of concept documented it. */
const FULL = `
# ironic-proxy configuration
[DEFAULT]
groups = _:loc1,GRP1:loc2,grp2:loc1
debug = true

[group:loc1]
auth_type = none
endpoint_override = http://10.0.0.1:6385

[group:loc2]
auth_type = http_basic
endpoint_override = https://10.0.0.2:6385/baremetal
username = admin
password = s3cr#t;x
timeout = 5
insecure = yes

[api]
auth_strategy = keystone
host_ip = 0.0.0.0
port = 8080
public_endpoint = https://bm.example.com/
max_limit = 500

[proxy]
site_timeout = 12.5

[keystone_authtoken]
www_authenticate_uri = http://keystone:5000
auth_url = http://keystone:5000/v3
username = ironic-proxy
password = pa#ss;word
user_domain_name = Default
project_name = service
project_domain_name = Default
token_cache_time = 120

[api]
project_admin_can_manage_own_nodes = false
`;

/** The smallest valid configuration, with `extra` appended (sections may repeat keys: later wins). */
function minimal(extra = ''): string {
  return `[DEFAULT]\ngroups = _:loc1\n\n[group:loc1]\nauth_type = none\nendpoint_override = http://127.0.0.1:6385\n${extra}`;
}

/** The ConfigError thrown by loading `text`. */
function problemsOf(text: string): { error: ConfigError; problems: string[] } {
  try {
    loadConfigText(text);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return { error: err, problems: err.problems };
  }
  assert.fail('configuration was accepted but should have been refused');
}

/** Asserts that exactly one problem mentions `where` and that it matches `pattern`. */
function assertProblem(text: string, where: string, pattern: RegExp): string {
  const { problems, error } = problemsOf(text);
  const hits = problems.filter((p) => p.includes(where));
  assert.equal(hits.length >= 1, true, `no problem names ${where}: ${JSON.stringify(problems)}`);
  assert.ok(hits.some((p) => pattern.test(p)), `no problem for ${where} matches ${pattern}: ${JSON.stringify(problems)}`);
  assert.ok(error.message.includes(where), 'the error message carries the problem');
  return hits.find((p) => pattern.test(p))!;
}

describe('loadConfigText: a full valid configuration', () => {
  const cfg: ProxyConfig = loadConfigText(FULL);

  test('groups map: `_` is the empty group, names are lower-cased', () => {
    assert.deepEqual([...cfg.groups], [
      ['', 'loc1'],
      ['grp1', 'loc2'],
      ['grp2', 'loc1'],
    ]);
  });

  test('sites in section order with ordinals and their conductor groups', () => {
    assert.deepEqual(
      cfg.sites.map((s) => [s.name, s.ordinal, s.conductorGroups]),
      [
        ['loc1', 0, ['', 'grp2']],
        ['loc2', 1, ['grp1']],
      ],
    );
  });

  test('per-site auth options', () => {
    const [loc1, loc2] = cfg.sites;
    assert.equal(loc1!.authType, 'none');
    assert.equal(loc1!.endpointOverride, 'http://10.0.0.1:6385');
    assert.equal(loc1!.insecure, false);
    assert.equal(loc1!.keystone, undefined);
    assert.equal(loc2!.authType, 'http_basic');
    assert.equal(loc2!.endpointOverride, 'https://10.0.0.2:6385/baremetal');
    assert.equal(loc2!.username, 'admin');
    assert.equal(loc2!.password, 's3cr#t;x', 'no inline comments: # and ; stay in the value');
    assert.equal(loc2!.insecure, true);
  });

  test('[proxy]site_timeout is the default, a per-site timeout wins', () => {
    assert.equal(cfg.sites[0]!.timeoutSeconds, 12.5);
    assert.equal(cfg.sites[1]!.timeoutSeconds, 5);
  });

  test('[api] options', () => {
    assert.equal(cfg.api.authStrategy, 'keystone');
    assert.equal(cfg.api.hostIp, '0.0.0.0');
    assert.equal(cfg.api.port, 8080);
    assert.equal(cfg.api.publicEndpoint, 'https://bm.example.com', 'trailing slash dropped');
    assert.equal(cfg.api.maxLimit, 500);
    assert.equal(cfg.debug, true);
  });

  test('[keystone_authtoken] belongs to another component: not reported as unknown', () => {
    assert.deepEqual(cfg.unknownOptions, []);
  });
});

describe('loadConfigText: defaults', () => {
  const cfg = loadConfigText(minimal());

  test('api defaults: 127.0.0.1:6385, max_limit 1000, noauth, one worker per core', () => {
    assert.equal(cfg.api.hostIp, '127.0.0.1');
    assert.equal(cfg.api.port, 6385);
    assert.equal(cfg.api.maxLimit, 1000);
    assert.equal(cfg.api.authStrategy, 'noauth');
    assert.equal(cfg.api.workers, availableParallelism());
    assert.equal(cfg.api.publicEndpoint, undefined);
    assert.equal(cfg.api.enableProxyHeadersParsing, false);
    assert.equal(cfg.api.tls, undefined);
  });

  test('proxy and site defaults', () => {
    assert.equal(cfg.proxy.strictListing, false);
    assert.equal(cfg.proxy.locationCacheSize, 100_000);
    assert.equal(cfg.sites[0]!.timeoutSeconds, 30);
    assert.equal(cfg.sites[0]!.insecure, false);
    assert.equal(cfg.debug, false);
  });

  test('auth_type defaults to none', () => {
    const c = loadConfigText('[DEFAULT]\ngroups = _:a\n[group:a]\nendpoint_override = http://a:1\n');
    assert.equal(c.sites[0]!.authType, 'none');
  });

  test('a site with no conductor group is still a site (ordinal kept)', () => {
    const c = loadConfigText(minimal('[group:spare]\nendpoint_override = http://b:1\n'));
    assert.deepEqual(
      c.sites.map((s) => [s.name, s.ordinal, s.conductorGroups]),
      [
        ['loc1', 0, ['']],
        ['spare', 1, []],
      ],
    );
  });

  test('unknown options and sections land in unknownOptions, not in an error', () => {
    const c = loadConfigText(minimal('colour = blue\n[api]\nfrobnicate = 1\n[mystery]\nx = 1\n'));
    assert.deepEqual(c.unknownOptions.sort(), ['[api]frobnicate', '[group:loc1]colour', '[mystery]'].sort());
  });
});

describe('loadConfigText: keystone password sites', () => {
  test('a complete password site', () => {
    const c = loadConfigText(
      minimal(
        [
          '[group:ks]',
          'auth_type = password',
          'auth_url = http://keystone:5000/v3',
          'username = ironic',
          'password = pw',
          'user_domain_name = Default',
          'project_name = service',
          'project_domain_id = default',
          'region_name = RegionTwo',
          'valid_interfaces = internalURL,public',
          '',
        ].join('\n'),
      ),
    );
    const ks = c.sites[1]!;
    assert.equal(ks.authType, 'password');
    assert.equal(ks.endpointOverride, undefined);
    assert.deepEqual(
      {
        authUrl: ks.keystone!.authUrl,
        username: ks.keystone!.username,
        password: ks.keystone!.password,
        userDomainName: ks.keystone!.userDomainName,
        projectName: ks.keystone!.projectName,
        projectDomainId: ks.keystone!.projectDomainId,
        regionName: ks.keystone!.regionName,
        interface: ks.keystone!.interface,
        serviceType: ks.keystone!.serviceType,
      },
      {
        authUrl: 'http://keystone:5000/v3',
        username: 'ironic',
        password: 'pw',
        userDomainName: 'Default',
        projectName: 'service',
        projectDomainId: 'default',
        regionName: 'RegionTwo',
        interface: 'internal',
        serviceType: 'baremetal',
      },
    );
  });
});

describe('oslo INI semantics', () => {
  test('no inline comments: # and ; are part of the value', () => {
    const doc = parseOsloIni('[s]\npassword = a#b;c\nurl = http://x/#frag ; not a comment\n');
    assert.equal(doc.get('s', 'password')?.value, 'a#b;c');
    assert.equal(doc.get('s', 'url')?.value, 'http://x/#frag ; not a comment');
  });

  test('`key: value` and whichever separator comes first', () => {
    const doc = parseOsloIni('[s]\na: 1\nb = x:y\nc: p=q\n');
    assert.equal(doc.get('s', 'a')?.value, '1');
    assert.equal(doc.get('s', 'b')?.value, 'x:y');
    assert.equal(doc.get('s', 'c')?.value, 'p=q');
  });

  test('indented lines continue the value, joined with a newline', () => {
    const doc = parseOsloIni('[s]\nkey = first\n    second\n\tthird\nnext = 2\n');
    assert.equal(doc.get('s', 'key')?.value, 'first\nsecond\nthird');
    assert.equal(doc.get('s', 'next')?.value, '2');
  });

  test('matching quotes are stripped, unmatched ones kept', () => {
    const doc = parseOsloIni(`[s]\na = "quoted # value"\nb = 'single'\nc = "open\nd = "x'\n`);
    assert.equal(doc.get('s', 'a')?.value, 'quoted # value');
    assert.equal(doc.get('s', 'b')?.value, 'single');
    assert.equal(doc.get('s', 'c')?.value, '"open');
    assert.equal(doc.get('s', 'd')?.value, `"x'`);
  });

  test('comment lines (# and ;, also indented) are ignored', () => {
    const doc = parseOsloIni('# top\n[s]\n; semi\n  # indented comment\na = 1\n#b = 2\n');
    assert.deepEqual(doc.keys('s'), ['a']);
  });

  test('a later key in the same section wins; sections in first-appearance order', () => {
    const doc = parseOsloIni('[b]\nk = 1\n[a]\nk = x\n[b]\nk = 2\n');
    assert.equal(doc.get('b', 'k')?.value, '2');
    assert.equal(doc.get('b', 'k')?.line, 6);
    assert.deepEqual(doc.sections, ['b', 'a']);
  });

  test('CRLF line endings', () => {
    const doc = parseOsloIni('[s]\r\na = 1\r\nb = 2\r\n');
    assert.equal(doc.get('s', 'a')?.value, '1');
    assert.equal(doc.get('s', 'b')?.value, '2');
  });

  test('through loadConfigText: a continued groups option and a password with # and ;', () => {
    const c = loadConfigText(
      '[DEFAULT]\ngroups = _:a,\n  g1:b\n[group:a]\nendpoint_override = http://a:1\n' +
        '[group:b]\nauth_type = http_basic\nendpoint_override: http://b:1\nusername = u\npassword = "p#1;2"\n',
    );
    assert.deepEqual([...c.groups], [
      ['', 'a'],
      ['g1', 'b'],
    ]);
    assert.equal(c.sites[1]!.password, 'p#1;2');
    assert.equal(c.sites[1]!.endpointOverride, 'http://b:1');
  });
});

describe('loadConfigText: syntax errors', () => {
  test('an option outside any section', () => {
    const { problems } = problemsOf('groups = _:a\n[group:a]\nendpoint_override = http://a:1\n');
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^line 1: option outside of any section/);
  });

  test('a continuation line with nothing to continue', () => {
    const { problems } = problemsOf('  stray = 1\n[DEFAULT]\ngroups = _:a\n');
    assert.match(problems[0]!, /^line 1: unexpected continuation line/);
    const after = problemsOf('[DEFAULT]\n\n   orphan\n');
    assert.match(after.problems[0]!, /^line 3: unexpected continuation line/);
  });

  test('a line without a separator and a bad section header', () => {
    assert.match(problemsOf('[DEFAULT]\njust words\n').problems[0]!, /^line 2: expected "key = value"/);
    assert.match(problemsOf('[DEFAULT\n').problems[0]!, /^line 1: invalid section header/);
  });

  test('IniSyntaxError carries the line number', () => {
    assert.throws(() => parseOsloIni('[s]\na = 1\n= 2\n'), (err: unknown) => err instanceof IniSyntaxError && err.line === 3);
  });
});

describe('loadConfigText: each bad configuration names the [section]key', () => {
  test('[DEFAULT]groups missing', () => {
    assertProblem('[group:a]\nendpoint_override = http://a:1\n', '[DEFAULT]groups', /is required/);
  });

  test('groups entry pointing at an unknown site', () => {
    const p = assertProblem(minimal().replace('_:loc1', '_:loc1,g:nowhere'), '[DEFAULT]groups', /site "nowhere"/);
    assert.match(p, /no \[group:nowhere\] section/);
  });

  test('groups entry whose [group:X] section is missing (site names are case-sensitive)', () => {
    const text = '[DEFAULT]\ngroups = _:loc1,g3:loc3\n[group:loc1]\nendpoint_override = http://a:1\n[group:LOC3]\nendpoint_override = http://b:1\n';
    assertProblem(text, '[DEFAULT]groups', /site "loc3" \(for group "g3"\) has no \[group:loc3\] section/);
  });

  test('groups entry without ":"', () => {
    assertProblem(minimal().replace('_:loc1', '_:loc1,justasite'), '[DEFAULT]groups', /entry "justasite" is not GROUP:SITE/);
    assertProblem(minimal().replace('_:loc1', '_:loc1,g:'), '[DEFAULT]groups', /entry "g:" is not GROUP:SITE/);
  });

  test('duplicate conductor group (also after lower-casing)', () => {
    assertProblem(minimal().replace('_:loc1', '_:loc1,_:loc1'), '[DEFAULT]groups', /"_" is mapped twice/);
    assertProblem(minimal().replace('_:loc1', '_:loc1,g:loc1,G:loc1'), '[DEFAULT]groups', /"G" is mapped twice/);
  });

  test('invalid conductor group name', () => {
    assertProblem(minimal().replace('_:loc1', '_:loc1,bad group:loc1'), '[DEFAULT]groups', /"bad group" is not a valid conductor group name/);
    assertProblem(minimal().replace('_:loc1', '_:loc1,a/b:loc1'), '[DEFAULT]groups', /"a\/b" is not a valid conductor group name/);
  });

  test('no site sections at all', () => {
    const { problems } = problemsOf('[DEFAULT]\ngroups = _:loc1\n');
    assert.ok(problems.some((p) => /no \[group:SITE\] section/.test(p)), JSON.stringify(problems));
  });

  test('endpoint_override that is not an http(s) URL', () => {
    const base = '[DEFAULT]\ngroups = _:loc1\n[group:loc1]\nauth_type = none\n';
    assertProblem(`${base}endpoint_override = foo\n`, '[group:loc1]endpoint_override', /"foo" is not a valid http\(s\) URL/);
    assertProblem(`${base}endpoint_override = ftp://x\n`, '[group:loc1]endpoint_override', /"ftp:\/\/x" is not a valid http\(s\) URL/);
    assertProblem(`${base}endpoint_override = http://x/?a=1\n`, '[group:loc1]endpoint_override', /not a valid http\(s\) URL/);
  });

  test('[api]public_endpoint that is not an http(s) URL', () => {
    assertProblem(minimal('[api]\npublic_endpoint = bm.example.com\n'), '[api]public_endpoint', /not a valid http\(s\) URL/);
  });

  test('endpoint_override missing for auth_type none and http_basic', () => {
    assertProblem(
      '[DEFAULT]\ngroups = _:loc1\n[group:loc1]\nauth_type = none\n',
      '[group:loc1]endpoint_override',
      /is required with auth_type = none/,
    );
    assertProblem(
      '[DEFAULT]\ngroups = _:loc1\n[group:loc1]\nauth_type = http_basic\nusername = u\npassword = p\n',
      '[group:loc1]endpoint_override',
      /is required with auth_type = http_basic/,
    );
  });

  test('http_basic without username or password', () => {
    const text = '[DEFAULT]\ngroups = _:loc1\n[group:loc1]\nauth_type = http_basic\nendpoint_override = http://a:1\n';
    assertProblem(text, '[group:loc1]username', /is required with auth_type = http_basic/);
    assertProblem(text, '[group:loc1]password', /is required with auth_type = http_basic/);
  });

  test('unknown auth_type', () => {
    assertProblem(minimal('auth_type = kerberos\n'), '[group:loc1]auth_type', /"kerberos" is not one of/);
  });

  test('auth_type = password without auth_url, username, password', () => {
    const text = minimal('[group:ks]\nauth_type = password\n');
    assertProblem(text, '[group:ks]auth_url', /is required with auth_type = password/);
    assertProblem(text, '[group:ks]username (or user_id)', /is required with auth_type = password/);
    assertProblem(text, '[group:ks]password', /is required with auth_type = password/);
  });

  test('auth_type = password with a bad auth_url', () => {
    const text = minimal('[group:ks]\nauth_type = password\nauth_url = keystone:5000\nuser_id = abc\npassword = p\n');
    assertProblem(text, '[group:ks]auth_url', /not a valid http\(s\) URL/);
  });

  test('username without a user domain', () => {
    const text = minimal('[group:ks]\nauth_type = password\nauth_url = http://k:5000/v3\nusername = u\npassword = p\n');
    assertProblem(text, '[group:ks]user_domain_id (or user_domain_name)', /is required with username/);
  });

  test('project_name without a project domain', () => {
    const text = minimal(
      '[group:ks]\nauth_type = password\nauth_url = http://k:5000/v3\nusername = u\npassword = p\nuser_domain_id = default\nproject_name = service\n',
    );
    assertProblem(text, '[group:ks]project_domain_id (or project_domain_name)', /is required with project_name/);
  });

  test('token auth without a token', () => {
    assertProblem(minimal('[group:ks]\nauth_type = token\nauth_url = http://k:5000/v3\n'), '[group:ks]token', /is required with auth_type = token/);
  });

  test('bad interface', () => {
    const text = minimal('[group:ks]\nauth_type = password\nauth_url = http://k:5000/v3\nuser_id = u\npassword = p\ninterface = sideways\n');
    assertProblem(text, '[group:ks]interface', /"sideways" is not one of public, internal, admin/);
  });

  test('bad integers', () => {
    assertProblem(minimal('[api]\nport = abc\n'), '[api]port', /"abc" is not an integer in \[0, 65535\]/);
    assertProblem(minimal('[api]\nport = 70000\n'), '[api]port', /is not an integer in \[0, 65535\]/);
    assertProblem(minimal('[api]\nmax_limit = 0\n'), '[api]max_limit', /"0" is not an integer/);
    assertProblem(minimal('[api]\nmax_limit = 1.5\n'), '[api]max_limit', /"1.5" is not an integer/);
    assertProblem(minimal('[proxy]\nlocation_cache_size = many\n'), '[proxy]location_cache_size', /not an integer/);
  });

  test('api_workers: a count, or auto (one per core); anything else is refused', () => {
    assert.equal(loadConfigText(minimal('[api]\napi_workers = 3\n')).api.workers, 3);
    assert.equal(loadConfigText(minimal('[api]\napi_workers = auto\n')).api.workers, availableParallelism());
    assert.equal(loadConfigText(minimal('[api]\napi_workers = AUTO\n')).api.workers, availableParallelism());
    for (const bad of ['0', '-1', '1.5', 'many', '']) {
      assertProblem(minimal(`[api]\napi_workers = ${bad}\n`), '[api]api_workers', new RegExp(`"${bad.replace('.', '\\.')}" is not a positive integer or auto`));
    }
  });

  test('bad numbers', () => {
    assertProblem(minimal('[proxy]\nsite_timeout = -1\n'), '[proxy]site_timeout', /"-1" is not a number >= 0.001/);
    assertProblem(minimal('timeout = soon\n'), '[group:loc1]timeout', /"soon" is not a number/);
  });

  test('bad booleans', () => {
    assertProblem(minimal('insecure = maybe\n'), '[group:loc1]insecure', /"maybe" is not a boolean/);
    assertProblem(minimal('[proxy]\nstrict_listing = 2\n'), '[proxy]strict_listing', /"2" is not a boolean/);
    assertProblem(minimal('[DEFAULT]\ndebug = sure\n'), '[DEFAULT]debug', /"sure" is not a boolean/);
  });

  test('bad auth_strategy', () => {
    assertProblem(minimal('[api]\nauth_strategy = ldap\n'), '[api]auth_strategy', /"ldap" is not one of keystone, noauth/);
  });

  test('enable_ssl_api without cert and key', () => {
    const text = minimal('[api]\nenable_ssl_api = true\n');
    assertProblem(text, '[ssl]cert_file', /is required with \[api\]enable_ssl_api = true/);
    assertProblem(text, '[ssl]key_file', /is required with \[api\]enable_ssl_api = true/);
  });

  test('several problems are all reported in one ConfigError', () => {
    const text = [
      '[DEFAULT]',
      'groups = _:loc1,x:ghost,nocolon,_:loc1',
      '[group:loc1]',
      'auth_type = http_basic',
      'endpoint_override = ftp://x',
      'timeout = zero',
      '[api]',
      'port = -5',
      '',
    ].join('\n');
    const { problems, error } = problemsOf(text);
    const expected = [
      /\[DEFAULT\]groups: site "ghost"/,
      /\[DEFAULT\]groups: entry "nocolon"/,
      /\[DEFAULT\]groups: conductor group "_" is mapped twice/,
      /\[group:loc1\]endpoint_override: "ftp:\/\/x"/,
      /\[group:loc1\]username is required/,
      /\[group:loc1\]password is required/,
      /\[group:loc1\]timeout: "zero"/,
      /\[api\]port: "-5"/,
    ];
    for (const re of expected) assert.ok(problems.some((p) => re.test(p)), `missing ${re}: ${JSON.stringify(problems)}`);
    assert.ok(problems.length >= expected.length);
    for (const p of problems) assert.ok(error.message.includes(p), 'every problem is in the message');
    assert.match(error.message, /^invalid configuration:\n {2}- /);
  });

  test('a single problem gives a one-line message', () => {
    const { error, problems } = problemsOf(minimal('insecure = perhaps\n'));
    assert.equal(problems.length, 1);
    assert.equal(error.message, `invalid configuration: ${problems[0]}`);
  });
});

describe('loadConfigText: Keystone for users', () => {
  test('[keystone_authtoken] gives the service credentials, the URI clients are sent to, and the cache time', () => {
    const cfg = loadConfigText(FULL);
    assert.equal(cfg.api.authStrategy, 'keystone');
    const k = cfg.keystoneAuthtoken!;
    assert.equal(k.credentials.authUrl, 'http://keystone:5000/v3');
    assert.equal(k.credentials.password, 'pa#ss;word');
    assert.equal(k.credentials.projectName, 'service');
    assert.equal(k.wwwAuthenticateUri, 'http://keystone:5000');
    assert.equal(k.tokenCacheTime, 120);
    // Ironic's own [api] option, read for the node create/delete policy.
    assert.equal(cfg.osloPolicy.projectAdminCanManageOwnNodes, false);
  });

  test('auth_strategy = keystone without [keystone_authtoken] is refused, naming it', () => {
    assertProblem(minimal('\n[api]\nauth_strategy = keystone\n'), '[keystone_authtoken]', /required with \[api\]auth_strategy = keystone/);
  });
});

describe('loadConfigText: Ironic policy ([oslo_policy], [DEFAULT]rbac_service_*)', () => {
  /** The options read from [oslo_policy] and [DEFAULT]rbac_service_*. */
  const policyOptions = (cfg: ProxyConfig): Partial<ProxyConfig['osloPolicy']> => {
    const { enforceScope, enforceNewDefaults, policyFile, policyDirs, rbacServiceRoleElevatedAccess, rbacServiceProjectName } = cfg.osloPolicy;
    return { enforceScope, enforceNewDefaults, policyFile, policyDirs, rbacServiceRoleElevatedAccess, rbacServiceProjectName };
  };

  test('defaults: oslo.policy 4.0 and Ironic 21.4 (policy.yaml, policy.d, no scope, old defaults OR-ed in, service project "service")', () => {
    const cfg = loadConfigText(minimal());
    assert.deepEqual(policyOptions(cfg), {
      enforceScope: false,
      enforceNewDefaults: false,
      policyFile: 'policy.yaml',
      policyDirs: ['policy.d'],
      rbacServiceRoleElevatedAccess: false,
      rbacServiceProjectName: 'service',
    });
  });

  test('every option read, none reported unknown', () => {
    const cfg = loadConfigText(
      minimal(
        '\n[DEFAULT]\nrbac_service_role_elevated_access = true\nrbac_service_project_name = services\n' +
          '\n[oslo_policy]\nenforce_scope = True\nenforce_new_defaults = yes\npolicy_file = /etc/ironic-proxy/policy.yaml\npolicy_dirs = policy.d, /etc/ironic-proxy/more.d\n',
      ),
    );
    assert.deepEqual(policyOptions(cfg), {
      enforceScope: true,
      enforceNewDefaults: true,
      policyFile: '/etc/ironic-proxy/policy.yaml',
      policyDirs: ['policy.d', '/etc/ironic-proxy/more.d'],
      rbacServiceRoleElevatedAccess: true,
      rbacServiceProjectName: 'services',
    });
    assert.deepEqual(cfg.unknownOptions, []);
  });

  test('policy_file and policy_dirs are also read from [DEFAULT] (their deprecated group); [oslo_policy] wins', () => {
    const old = loadConfigText(minimal('\n[DEFAULT]\npolicy_file = old.json\npolicy_dirs = old.d\n'));
    assert.equal(old.osloPolicy.policyFile, 'old.json');
    assert.deepEqual(old.osloPolicy.policyDirs, ['old.d']);
    const both = loadConfigText(minimal('\n[DEFAULT]\npolicy_file = old.json\n\n[oslo_policy]\npolicy_file = new.yaml\n'));
    assert.equal(both.osloPolicy.policyFile, 'new.yaml');
  });

  test('bad values name their [section]key', () => {
    assertProblem(minimal('\n[oslo_policy]\nenforce_scope = maybe\n'), '[oslo_policy]enforce_scope', /not a boolean/);
    assertProblem(minimal('\n[oslo_policy]\nenforce_new_defaults = 2\n'), '[oslo_policy]enforce_new_defaults', /not a boolean/);
    assertProblem(minimal('\n[oslo_policy]\npolicy_file = ""\n'), '[oslo_policy]policy_file', /empty/);
    assertProblem(minimal('\n[DEFAULT]\nrbac_service_role_elevated_access = sometimes\n'), '[DEFAULT]rbac_service_role_elevated_access', /not a boolean/);
  });

  test('loadConfigFile: a relative policy_file is looked up next to the configuration file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ironic-proxy-config-'));
    try {
      const file = join(dir, 'ironic-proxy.conf');
      writeFileSync(file, minimal());
      assert.equal(loadConfigFile(file).osloPolicy.configDir, dir);
      assert.equal(loadConfigText(minimal()).osloPolicy.configDir, undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
