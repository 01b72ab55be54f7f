// The console's side of the daemon: photographers' credentials, sessions
// (cookie flags, CSRF, expiry and revocation), the upload surface with
// presigned multipart URLs, and the static console with its security
// headers, against the real daemon and the local stack.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { REPO_ROOT, startStack, waitFor } from './lib/stack.mjs';
import { getJson, startDaemon } from './lib/daemon.mjs';
import { imageId, makePhotos } from './lib/photos.mjs';
import { validate } from './lib/openapi.mjs';
import { admin as adminCli } from './lib/admin_cli.mjs';

const TOKEN = 'console-admin-token-0123456789abcdef';
const spec = JSON.parse(readFileSync(path.join(REPO_ROOT, 'docs/openapi.json'), 'utf8'));

/** A raw GET (no URL normalisation: dot segments reach the daemon as sent). */
function rawGet(url, target) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: target, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('console API', () => {
  let stack, daemon, env, consoleDir, outside;
  const admin = (p, init = {}) => getJson(`${daemon.url}/admin/${p}`, {
    ...init, headers: { Authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) },
  });
  /** Signs in with a credential; returns { status, body, cookie, setCookie }. */
  const signIn = async (credential, headers = {}) => {
    const r = await fetch(`${daemon.url}/session`, {
      method: 'POST', body: JSON.stringify({ credential }), headers: { 'Content-Type': 'application/json', ...headers },
    });
    const setCookie = r.headers.get('set-cookie');
    const body = await r.json();
    return { status: r.status, body, headers: r.headers, setCookie, cookie: setCookie ? setCookie.split(';')[0] : null };
  };
  const withSession = (s, p, init = {}) => getJson(`${daemon.url}${p}`, {
    ...init,
    headers: { Cookie: s.cookie, ...(init.method && init.method !== 'GET' ? { 'X-CSRF-Token': s.body.csrf } : {}), ...(init.headers ?? {}) },
  });
  const newCredential = async (photographer, expiresInDays) => {
    const r = await admin('credentials', { method: 'POST', body: JSON.stringify({ photographer, ...(expiresInDays ? { expiresInDays } : {}) }) });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  };

  before(async () => {
    stack = await startStack();
    env = stack.env;
    consoleDir = mkdtempSync(path.join(os.tmpdir(), 'pf-console-'));
    outside = mkdtempSync(path.join(os.tmpdir(), 'pf-outside-'));
    mkdirSync(path.join(consoleDir, 'assets'));
    writeFileSync(path.join(consoleDir, 'index.html'), '<!doctype html><title>console</title><script type="module" src="/console/assets/app-1a2b3c.js"></script>');
    writeFileSync(path.join(consoleDir, 'assets/app-1a2b3c.js'), 'console.log("app");');
    writeFileSync(path.join(consoleDir, 'assets/app-1a2b3c.css'), 'body{margin:0}');
    writeFileSync(path.join(consoleDir, '.env'), 'SECRET=1');
    writeFileSync(path.join(outside, 'secret.txt'), 'do not serve');
    symlinkSync(path.join(outside, 'secret.txt'), path.join(consoleDir, 'assets/link.txt'));
    daemon = await startDaemon(env, {
      env: { PHOTOFINISH_ADMIN_TOKEN: TOKEN, PHOTOFINISH_CONSOLE_DIR: consoleDir, PHOTOFINISH_INGRESS_PREFIX: 'race/' },
    });
  });

  after(async () => {
    await daemon?.stop();
    await stack?.stop();
    if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
    if (outside) rmSync(outside, { recursive: true, force: true });
  });

  test('operators create, list and revoke credentials; only the digest is stored', async () => {
    const bad = await admin('credentials', { method: 'POST', body: JSON.stringify({ photographer: 'Not OK' }) });
    assert.equal(bad.status, 400);
    validate('Error', bad.body);
    assert.equal((await admin('credentials', { method: 'POST', body: JSON.stringify({ photographer: 'ok', expiresInDays: 91 }) })).status, 400);
    const created = await newCredential('carol', 3);
    validate('CredentialCreated', created);
    assert.match(created.secret, /^[A-Za-z0-9_-]{43}$/);
    const days = (Date.parse(created.expiresAt) - Date.now()) / 86400000;
    assert.ok(days > 2.9 && days <= 3, `expires in ${days} days`);
    const item = await stack.ddb.send(new GetItemCommand({ TableName: env.PHOTOFINISH_TABLE, Key: { pk: { S: 'CREDENTIAL' }, sk: { S: 'carol' } } }));
    assert.ok(item.Item.hash.S.match(/^[0-9a-f]{64}$/));
    assert.ok(!JSON.stringify(item.Item).includes(created.secret), 'the secret is not stored');
    assert.ok(!daemon.lines.some((l) => l.includes(created.secret)), 'the secret is not logged');
    const list = await admin('credentials');
    assert.equal(list.status, 200);
    validate('CredentialList', list.body);
    const row = list.body.credentials.find((c) => c.photographer === 'carol');
    assert.equal(row.by, 'admin');
    assert.ok(!JSON.stringify(list.body).includes(created.secret));
    // Creating again replaces: the old secret stops working.
    const again = await newCredential('carol');
    assert.equal((await signIn(created.secret)).status, 401);
    assert.equal((await signIn(again.secret)).status, 200);
    assert.equal((await admin('credentials/carol', { method: 'DELETE' })).status, 200);
    assert.equal((await admin('credentials/carol', { method: 'DELETE' })).status, 404);
    assert.equal((await signIn(again.secret)).status, 401);
    const audit = await admin('audit');
    const actions = audit.body.entries.filter((e) => e.photographer === 'carol').map((e) => e.action);
    assert.ok(actions.includes('credential.create') && actions.includes('credential.revoke'), JSON.stringify(actions));
  });

  test('photofinish admin credentials create, list and revoke', async () => {
    const made = await adminCli(daemon.url, TOKEN, ['credentials', 'create', 'erin', '--days', '2']);
    assert.equal(made.code, 0, made.stderr);
    const secret = /^secret\s+(\S+)$/m.exec(made.stdout)?.[1];
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    assert.match(made.stdout, /shown only now/);
    assert.equal((await signIn(secret)).body.photographer, 'erin');
    const listed = await adminCli(daemon.url, TOKEN, ['credentials', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^PHOTOGRAPHER\s+CREATED\s+EXPIRES\s+BY\s+EXPIRED$/m);
    assert.match(listed.stdout, /^erin\s+\S+\s+\S+\s+admin\s+no$/m);
    assert.ok(!listed.stdout.includes(secret));
    const json = await adminCli(daemon.url, TOKEN, ['--json', 'credentials', 'list']);
    validate('CredentialList', JSON.parse(json.stdout));
    assert.equal((await adminCli(daemon.url, TOKEN, ['credentials', 'create', 'Bad Name'])).code, 2);
    assert.equal((await adminCli(daemon.url, TOKEN, ['credentials', 'list', '--days', '3'])).code, 2);
    assert.equal((await adminCli(daemon.url, TOKEN, ['credentials', 'create', 'erin', '--days', '91'])).code, 2);
    const revoked = await adminCli(daemon.url, TOKEN, ['credentials', 'revoke', 'erin']);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await adminCli(daemon.url, TOKEN, ['credentials', 'revoke', 'erin'])).code, 1);
    assert.equal((await signIn(secret)).status, 401);
  });

  test('an operator signs in: HttpOnly Secure SameSite=Strict cookie, CSRF on writes', async () => {
    const s = await signIn(TOKEN);
    assert.equal(s.status, 200);
    validate('Session', s.body);
    assert.equal(s.body.role, 'admin');
    assert.equal(s.body.photographer, null);
    assert.match(s.setCookie, /^pf_session=[^;]+; HttpOnly; Secure; SameSite=Strict; Path=\/; Max-Age=43200$/);
    assert.equal(s.headers.get('cache-control'), 'no-store');
    assert.equal(s.headers.get('x-content-type-options'), 'nosniff');
    assert.match(s.headers.get('content-security-policy'), /default-src 'none'/);
    assert.ok(!JSON.stringify(s.body).includes(TOKEN));
    const me = await withSession(s, '/session');
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, s.body);
    // Reads with the cookie alone; writes need the CSRF token.
    assert.equal((await withSession(s, '/admin/status')).status, 200);
    const noCsrf = await getJson(`${daemon.url}/admin/reprocess`, { method: 'POST', body: '{"prefix":"race/none/"}', headers: { Cookie: s.cookie } });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.body.error.code, 'csrf_required');
    const wrongCsrf = await getJson(`${daemon.url}/admin/reprocess`, { method: 'POST', body: '{"prefix":"race/none/"}', headers: { Cookie: s.cookie, 'X-CSRF-Token': 'x'.repeat(43) } });
    assert.equal(wrongCsrf.body.error.code, 'csrf_required');
    const crossSite = await withSession(s, '/admin/reprocess', { method: 'POST', body: '{"prefix":"race/none/"}', headers: { Origin: 'https://evil.example' } });
    assert.equal(crossSite.status, 403);
    assert.equal(crossSite.body.error.code, 'forbidden');
    const ok = await withSession(s, '/admin/reprocess', { method: 'POST', body: '{"prefix":"race/none/"}', headers: { Origin: daemon.url } });
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    const audit = await admin('audit');
    assert.equal(audit.body.entries.find((e) => e.action === 'reprocess').who, 'admin');
    // A forged or tampered cookie is no session.
    const [payload, mac] = s.cookie.slice('pf_session='.length).split('.');
    const forged = Buffer.from(payload, 'base64url').toString().replace('"admin"', '"upload"');
    const tampered = `pf_session=${Buffer.from(forged).toString('base64url')}.${mac}`;
    assert.equal((await getJson(`${daemon.url}/session`, { headers: { Cookie: tampered } })).status, 401);
    assert.equal((await getJson(`${daemon.url}/admin/status`, { headers: { Cookie: tampered } })).status, 401);
    // Signing out clears the cookie (and needs the CSRF token too).
    assert.equal((await getJson(`${daemon.url}/session`, { method: 'DELETE', headers: { Cookie: s.cookie } })).status, 403);
    const out = await fetch(`${daemon.url}/session`, { method: 'DELETE', headers: { Cookie: s.cookie, 'X-CSRF-Token': s.body.csrf } });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie'), /^pf_session=; .*Max-Age=0/);
  });

  test('sign-in refuses wrong credentials, cross-site posts, and is rate-limited per client', async () => {
    const cross = await signIn(TOKEN, { Origin: 'https://evil.example' });
    assert.equal(cross.status, 403);
    // A burst of 10 failures per client (earlier tests used a few of them), then 429.
    let failures = 0;
    for (;;) {
      const r = await signIn(`wrong-${failures}`);
      if (r.status === 429) break;
      assert.equal(r.status, 401);
      validate('Error', r.body);
      assert.equal(r.body.error.code, 'unauthorized');
      failures++;
      assert.ok(failures <= 10, 'still no 429 after 10 failures');
    }
    assert.ok(failures >= 1, `${failures} failures before the limit`);
    const limited = await signIn(TOKEN);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    await new Promise((r) => setTimeout(r, 6500));
    assert.equal((await signIn(TOKEN)).status, 200);
  });

  test('a photographer credential reaches no admin route, by bearer or session', async () => {
    const cred = await newCredential('photographer-a');
    const s = await signIn(cred.secret);
    assert.equal(s.status, 200);
    assert.equal(s.body.role, 'upload');
    assert.equal(s.body.photographer, 'photographer-a');
    assert.equal(s.body.who, 'photographer-a');
    const routes = Object.entries(spec.paths).filter(([p]) => p.startsWith('/admin'));
    assert.ok(routes.length >= 15);
    let checked = 0;
    for (const [p, ops] of routes) {
      const url = p.replace(/\{[^}]+\}/g, (m) => (m === '{id}' ? '0'.repeat(32) : 'x'));
      for (const method of Object.keys(ops).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))) {
        const init = { method: method.toUpperCase(), ...(method === 'get' ? {} : { body: '{}' }) };
        const bearer = await getJson(`${daemon.url}${url}`, { ...init, headers: { Authorization: `Bearer ${cred.secret}` } });
        assert.equal(bearer.status, 401, `${method} ${url} by bearer: ${bearer.status}`);
        const sess = await withSession(s, url, init);
        assert.equal(sess.status, 403, `${method} ${url} by session: ${sess.status}`);
        assert.equal(sess.body.error.code, 'forbidden');
        checked++;
      }
    }
    assert.ok(checked >= 15, `${checked} admin routes checked`);
  });

  test('an upload session ends when its credential expires or is revoked', async () => {
    const cred = await newCredential('dave');
    const s = await signIn(cred.secret);
    assert.equal((await withSession(s, '/session')).status, 200);
    // Expire it in the catalog; sessions notice within 30 s of caching, or at once after a change.
    await stack.ddb.send(new UpdateItemCommand({
      TableName: env.PHOTOFINISH_TABLE, Key: { pk: { S: 'CREDENTIAL' }, sk: { S: 'dave' } },
      UpdateExpression: 'SET expiresMs = :e', ExpressionAttributeValues: { ':e': { N: String(Date.now() - 1000) } },
    }));
    await waitFor(async () => (await withSession(s, '/session')).status === 401, { timeoutMs: 35000, intervalMs: 1000, what: 'expired session refused' });
    assert.equal((await signIn(cred.secret)).status, 401);
    const again = await newCredential('dave');
    const s2 = await signIn(again.secret);
    assert.equal((await withSession(s2, '/session')).status, 200);
    assert.equal((await admin('credentials/dave', { method: 'DELETE' })).status, 200);
    const gone = await withSession(s2, '/session');
    assert.equal(gone.status, 401);
  });

  test('a photographer uploads through presigned multipart URLs; the daemon processes the photos', async () => {
    const cred = await newCredential('photographer-u');
    const s = await signIn(cred.secret);
    assert.equal(s.status, 200);
    const empty = await withSession(s, '/uploads/objects');
    assert.equal(empty.status, 200, JSON.stringify(empty.body));
    validate('UploadObjects', empty.body);
    assert.deepEqual(empty.body, { objects: [], nextCursor: null });
    assert.equal(empty.headers.get('cache-control'), 'no-store');
    assert.match(empty.headers.get('content-security-policy'), /default-src 'none'/);

    const dir = makePhotos([
      { file: 'a.jpg', codes: ['10423'], seed: 31, width: 1600, height: 1000, takenAt: '2026:05:03 09:00:00' },
      { file: 'b.jpg', codes: [], seed: 32, width: 1600, height: 1000, takenAt: '2026:05:03 09:01:00' },
    ]);
    // Three parts: 17 MiB (over 16 MiB, 8 MiB parts) that are no photo (the daemon refuses it as failed).
    const big = Buffer.alloc(17 * 1024 * 1024, 7);
    const files = [
      { path: 'day1/a.jpg', bytes: readFileSync(path.join(dir, 'a.jpg')) },
      { path: 'day1/b.jpg', bytes: readFileSync(path.join(dir, 'b.jpg')) },
      { path: 'day1/big.jpg', bytes: big },
    ];
    for (const f of files) {
      const start = await withSession(s, '/uploads/files', { method: 'POST', body: JSON.stringify({ path: f.path, size: f.bytes.length, type: 'image/jpeg' }) });
      assert.equal(start.status, 201, JSON.stringify(start.body));
      validate('UploadStarted', start.body);
      assert.equal(start.body.key, `race/photographer-u/${f.path}`);
      assert.equal(start.body.parts.length, Math.ceil(f.bytes.length / start.body.partSize));
      // Up to 16 MiB a file is one part; over it, 8 MiB parts.
      assert.equal(start.body.partSize, f.bytes.length <= 16 * 1024 * 1024 ? 16 * 1024 * 1024 : 8 * 1024 * 1024);
      assert.ok(Date.parse(start.body.expiresAt) > Date.now());
      assert.ok(!daemon.lines.some((l) => l.includes('X-Amz-Signature')), 'presigned URLs are not logged');
      // Plain PUTs of each part's bytes, no extra headers, as a browser sends them.
      for (const part of start.body.parts) {
        const from = (part.partNumber - 1) * start.body.partSize;
        const put = await fetch(part.url, { method: 'PUT', body: f.bytes.subarray(from, from + start.body.partSize) });
        assert.equal(put.status, 200, `part ${part.partNumber}: ${await put.text()}`);
      }
      const done = await withSession(s, '/uploads/files/complete', { method: 'POST', body: JSON.stringify({ path: f.path, uploadId: start.body.uploadId }) });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      validate('UploadCompleted', done.body);
      assert.deepEqual(done.body, { path: f.path, size: f.bytes.length });
    }
    const listed = await withSession(s, '/uploads/objects');
    assert.deepEqual(listed.body.objects.map((o) => [o.path, o.size]).sort(), files.map((f) => [f.path, f.bytes.length]).sort());

    const paths = [...files.map((f) => f.path), 'day1/never.jpg'];
    let st;
    await waitFor(async () => {
      st = await withSession(s, '/uploads/status', { method: 'POST', body: JSON.stringify({ paths }) });
      return st.status === 200 && st.body.files.slice(0, 3).every((f) => f.state !== 'waiting');
    }, { timeoutMs: 60000, intervalMs: 500, what: 'uploads processed' });
    validate('UploadStatus', st.body);
    assert.deepEqual(st.body.files, [
      { path: 'day1/a.jpg', state: 'processed', codes: 1 },
      { path: 'day1/b.jpg', state: 'unmatched', codes: 0 },
      { path: 'day1/big.jpg', state: 'failed', codes: 0 },
      { path: 'day1/never.jpg', state: 'waiting', codes: 0 },
    ]);
    // 100 paths at once (one catalog read), a photo named twice: each path
    // its own answer, in the order asked.
    const asked = Array.from({ length: 100 }, (_, i) => (i % 25 === 0 ? files[(i / 25) % 3].path : `day1/none-${i}.jpg`));
    const known = Object.fromEntries(st.body.files.map((f) => [f.path, f]));
    const hundred = await withSession(s, '/uploads/status', { method: 'POST', body: JSON.stringify({ paths: asked }) });
    assert.equal(hundred.status, 200, JSON.stringify(hundred.body));
    assert.deepEqual(hundred.body.files, asked.map((p) => known[p] ?? { path: p, state: 'waiting', codes: 0 }));
    const none = await withSession(s, '/uploads/status', { method: 'POST', body: JSON.stringify({ paths: [] }) });
    assert.deepEqual(none.body, { files: [] });
    const runner = await getJson(`${daemon.url}/participants/10423`);
    assert.deepEqual(runner.body.images.map((i) => i.id), [imageId(env.PHOTOFINISH_INGRESS_BUCKET, 'race/photographer-u/day1/a.jpg')]);

    // The same with the credential as a bearer token (scripts), no CSRF needed.
    const bearer = await getJson(`${daemon.url}/uploads/objects`, { headers: { Authorization: `Bearer ${cred.secret}` } });
    assert.equal(bearer.status, 200);
    assert.equal(bearer.body.objects.length, 3);
    assert.equal((await getJson(`${daemon.url}/uploads/objects`, { headers: { Authorization: 'Bearer wrong' } })).status, 401);

    // A part missing: nothing is completed.
    const gap = await withSession(s, '/uploads/files', { method: 'POST', body: JSON.stringify({ path: 'day1/gap.jpg', size: big.length, type: 'image/jpeg' }) });
    assert.equal(gap.body.parts.length, 3);
    assert.equal((await fetch(gap.body.parts[1].url, { method: 'PUT', body: big.subarray(gap.body.partSize, 2 * gap.body.partSize) })).status, 200);
    const gapped = await withSession(s, '/uploads/files/complete', { method: 'POST', body: JSON.stringify({ path: 'day1/gap.jpg', uploadId: gap.body.uploadId }) });
    assert.equal(gapped.status, 409, JSON.stringify(gapped.body));
    assert.equal(gapped.body.error.code, 'conflict');
    // Another photographer's path cannot name this upload: keys are always under one's own prefix.
    assert.equal((await withSession(s, '/uploads/files/abort', { method: 'POST', body: JSON.stringify({ path: 'day1/gap.jpg', uploadId: gap.body.uploadId }) })).status, 204);

    // An aborted upload is gone.
    const start = await withSession(s, '/uploads/files', { method: 'POST', body: JSON.stringify({ path: 'day1/c.jpg', size: 10, type: 'image/jpeg' }) });
    const ref = JSON.stringify({ path: 'day1/c.jpg', uploadId: start.body.uploadId });
    assert.equal((await withSession(s, '/uploads/files/abort', { method: 'POST', body: ref })).status, 204);
    assert.equal((await withSession(s, '/uploads/files/complete', { method: 'POST', body: ref })).status, 404);
  });

  test('batch routes start and complete many uploads in one request each, with an answer per file', async () => {
    const cred = await newCredential('photographer-b');
    const s = await signIn(cred.secret);
    const dir = makePhotos([
      { file: 'p1.jpg', codes: ['20001'], seed: 41, width: 800, height: 600 },
      { file: 'p2.jpg', codes: [], seed: 42, width: 800, height: 600 },
    ]);
    const big = Buffer.alloc(17 * 1024 * 1024, 5);
    const files = [
      { path: 'batch/p1.jpg', bytes: readFileSync(path.join(dir, 'p1.jpg')) },
      { path: 'batch/p2.jpg', bytes: readFileSync(path.join(dir, 'p2.jpg')) },
      { path: 'batch/big.jpg', bytes: big },
    ];
    const started = await withSession(s, '/uploads/batch/files', {
      method: 'POST',
      body: JSON.stringify({ files: files.map((f) => ({ path: f.path, size: f.bytes.length, type: 'image/jpeg' })) }),
    });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    validate('UploadBatchStarted', started.body);
    assert.deepEqual(started.body.files.map((f) => f.path), files.map((f) => f.path), 'answers in the order asked');
    assert.ok(!daemon.lines.some((l) => l.includes('X-Amz-Signature')), 'presigned URLs are not logged');
    for (const [i, f] of files.entries()) {
      const up = started.body.files[i];
      assert.equal(up.key, `race/photographer-b/${f.path}`);
      assert.equal(up.parts.length, Math.ceil(f.bytes.length / up.partSize));
      // big.jpg's first part is left out: its completion is refused alone.
      const parts = f.path === 'batch/big.jpg' ? up.parts.slice(1) : up.parts;
      for (const part of parts) {
        const from = (part.partNumber - 1) * up.partSize;
        const put = await fetch(part.url, { method: 'PUT', body: f.bytes.subarray(from, from + up.partSize) });
        assert.equal(put.status, 200);
      }
    }
    const refs = started.body.files.map((f) => ({ path: f.path, uploadId: f.uploadId }));
    // One more whose upload does not exist: a 404 of its own.
    refs.push({ path: 'batch/gone.jpg', uploadId: started.body.files[0].uploadId });
    const done = await withSession(s, '/uploads/batch/complete', { method: 'POST', body: JSON.stringify({ files: refs }) });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    validate('UploadBatchCompleted', done.body);
    assert.deepEqual(done.body.files.slice(0, 2), files.slice(0, 2).map((f) => ({ path: f.path, size: f.bytes.length })));
    assert.equal(done.body.files[2].path, 'batch/big.jpg');
    assert.equal(done.body.files[2].error.status, 409, JSON.stringify(done.body.files[2]));
    assert.equal(done.body.files[2].error.code, 'conflict');
    assert.deepEqual(done.body.files[3].path, 'batch/gone.jpg');
    assert.equal(done.body.files[3].error.status, 404);
    assert.equal(done.body.files[3].error.code, 'not_found');
    const listed = await withSession(s, '/uploads/objects');
    assert.deepEqual(listed.body.objects.map((o) => o.path).sort(), ['batch/p1.jpg', 'batch/p2.jpg']);

    // The missing part sent, the same upload completes.
    const big2 = started.body.files[2];
    assert.equal((await fetch(big2.parts[0].url, { method: 'PUT', body: big.subarray(0, big2.partSize) })).status, 200);
    const again = await withSession(s, '/uploads/batch/complete', { method: 'POST', body: JSON.stringify({ files: [{ path: 'batch/big.jpg', uploadId: big2.uploadId }] }) });
    assert.deepEqual(again.body, { files: [{ path: 'batch/big.jpg', size: big.length }] });

    // Bad batches are refused whole.
    const bad = [
      {},
      { files: [] },
      { files: Array.from({ length: 33 }, (_, i) => ({ path: `${i}.jpg`, size: 10, type: 'image/jpeg' })) },
      { files: ['a.jpg'] },
      { files: [{ path: 'ok.jpg', size: 10, type: 'image/jpeg' }, { path: '../x.jpg', size: 10, type: 'image/jpeg' }] },
      { files: [{ path: 'ok.jpg', size: 0, type: 'image/jpeg' }] },
      { files: [{ path: 'ok.jpg', size: 10, type: 'text/html' }] },
    ];
    for (const body of bad) {
      const r = await withSession(s, '/uploads/batch/files', { method: 'POST', body: JSON.stringify(body) });
      assert.equal(r.status, 400, JSON.stringify(body).slice(0, 200));
      validate('Error', r.body);
    }
    for (const body of [{ files: [{ path: 'a.jpg' }] }, { files: [{ path: 'a/../b.jpg', uploadId: 'x' }] }, { files: 'a.jpg' }]) {
      const r = await withSession(s, '/uploads/batch/complete', { method: 'POST', body: JSON.stringify(body) });
      assert.equal(r.status, 400, JSON.stringify(body));
      validate('Error', r.body);
    }
    assert.equal((await withSession(s, '/uploads/objects')).body.objects.length, 3, 'nothing started by a refused batch');
    const noCsrf = await getJson(`${daemon.url}/uploads/batch/files`, { method: 'POST', body: JSON.stringify({ files: [{ path: 'a.jpg', size: 10, type: 'image/jpeg' }] }), headers: { Cookie: s.cookie } });
    assert.equal(noCsrf.status, 403);
  });

  test('a photo of one part asked as single is one presigned PutObject of exactly its length; every URL signs its length', async () => {
    const cred = await newCredential('photographer-w');
    const s = await signIn(cred.secret);
    const dir = makePhotos([{ file: 'w1.jpg', codes: ['30001'], seed: 51, width: 800, height: 600 }]);
    const photo = readFileSync(path.join(dir, 'w1.jpg'));
    rmSync(dir, { recursive: true, force: true });
    const big = Buffer.alloc(17 * 1024 * 1024, 9);
    const started = await withSession(s, '/uploads/batch/files', {
      method: 'POST',
      body: JSON.stringify({ files: [{ path: 'one/w1.jpg', size: photo.length, type: 'image/jpeg', single: true }, { path: 'one/big.jpg', size: big.length, type: 'image/jpeg', single: true }] }),
    });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    validate('UploadBatchStarted', started.body);
    const [one, multi] = started.body.files;
    // The photo: one URL, no upload to complete; over 16 MiB: multipart all the same.
    assert.deepEqual(Object.keys(one).sort(), ['expiresAt', 'key', 'path', 'url']);
    assert.equal(one.key, 'race/photographer-w/one/w1.jpg');
    assert.match(one.url, /X-Amz-SignedHeaders=content-length%3Bhost/);
    assert.ok(multi.uploadId && multi.parts.length === 3, JSON.stringify(multi).slice(0, 200));
    assert.ok(multi.parts.every((p) => /X-Amz-SignedHeaders=content-length%3Bhost/.test(p.url)), 'each part URL signs its length');
    assert.ok(!daemon.lines.some((l) => l.includes('X-Amz-Signature')), 'presigned URLs are not logged');

    // Another length than the one signed is refused, as S3 refuses it; nothing is stored.
    const longer = await fetch(one.url, { method: 'PUT', body: Buffer.concat([photo, Buffer.alloc(1)]) });
    assert.equal(longer.status, 403);
    assert.match(await longer.text(), /SignatureDoesNotMatch/);
    assert.equal((await withSession(s, '/uploads/objects')).body.objects.length, 0);
    const put = await fetch(one.url, { method: 'PUT', body: photo, headers: { 'Content-Type': 'image/jpeg' } });
    assert.equal(put.status, 200, await put.text());
    // A part URL takes its own part's length only (the last part is the rest).
    const last = multi.parts[2];
    assert.equal((await fetch(last.url, { method: 'PUT', body: big.subarray(0, multi.partSize) })).status, 403);
    for (const part of multi.parts) {
      const from = (part.partNumber - 1) * multi.partSize;
      assert.equal((await fetch(part.url, { method: 'PUT', body: big.subarray(from, from + multi.partSize) })).status, 200);
    }
    const done = await withSession(s, '/uploads/batch/complete', { method: 'POST', body: JSON.stringify({ files: [{ path: 'one/big.jpg', uploadId: multi.uploadId }] }) });
    assert.deepEqual(done.body, { files: [{ path: 'one/big.jpg', size: big.length }] });

    // What the bucket holds, as the AWS SDK reads it.
    const got = await stack.s3.send(new GetObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: one.key }));
    assert.equal(got.ContentType, 'image/jpeg');
    assert.ok(Buffer.from(await got.Body.transformToByteArray()).equals(photo));
    const listed = await withSession(s, '/uploads/objects');
    assert.deepEqual(listed.body.objects.map((o) => [o.path, o.size]).sort(), [['one/big.jpg', big.length], ['one/w1.jpg', photo.length]]);
    // The photo is processed like any other.
    await waitFor(async () => {
      const st = await withSession(s, '/uploads/status', { method: 'POST', body: JSON.stringify({ paths: ['one/w1.jpg'] }) });
      return st.body.files?.[0]?.state === 'processed' && st.body.files[0].codes === 1;
    }, { timeoutMs: 60000, intervalMs: 500, what: 'the single-PUT photo processed with its code' });

    const alone = await withSession(s, '/uploads/files', { method: 'POST', body: JSON.stringify({ path: 'one/w2.jpg', size: 10, type: 'image/jpeg', single: true }) });
    assert.equal(alone.status, 200, JSON.stringify(alone.body));
    validate('UploadSigned', alone.body);
    const wrong = await withSession(s, '/uploads/files', { method: 'POST', body: JSON.stringify({ path: 'one/w3.jpg', size: 10, type: 'image/jpeg', single: 'yes' }) });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error.code, 'invalid_body');
  });

  test('the upload surface refuses bad input, other roles and missing CSRF', async () => {
    const cred = await newCredential('photographer-v');
    const s = await signIn(cred.secret);
    for (const p of ['../x.jpg', '/abs.jpg', 'a//b.jpg', 'a/./b.jpg', 'a/../../b.jpg', 'x\u0001.jpg', '', 'a'.repeat(513)]) {
      const r = await withSession(s, '/uploads/files', { method: 'POST', body: JSON.stringify({ path: p, size: 10, type: 'image/jpeg' }) });
      assert.equal(r.status, 400, `${JSON.stringify(p)}: ${r.status}`);
      validate('Error', r.body);
      assert.equal(r.body.error.code, 'invalid_path');
    }
    for (const body of [{ path: 'a.jpg', size: 0, type: 'image/jpeg' }, { path: 'a.jpg', size: 200 * 1024 * 1024 + 1, type: 'image/jpeg' },
      { path: 'a.jpg', size: 10, type: 'text/html' }, { path: 'a.jpg', size: '10', type: 'image/jpeg' }]) {
      const r = await withSession(s, '/uploads/files', { method: 'POST', body: JSON.stringify(body) });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error.code, 'invalid_body');
    }
    const tooMany = await withSession(s, '/uploads/status', { method: 'POST', body: JSON.stringify({ paths: Array.from({ length: 101 }, (_, i) => `${i}.jpg`) }) });
    assert.equal(tooMany.status, 400);
    const noCsrf = await getJson(`${daemon.url}/uploads/files`, { method: 'POST', body: '{"path":"a.jpg","size":10,"type":"image/jpeg"}', headers: { Cookie: s.cookie } });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.body.error.code, 'csrf_required');
    assert.equal((await getJson(`${daemon.url}/uploads/objects`)).status, 401);
    const op = await signIn(TOKEN);
    const asAdmin = await withSession(op, '/uploads/objects');
    assert.equal(asAdmin.status, 403);
    assert.equal(asAdmin.body.error.code, 'forbidden');
    assert.equal((await getJson(`${daemon.url}/uploads/objects`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 401);
    // A revoked credential's session cannot upload any more.
    assert.equal((await admin('credentials/photographer-v', { method: 'DELETE' })).status, 200);
    assert.equal((await withSession(s, '/uploads/objects')).status, 401);
  });

  test('every task accepts every session; a revocation reaches the other tasks within 30 s', async () => {
    // A second task configured alike: the key derived from the admin tokens is the same.
    const other = await startDaemon(env, { env: { PHOTOFINISH_ADMIN_TOKEN: TOKEN, PHOTOFINISH_INGRESS_PREFIX: 'race/' } });
    try {
      const op = await signIn(TOKEN);
      assert.equal((await getJson(`${other.url}/session`, { headers: { Cookie: op.cookie } })).status, 200);
      assert.equal((await getJson(`${other.url}/admin/status`, { headers: { Cookie: op.cookie } })).status, 200);
      const cred = await newCredential('photographer-w');
      const s = await signIn(cred.secret);
      const onOther = (p) => getJson(`${other.url}${p}`, { headers: { Cookie: s.cookie } });
      assert.equal((await onOther('/uploads/objects')).status, 200);
      assert.equal((await admin('credentials/photographer-w', { method: 'DELETE' })).status, 200);
      assert.equal((await withSession(s, '/uploads/objects')).status, 401, 'the revoking task refuses at once');
      const t0 = Date.now();
      await waitFor(async () => (await onOther('/uploads/objects')).status === 401, { timeoutMs: 35000, intervalMs: 1000, what: 'revocation on the other task' });
      assert.ok(Date.now() - t0 <= 31000, `${Date.now() - t0} ms`);
      // A task with other admin tokens (another key) accepts none of these sessions.
      const stranger = await startDaemon(env, { env: { PHOTOFINISH_ADMIN_TOKEN: 'another-admin-token-0123456789' } });
      try {
        assert.equal((await getJson(`${stranger.url}/session`, { headers: { Cookie: op.cookie } })).status, 401);
      } finally {
        await stranger.stop();
      }
    } finally {
      await other.stop();
    }
  });

  test('with a shared session key, replacing an admin token\'s secret ends the sessions it opened', async () => {
    const KEY = 'a shared session key of more than 32 characters';
    const before = await startDaemon(env, { env: { PHOTOFINISH_ADMIN_TOKENS: 'ops:first-secret-0123456789', PHOTOFINISH_SESSION_KEY: KEY } });
    const rotated = await startDaemon(env, { env: { PHOTOFINISH_ADMIN_TOKENS: 'ops:second-secret-0123456789', PHOTOFINISH_SESSION_KEY: KEY } });
    try {
      const r = await fetch(`${before.url}/session`, { method: 'POST', body: JSON.stringify({ credential: 'first-secret-0123456789' }), headers: { 'Content-Type': 'application/json' } });
      assert.equal(r.status, 200);
      const cookie = r.headers.get('set-cookie').split(';')[0];
      assert.equal((await getJson(`${before.url}/admin/status`, { headers: { Cookie: cookie } })).status, 200);
      const refused = await getJson(`${rotated.url}/admin/status`, { headers: { Cookie: cookie } });
      assert.equal(refused.status, 401, 'the same name with a new secret: the old session is over');
      assert.equal((await getJson(`${rotated.url}/session`, { headers: { Cookie: cookie } })).status, 401);
      const fresh = await fetch(`${rotated.url}/session`, { method: 'POST', body: JSON.stringify({ credential: 'second-secret-0123456789' }), headers: { 'Content-Type': 'application/json' } });
      const freshCookie = fresh.headers.get('set-cookie').split(';')[0];
      assert.equal((await getJson(`${rotated.url}/admin/status`, { headers: { Cookie: freshCookie } })).status, 200);
    } finally {
      await before.stop();
      await rotated.stop();
    }
  });

  test('serves the console with a strict CSP, ETags and cache rules', async () => {
    const idx = await fetch(`${daemon.url}/console/`);
    assert.equal(idx.status, 200);
    assert.match(idx.headers.get('content-type'), /^text\/html/);
    assert.equal(idx.headers.get('cache-control'), 'no-cache');
    const csp = idx.headers.get('content-security-policy');
    for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"]) assert.ok(csp.includes(d), `${d} in ${csp}`);
    const s3 = new URL(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL).origin;
    assert.match(csp, new RegExp(`img-src 'self' data: blob: ${s3.replace(/[.]/g, '\\.')}`));
    assert.match(csp, new RegExp(`connect-src 'self' ${s3.replace(/[.]/g, '\\.')}`));
    assert.equal(idx.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(idx.headers.get('referrer-policy'), 'no-referrer');
    assert.match(await idx.text(), /<title>console<\/title>/);
    // The app's own routes answer index.html; a missing file with an extension does not.
    const route = await fetch(`${daemon.url}/console/tagging/next`);
    assert.equal(route.status, 200);
    assert.match(await route.text(), /<title>console/);
    assert.equal((await fetch(`${daemon.url}/console/missing.js`)).status, 404);
    const redirect = await fetch(`${daemon.url}/console`, { redirect: 'manual' });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get('location'), '/console/');
    const js = await fetch(`${daemon.url}/console/assets/app-1a2b3c.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type'), /^text\/javascript/);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    const etag = js.headers.get('etag');
    assert.match(etag, /^"[0-9a-f]{16}"$/);
    assert.equal((await fetch(`${daemon.url}/console/assets/app-1a2b3c.js`, { headers: { 'If-None-Match': etag } })).status, 304);
    assert.match((await fetch(`${daemon.url}/console/assets/app-1a2b3c.css`)).headers.get('content-type'), /^text\/css/);
  });

  test('refuses paths out of the console directory', async () => {
    for (const target of ['/console/../secret.txt', '/console/%2e%2e/%2e%2e/etc/passwd', '/console/assets/..%2f..%2fetc%2fpasswd',
      '/console/.env', '/console/assets//app-1a2b3c.js', '/console/assets/link.txt', '/console/%00index.html', '/console/assets\\..\\index.html',
      `/console/${'a/'.repeat(600)}x.js`]) {
      const r = await rawGet(daemon.url, target);
      assert.ok(r.status === 404 || r.status === 400, `${target}: ${r.status}`);
      assert.ok(!r.body.includes('do not serve') && !r.body.includes('SECRET') && !r.body.includes('root:'), target);
    }
    assert.equal((await fetch(`${daemon.url}/consolex`)).status, 404);
  });
});
