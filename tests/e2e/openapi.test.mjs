// The OpenAPI 3.1 document (docs/openapi.json, served at /api/v1/openapi.json):
//  - the route table in server/http/routes.c and the document list the same (method, path) pairs,
//    and a route is public in one exactly when it is in the other (`security: []`); a failure
//    names each route missing on either side;
//  - @seriousme/openapi-schema-validator (a validator made for OpenAPI 3.0/3.1) finds it valid;
//  - the daemon serves the file's bytes unchanged;
//  - real answers of the real daemon (a process our test starts: scans, stored snapshots, diff,
//    address lookups, shares, an import, a watch with samples and growth, an imported timeline,
//    errors) each validate, with ajv (JSON Schema 2020-12, which OpenAPI 3.1 uses), against the
//    schema the document gives for that route and status.
// No browser: needs node_modules from `npm install` in tests/e2e (install-deps.sh --e2e).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { env, startDaemon, startTestee } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const source = process.env.VMSCOPE_SOURCE_DIR || resolve(here, '../..');
const docPath = join(source, 'docs/openapi.json');
const routesPath = join(source, 'server/http/routes.c');

const needed = ['@seriousme/openapi-schema-validator', 'ajv', 'ajv-formats'];
const missing = needed.filter((m) => !existsSync(join(here, 'node_modules', m)));
if (!existsSync(env.bin)) missing.push(`the vmscope binary (${env.bin})`);
if (missing.length && process.env.VMSCOPE_E2E_OPTIONAL) {
  console.log(`SKIP openapi: missing ${missing.join(', ')} (cd tests/e2e && npm install)`);
  process.exit(77);
}

// (method, path) pairs of routes.c: {"GET", V1 "/snapshots/{}.csv", FLAGS, handler}
function tableRoutes() {
  const text = readFileSync(routesPath, 'utf8');
  const re = /\{\s*"([A-Z]+)"\s*,\s*(V1\s*)?"([^"]*)"\s*,\s*([^,]+?)\s*,\s*\w+\s*\}/g;
  const out = [];
  for (const m of text.matchAll(re)) {
    out.push({ method: m[1], path: (m[2] ? '/api/v1' : '') + m[3], public: /VMS_ROUTE_PUBLIC/.test(m[4]) });
  }
  return out;
}

// The document's operations with "{name}" written "{}" as routes.c does.
function documentRoutes(doc) {
  const out = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch', 'head', 'options']) {
      if (!item[method]) continue;
      const sec = item[method].security ?? doc.security;
      out.push({ method: method.toUpperCase(), path: p.replace(/\{[^}]+\}/g, '{}'), public: Array.isArray(sec) && sec.length === 0 });
    }
  }
  return out;
}

describe('OpenAPI document', { timeout: 180000 }, () => {
  let doc;
  let daemon;
  let testee;
  let ajv;
  const validated = [];

  before(async () => {
    assert.deepEqual(missing, [], `missing prerequisites: ${missing.join(', ')}`);
    doc = JSON.parse(readFileSync(docPath, 'utf8'));
    const { default: Ajv2020 } = await import('ajv/dist/2020.js');
    const { default: addFormats } = await import('ajv-formats');
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(doc, 'openapi.json');
    daemon = await startDaemon();
    testee = await startTestee();
  });

  after(async () => {
    if (testee) await testee.stop();
    if (daemon) await daemon.stop();
  });

  it('lists the same routes as server/http/routes.c', () => {
    const key = (r) => `${r.method} ${r.path}`;
    const table = tableRoutes();
    const documented = documentRoutes(doc);
    assert.ok(table.length >= 30, `read only ${table.length} routes from routes.c: has its format changed?`);
    const inDoc = new Map(documented.map((r) => [key(r), r]));
    const inTable = new Map(table.map((r) => [key(r), r]));
    const problems = [];
    for (const r of table) {
      if (!inDoc.has(key(r))) problems.push(`route ${key(r)} of server/http/routes.c is missing from docs/openapi.json (add a path entry for it)`);
      else if (inDoc.get(key(r)).public !== r.public) problems.push(`route ${key(r)}: public in ${r.public ? 'routes.c' : 'docs/openapi.json'} only (a public operation has "security": [])`);
    }
    for (const r of documented) {
      if (!inTable.has(key(r))) problems.push(`docs/openapi.json documents ${key(r)}, which server/http/routes.c does not have`);
    }
    assert.deepEqual(problems, []);
  });

  it('is valid OpenAPI 3.1 (@seriousme/openapi-schema-validator)', async () => {
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const v = new Validator();
    const res = await v.validate(structuredClone(doc));
    assert.equal(res.valid, true, JSON.stringify(res.errors, null, 1)?.slice(0, 3000));
    assert.equal(v.version, '3.1');
  });

  it('is served at /api/v1/openapi.json byte for byte', async () => {
    const res = await fetch(`${daemon.base}/api/v1/openapi.json`, { headers: { Authorization: `Bearer ${daemon.token}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    const served = Buffer.from(await res.arrayBuffer());
    assert.ok(served.equals(readFileSync(docPath)), 'the served document differs from docs/openapi.json');
  });

  // Call the daemon and validate the JSON answer against the document's schema for
  // (method, template, status). Returns the parsed body.
  async function call(method, template, path, status, { body, token = daemon.token, query = '' } = {}) {
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    // node:http with a fresh connection per request: fetch's pooled keep-alive connections race
    // the daemon's 500 ms keep-alive timeout, and a POST on a connection closing under it fails.
    const res = await new Promise((resolveP, reject) => {
      const data = body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body));
      if (data !== undefined) headers['Content-Length'] = Buffer.byteLength(data);
      const rq = http.request(`${daemon.base}${path}${query}`, { method, headers, agent: false }, (rs) => {
        const chunks = [];
        rs.on('data', (c) => chunks.push(c));
        rs.on('end', () => resolveP({ status: rs.statusCode, type: rs.headers['content-type'] || '', text: Buffer.concat(chunks).toString('utf8') }));
        rs.on('error', reject);
      });
      rq.on('error', (e) => reject(new Error(`${method} ${path}: ${e.message}`)));
      rq.end(data);
    });
    const { text } = res;
    assert.equal(res.status, status, `${method} ${path}${query}: ${res.status} ${text.slice(0, 300)}`);
    const op = doc.paths[template]?.[method.toLowerCase()];
    assert.ok(op, `the document has no ${method} ${template}`);
    let r = op.responses[String(status)];
    assert.ok(r, `the document gives no ${status} for ${method} ${template}`);
    let pointer = `#/paths/${template.replace(/~/g, '~0').replace(/\//g, '~1')}/${method.toLowerCase()}/responses/${status}`;
    if (r.$ref) { pointer = r.$ref; r = r.$ref.split('/').slice(1).reduce((o, k) => o[k], doc); }
    if (!text) {
      assert.ok(!r.content, `${method} ${template} ${status} has no body but the document gives one`);
      validated.push(`${method} ${template} ${status}`);
      return null;
    }
    const type = res.type.split(';')[0];
    const ctype = Object.keys(r.content || {}).find((k) => k.split(';')[0] === type);
    assert.ok(ctype, `${method} ${template} ${status}: content type ${type} is not in the document`);
    if (type !== 'application/json') {
      validated.push(`${method} ${template} ${status}`);
      return text;
    }
    const json = JSON.parse(text);
    const schemaPtr = `${pointer}/content/${ctype.replace(/~/g, '~0').replace(/\//g, '~1')}/schema`;
    const validate = ajv.getSchema(`openapi.json${schemaPtr}`) || ajv.compile({ $ref: `openapi.json${schemaPtr}` });
    const ok = validate(json);
    assert.ok(ok, `${method} ${path} ${status} does not match ${schemaPtr}: ${ajv.errorsText(validate.errors)}`);
    validated.push(`${method} ${template} ${status}`);
    return json;
  }

  it('describes the real answers of the daemon', async () => {
    const V = '/api/v1';
    const pid = testee.pid;
    await call('GET', `${V}/health`, `${V}/health`, 200);
    await call('GET', `${V}/version`, `${V}/version`, 200);
    await call('GET', `${V}/processes`, `${V}/processes`, 200, { query: `?q=${pid}` });
    await call('GET', `${V}/processes/{pid}`, `${V}/processes/${pid}`, 200);
    await call('GET', `${V}/system`, `${V}/system`, 200);
    await call('GET', `${V}/system`, `${V}/system`, 200, { query: '?users=0' });
    await call('GET', `${V}/system/files`, `${V}/system/files`, 200, { query: '?q=libc&per_file=2' });
    await call('GET', `${V}/system/files`, `${V}/system/files`, 400, { query: '?limit=x' });
    const a = await call('POST', `${V}/processes/{pid}/snapshots`, `${V}/processes/${pid}/snapshots`, 201, { body: {} });
    const b = await call('POST', `${V}/processes/{pid}/snapshots`, `${V}/processes/${pid}/snapshots`, 201, { body: { share: true, omit_cmdline: true } });
    await call('GET', `${V}/processes/{pid}/changes`, `${V}/processes/${pid}/changes`, 200);
    const snap = await call('GET', `${V}/snapshots/{id}`, `${V}/snapshots/${a.id}`, 200);
    await call('GET', `${V}/snapshots/{id}.json`, `${V}/snapshots/${a.id}.json`, 200);
    await call('GET', `${V}/snapshots/{id}.csv`, `${V}/snapshots/${a.id}.csv`, 200);
    await call('GET', `${V}/snapshots/{id}.txt`, `${V}/snapshots/${a.id}.txt`, 200);
    await call('GET', `${V}/snapshots/{id}/meta`, `${V}/snapshots/${a.id}/meta`, 200);
    await call('GET', `${V}/snapshots`, `${V}/snapshots`, 200);
    const addr = snap.allocations[0].start;
    await call('GET', `${V}/snapshots/{id}/at/{addr}`, `${V}/snapshots/${a.id}/at/${addr}`, 200);
    await call('GET', `${V}/processes/{pid}/at/{addr}`, `${V}/processes/${pid}/at/${addr}`, 200);
    await call('GET', `${V}/diff`, `${V}/diff`, 200, { query: `?from=${a.id}&to=${b.id}` });
    const share = await call('POST', `${V}/snapshots/{id}/share`, `${V}/snapshots/${a.id}/share`, 201, { body: {} });
    await call('GET', `${V}/snapshots/{id}/shares`, `${V}/snapshots/${a.id}/shares`, 200);
    await call('GET', `${V}/shared/{token}`, `${V}/shared/${share.token}`, 200, { token: null });
    await call('GET', `${V}/shared/{token}.json`, `${V}/shared/${b.share.token}.json`, 200, { token: null });
    await call('GET', `${V}/shared/{token}.csv`, `${V}/shared/${share.token}.csv`, 200, { token: null });
    await call('GET', `${V}/shared/{token}/at/{addr}`, `${V}/shared/${share.token}/at/${addr}`, 200, { token: null });
    await call('DELETE', `${V}/shares/{token}`, `${V}/shares/${share.token}`, 204);
    await call('GET', `${V}/shared/{token}`, `${V}/shared/${share.token}`, 404, { token: null });
    const imported = await call('POST', `${V}/snapshots`, `${V}/snapshots`, 201, { body: JSON.stringify(snap) });
    await call('POST', `${V}/export.csv`, `${V}/export.csv`, 200, { body: JSON.stringify(snap) });
    await call('DELETE', `${V}/snapshots/{id}`, `${V}/snapshots/${imported.id}`, 204);
    const w = await call('POST', `${V}/watches`, `${V}/watches`, 201, { body: { pid, interval_ms: 200, snapshot_every_s: 0 } });
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${daemon.base}${V}/watches/${w.id}`, { headers: { Authorization: `Bearer ${daemon.token}` } });
      if ((await res.json()).samples >= 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // a timeline file imported (`vmscope watch -o`): a watch in the state "imported" whose
    // thresholds for full snapshots are not known (null), in the list below too
    const dir = mkdtempSync(join(tmpdir(), 'vms-openapi-'));
    execFileSync(env.bin, ['watch', '-p', String(pid), '-i', '200ms', '-n', '3', '-o', join(dir, 't.timeline')], { stdio: 'ignore' });
    const imp = await call('POST', `${V}/watches/import`, `${V}/watches/import`, 201, { body: readFileSync(join(dir, 't.timeline'), 'utf8') });
    rmSync(dir, { recursive: true, force: true });
    const iw = await call('GET', `${V}/watches/{id}`, `${V}/watches/${imp.id}`, 200);
    assert.ok(iw.state === 'imported' && iw.snapshot_on_allocations === null && iw.snapshot_on_committed === null,
      `imported watch: ${iw.state}, ${iw.snapshot_on_allocations}, ${iw.snapshot_on_committed}`);
    await call('GET', `${V}/watches`, `${V}/watches`, 200);
    await call('GET', `${V}/watches/{id}`, `${V}/watches/${w.id}`, 200);
    await call('GET', `${V}/watches/{id}/samples`, `${V}/watches/${w.id}/samples`, 200);
    await call('GET', `${V}/watches/{id}/samples`, `${V}/watches/${w.id}/samples`, 200, { query: '?max_points=2' });
    await call('GET', `${V}/watches/{id}/growth`, `${V}/watches/${w.id}/growth`, 200);
    await call('DELETE', `${V}/watches/{id}`, `${V}/watches/${w.id}`, 200);
    await call('DELETE', `${V}/watches/{id}`, `${V}/watches/${w.id}`, 204, { query: '?purge=1' });
    await call('DELETE', `${V}/watches/{id}`, `${V}/watches/${imp.id}`, 204, { query: '?purge=1' });
    const metrics = await call('GET', '/metrics', '/metrics', 200);
    assert.match(metrics, /^vmscope_build_info\{version="/m);
    // errors, in the one error shape
    await call('GET', `${V}/snapshots/{id}`, `${V}/snapshots/999999`, 404);
    await call('GET', `${V}/snapshots/{id}`, `${V}/snapshots/abc`, 400);
    await call('GET', `${V}/health`, `${V}/health`, 401, { token: 'wrong' });
    await call('GET', '/metrics', '/metrics', 401, { token: null });
    await call('POST', `${V}/snapshots`, `${V}/snapshots`, 400, { body: '{"format_version":' });
    await call('GET', `${V}/processes/{pid}`, `${V}/processes/999999999`, 404);
    assert.ok(validated.length >= 40, `only ${validated.length} answers validated`);
    console.log(`validated ${validated.length} answers against the document`);
  });
});
