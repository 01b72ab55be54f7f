// The runners' features of the API against the real daemon and local stack:
// "did you mean" from the catalog's code index, the rate limit on lookups
// that find nothing; what the daemon wrote is checked with the AWS SDK v3.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { startStack, waitFor } from './lib/stack.mjs';
import { getJson, startDaemon } from './lib/daemon.mjs';
import { imageId, makePhotos } from './lib/photos.mjs';
import { validate } from './lib/openapi.mjs';
import { admin as adminCli } from './lib/admin_cli.mjs';

const TOKEN = 'runner-admin-token-0123456789abcdef';

// key -> spec; the first folder is the photographer.
const photos = {
  'alice/a1.jpg': { codes: ['10423'], seed: 61, takenAt: '2026:05:03 09:00:00' },
  'alice/a2.jpg': { codes: ['10423', '10433'], seed: 62, takenAt: '2026:05:03 09:01:00' },
  'bob/b1.jpg': { codes: ['10433'], seed: 63, takenAt: '2026:05:03 09:02:00' },
  'bob/b2.jpg': { codes: [], seed: 64, takenAt: '2026:05:03 09:03:00' },
  'c1.jpg': { codes: ['1043'], seed: 65, takenAt: '2026:05:03 09:04:00' },
};

describe('runner features', () => {
  let stack, daemon, env, ids;
  let clientNo = 0;
  // Every test speaks as its own client unless it says otherwise.
  const client = () => `203.0.113.${++clientNo}`;
  const participant = (code, from, q = '') => getJson(`${daemon.url}/participants/${encodeURIComponent(code)}${q}`, { headers: { 'X-Forwarded-For': `198.51.100.7, ${from}` } });
  const admin = (p, init = {}) => getJson(`${daemon.url}/admin/${p}`, {
    ...init, headers: { Authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) },
  });
  const getItem = async (pk, sk) => (await stack.ddb.send(new GetItemCommand({ TableName: env.PHOTOFINISH_TABLE, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true }))).Item;
  const query = async (pk) => (await stack.ddb.send(new QueryCommand({
    TableName: env.PHOTOFINISH_TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } }, ConsistentRead: true,
  }))).Items;
  const codePhotos = async (code) => Number((await getItem('CODES', code))?.photos?.N ?? 'NaN');
  const queueEmpty = () => waitFor(async () => {
    const r = await stack.sqs.send(new GetQueueAttributesCommand({ QueueUrl: env.PHOTOFINISH_QUEUE_URL, AttributeNames: ['All'] }));
    return r.Attributes.ApproximateNumberOfMessages === '0' && r.Attributes.ApproximateNumberOfMessagesNotVisible === '0';
  }, { timeoutMs: 60000, intervalMs: 250, what: 'queue empty' });

  before(async () => {
    stack = await startStack();
    env = stack.env;
    daemon = await startDaemon(env, { env: { PHOTOFINISH_ADMIN_TOKEN: TOKEN, PHOTOFINISH_TRUST_FORWARDED_FOR: '1', PHOTOFINISH_CACHE_TTL: '1' } });
    const specs = Object.entries(photos).map(([key, s]) => ({ file: key.replace('/', '_'), ...s }));
    const dir = makePhotos(specs);
    for (const [key] of Object.entries(photos)) {
      await stack.s3.send(new PutObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: key, Body: readFileSync(path.join(dir, key.replace('/', '_'))) }));
    }
    ids = Object.fromEntries(Object.keys(photos).map((k) => [k, imageId(env.PHOTOFINISH_INGRESS_BUCKET, k)]));
    await waitFor(async () => (await Promise.all(Object.values(ids).map((id) => getItem(`IMAGE#${id}`, 'IMAGE')))).every(Boolean), { timeoutMs: 60000, what: 'processed' });
    await queueEmpty();
  });

  after(async () => {
    await daemon?.stop();
    await stack?.stop();
  });

  test('each photo write adds to the code index', async () => {
    await waitFor(async () => await codePhotos('10423') === 2 && await codePhotos('10433') === 2 && await codePhotos('1043') === 1, { timeoutMs: 10000, what: 'code index' });
    const codes = await query('CODES');
    assert.deepEqual(codes.map((i) => [i.sk.S, Number(i.photos.N)]).sort(), [['10423', 2], ['10433', 2], ['1043', 1]].sort());
    const img = await getItem(`IMAGE#${ids['alice/a1.jpg']}`, 'IMAGE');
    assert.equal(img.photographer.S, 'alice');
    assert.equal((await getItem(`IMAGE#${ids['c1.jpg']}`, 'IMAGE')).photographer.S, '');
  });

  test('a code without photos answers with one-edit suggestions, ranked', async () => {
    const from = client();
    const r = await participant(' 10432 ', from);
    assert.equal(r.status, 200);
    validate('ParticipantResponse', r.body);
    assert.deepEqual(r.body.images, []);
    assert.equal(r.body.registered, null);
    assert.deepEqual(r.body.suggestions, [{ code: '10423', photos: 2 }, { code: '10433', photos: 2 }, { code: '1043', photos: 1 }]);
    const far = await participant('55555', from);
    assert.deepEqual(far.body.suggestions, []);
    const hit = await participant('10423', from);
    assert.equal(hit.status, 200);
    validate('ParticipantResponse', hit.body);
    assert.deepEqual(hit.body.suggestions, [], 'no suggestions when photos were found');
    assert.deepEqual(hit.body.images.map((i) => i.photographer), ['alice', 'alice']);
  });

  test('lookups that find nothing: 10 are fine, the 11th gets 429 with Retry-After; hits never', async () => {
    const from = client();
    for (let i = 0; i < 10; i++) {
      const r = await participant(`9900${i}`, from);
      assert.equal(r.status, 200, `miss ${i + 1}`);
    }
    const limited = await participant('99010', from);
    assert.equal(limited.status, 429);
    validate('Error', limited.body);
    assert.equal(limited.body.error.code, 'rate_limited');
    const retry = Number(limited.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 6, `Retry-After ${retry}`);
    // The code last looked up again (a page polling for a first photo) is free.
    assert.equal((await participant('99009', from)).status, 200);
    // Another cached miss is limited too; a hit is not.
    assert.equal((await participant('99000', from)).status, 429);
    for (let i = 0; i < 3; i++) assert.equal((await participant('10423', from)).status, 200);
    // Another runner behind the same gallery is not slowed.
    assert.equal((await participant('99011', client())).status, 200);
  });

  test('an IPv6 client is one /64: its other addresses share the limit, a neighbour /64 does not', async () => {
    for (let i = 0; i < 10; i++) assert.equal((await participant(`9920${i}`, `2001:db8:5:7::${i + 1}`)).status, 200);
    assert.equal((await participant('99210', '2001:db8:5:7:abcd::99')).status, 429, 'same /64, another address');
    assert.equal((await participant('99211', '2001:db8:5:8::1')).status, 200, 'the next /64');
    // An IPv4-mapped address is its IPv4 address.
    for (let i = 0; i < 10; i++) assert.equal((await participant(`9930${i}`, '198.51.100.77')).status, 200);
    assert.equal((await participant('99310', '::ffff:198.51.100.77')).status, 429);
  });

  test('admin edits and deletes keep the code index', async () => {
    const patched = await admin(`images/${ids['bob/b2.jpg']}/codes`, { method: 'PATCH', body: JSON.stringify({ add: ['777'] }) });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    await waitFor(async () => await codePhotos('777') === 1, { timeoutMs: 10000, what: '777 indexed' });
    const put = await admin(`images/${ids['bob/b2.jpg']}/codes`, { method: 'PUT', body: JSON.stringify({ codes: ['778'] }) });
    assert.equal(put.status, 200);
    await waitFor(async () => await codePhotos('777') === 0 && await codePhotos('778') === 1, { timeoutMs: 10000, what: '777 -> 778' });
    const del = await admin(`images/${ids['c1.jpg']}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    await waitFor(async () => await codePhotos('1043') === 0, { timeoutMs: 10000, what: '1043 gone' });
    await queueEmpty();
  });

  const photosOf = (q) => getJson(`${daemon.url}/photos?${new URLSearchParams(q)}`);
  const at = (k) => ids[k];

  test('photos by time: tagged and untagged, both orders, per photographer, paginated', async () => {
    const window = { from: '2026-05-03T08:59:00Z', to: '2026-05-03T09:10:00Z' };
    const all = await photosOf(window);
    assert.equal(all.status, 200, JSON.stringify(all.body));
    validate('PhotosPage', all.body);
    assert.deepEqual(all.body.images.map((i) => i.id), ['alice/a1.jpg', 'alice/a2.jpg', 'bob/b1.jpg', 'bob/b2.jpg'].map(at));
    assert.deepEqual(all.body.images.map((i) => i.photographer), ['alice', 'alice', 'bob', 'bob']);
    assert.equal(all.body.nextCursor, null);
    const desc = await photosOf({ ...window, order: 'desc', photographer: 'bob' });
    assert.deepEqual(desc.body.images.map((i) => i.id), ['bob/b2.jpg', 'bob/b1.jpg'].map(at));
    // The window is from <= time < to, in any zone.
    const narrow = await photosOf({ from: '2026-05-03T11:01:00+02:00', to: '2026-05-03T09:03:00Z' });
    assert.deepEqual(narrow.body.images.map((i) => i.id), ['alice/a2.jpg', 'bob/b1.jpg'].map(at));
    const seen = [];
    let cursor;
    do {
      const page = await photosOf({ ...window, limit: '1', ...(cursor ? { cursor } : {}) });
      assert.equal(page.status, 200);
      seen.push(...page.body.images.map((i) => i.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, all.body.images.map((i) => i.id));
    for (const bad of [{ from: window.from }, { from: window.from, to: window.from }, { from: '2026-05-03T00:00:00Z', to: '2026-05-03T06:00:01Z' }, { from: 'yesterday', to: window.to }]) {
      const r = await photosOf(bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      validate('Error', r.body);
      assert.equal(r.body.error.code, 'invalid_time_window');
    }
    assert.equal((await photosOf({ ...window, photographer: 'a/b' })).body.error.code, 'invalid_photographer');
    assert.equal((await photosOf({ ...window, photographer: 'x'.repeat(65) })).body.error.code, 'invalid_photographer');
    const folder = await photosOf({ ...window, photographer: 'Team B' });
    assert.equal(folder.status, 200, 'any folder name GET /photographers can list filters');
    assert.deepEqual(folder.body.images, []);
    assert.equal((await photosOf({ ...window, limit: '101' })).body.error.code, 'invalid_limit');
    const first = await photosOf({ ...window, limit: '1' });
    assert.equal((await photosOf({ from: '2026-05-03T12:00:00Z', to: '2026-05-03T13:00:00Z', cursor: first.body.nextCursor })).body.error.code, 'invalid_cursor', 'a cursor of another window');
    // What the daemon wrote: the time listings, in each photo's transaction.
    assert.equal((await query('PHOTOS')).length, 4);
    assert.deepEqual((await query('PHOTOS#bob')).map((i) => i.id.S), ['bob/b1.jpg', 'bob/b2.jpg'].map(at));
  });

  test('a window ending with a fraction of a second keeps the photo of that whole second', async () => {
    const r = await photosOf({ from: '2026-05-03T09:00:30Z', to: '2026-05-03T09:01:00.5Z' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.images.map((i) => i.id), [at('alice/a2.jpg')]);
    const before = await photosOf({ from: '2026-05-03T09:00:30Z', to: '2026-05-03T09:01:00.000Z' });
    assert.deepEqual(before.body.images, [], 'the end itself is not in the window');
  });

  test('photographers: for the place filter and in the status with their counts', async () => {
    const r = await getJson(`${daemon.url}/photographers`);
    assert.equal(r.status, 200);
    validate('PhotographerList', r.body);
    assert.deepEqual(r.body.photographers, [{ name: 'alice', photos: 2 }, { name: 'bob', photos: 2 }]);
    const counts = await getItem('COUNTS', 'PHOTOGRAPHER#bob');
    assert.equal(Number(counts.processed.N), 2);
    assert.equal(Number(counts.unmatched.N), 0);
    const st = await admin('status');
    assert.equal(st.status, 200);
    validate('AdminStatus', st.body);
    assert.deepEqual(st.body.photographers.find((p) => p.name === 'alice'), { name: 'alice', processed: 2, unmatched: 0, failed: 0, offsetSeconds: 0 });
    assert.equal(st.body.roster, null);
  });

  test('a photographer\'s clock offset corrects stored capture times', async () => {
    assert.equal((await admin('photographers/Bob/clock', { method: 'PUT', body: '{"offsetSeconds":60}' })).body.error.code, 'invalid_photographer');
    assert.equal((await admin('photographers/bob/clock', { method: 'PUT', body: '{"offsetSeconds":604801}' })).body.error.code, 'invalid_body');
    // As an operator sets it: `photofinish admin clock`, the same route.
    assert.equal((await adminCli(daemon.url, TOKEN, ['clock', 'Bob', '60'])).code, 2);
    assert.equal((await adminCli(daemon.url, TOKEN, ['clock', 'bob', '604801'])).code, 2);
    const cli = await adminCli(daemon.url, TOKEN, ['--json', 'clock', 'bob', '3600']);
    assert.equal(cli.code, 0, cli.stderr);
    const r = { body: JSON.parse(cli.stdout) };
    validate('ClockChange', r.body);
    assert.equal(r.body.offsetSeconds, 3600);
    assert.equal(r.body.job.kind, 'reprocess');
    const watched = await adminCli(daemon.url, TOKEN, ['watch', r.body.job.id]);
    assert.equal(watched.code, 0, watched.stdout + watched.stderr);
    assert.equal(Number((await getItem('CLOCK', 'bob')).offsetSeconds.N), 3600);
    await waitFor(async () => (await getItem(`IMAGE#${at('bob/b1.jpg')}`, 'IMAGE')).takenAt.S === '2026-05-03T10:02:00Z', { timeoutMs: 60000, what: 'b1 corrected' });
    await queueEmpty();
    const img = await getItem(`IMAGE#${at('bob/b2.jpg')}`, 'IMAGE');
    assert.equal(img.sortTime.S, '2026-05-03T10:03:00Z');
    assert.deepEqual(img.codes.L.map((c) => c.S), ['778'], 'manual codes kept');
    assert.equal((await getItem(`IMAGE#${at('alice/a1.jpg')}`, 'IMAGE')).takenAt.S, '2026-05-03T09:00:00Z', 'other photographers untouched');
    const moved = await photosOf({ from: '2026-05-03T10:00:00Z', to: '2026-05-03T10:10:00Z' });
    assert.deepEqual(moved.body.images.map((i) => [i.id, i.takenAt]), [[at('bob/b1.jpg'), '2026-05-03T10:02:00Z'], [at('bob/b2.jpg'), '2026-05-03T10:03:00Z']]);
    assert.equal((await query('PHOTOS')).length, 4, 'old time entries replaced, not added to');
    const st = await admin('status');
    assert.equal(st.body.photographers.find((p) => p.name === 'bob').offsetSeconds, 3600);
    const audit = await admin('audit');
    assert.ok(audit.body.entries.some((e) => e.action === 'photographer.clock' && e.photographer === 'bob' && e.offsetSeconds === 3600));
  });

  const claim = (body, from) => getJson(`${daemon.url}/claims`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': from }, body: JSON.stringify(body) });

  test('"this is me": a claim waits for an operator, who approves or rejects it', async () => {
    const from = client();
    const made = await claim({ photo: at('bob/b1.jpg'), code: ' 555 ' }, from);
    assert.equal(made.status, 202, JSON.stringify(made.body));
    validate('ClaimResponse', made.body);
    assert.deepEqual({ ...made.body.claim, id: undefined, at: undefined }, { id: undefined, at: undefined, photo: at('bob/b1.jpg'), code: '555', state: 'pending' });
    const again = await claim({ photo: at('bob/b1.jpg'), code: '555' }, from);
    assert.equal(again.status, 200);
    assert.equal(again.body.claim.id, made.body.claim.id);
    assert.equal((await getItem(`CLAIM#${made.body.claim.id}`, 'CLAIM')).state.S, 'pending');
    assert.deepEqual((await query('CLAIMS#pending')).map((i) => i.id.S), [made.body.claim.id]);
    assert.deepEqual((await participant('555', client())).body.images, [], 'not applied before approval');
    assert.equal((await claim({ photo: '0'.repeat(32), code: '555' }, from)).status, 404);
    const other = await claim({ photo: at('alice/a1.jpg'), code: '556' }, from);
    assert.equal(other.status, 202);
    for (const bad of [{}, { photo: 'x', code: '1' }, { photo: at('alice/a1.jpg') }]) assert.equal((await claim(bad, from)).body.error.code, 'invalid_body');
    assert.equal((await claim({ photo: at('alice/a1.jpg'), code: 'no way' }, from)).body.error.code, 'invalid_code');

    const listed = await admin('claims');
    assert.equal(listed.status, 200);
    validate('ClaimList', listed.body);
    assert.deepEqual(listed.body.claims.map((c) => c.id), [other.body.claim.id, made.body.claim.id], 'newest first');
    assert.equal(listed.body.claims[1].image.id, at('bob/b1.jpg'));
    const page = await admin('claims?limit=1');
    assert.equal(page.body.claims.length, 1);
    assert.ok(page.body.nextCursor);

    const approved = await admin(`claims/${made.body.claim.id}/approve`, { method: 'POST' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.claim.state, 'approved');
    const img = await getItem(`IMAGE#${at('bob/b1.jpg')}`, 'IMAGE');
    assert.deepEqual(img.codes.L.map((c) => c.S), ['10433', '555']);
    assert.equal(img.codesSource.S, 'manual');
    await waitFor(async () => (await participant('555', client())).body.images.length === 1, { timeoutMs: 5000, what: 'approved claim on the page' });
    assert.equal((await admin(`claims/${made.body.claim.id}/approve`, { method: 'POST' })).status, 409);
    // The other one as an operator at a terminal decides it: `photofinish admin claims`.
    const pending = await adminCli(daemon.url, TOKEN, ['claims']);
    assert.equal(pending.code, 0, pending.stderr);
    assert.match(pending.stdout, new RegExp(`${other.body.claim.id}\\s+556\\s+${at('alice/a1.jpg')}\\s+alice/a1\\.jpg\\s+pending`));
    assert.doesNotMatch(pending.stdout, new RegExp(made.body.claim.id), 'decided claims are not pending');
    assert.equal((await adminCli(daemon.url, TOKEN, ['claims', 'reject', 'not-an-id'])).code, 2);
    assert.equal((await adminCli(daemon.url, TOKEN, ['claims', 'approve', made.body.claim.id])).code, 1, 'decided already: 409');
    const rejectedCli = await adminCli(daemon.url, TOKEN, ['--json', 'claims', 'reject', other.body.claim.id]);
    assert.equal(rejectedCli.code, 0, rejectedCli.stderr);
    const rejected = { body: JSON.parse(rejectedCli.stdout) };
    assert.equal(rejected.body.claim.state, 'rejected');
    assert.deepEqual((await getItem(`IMAGE#${at('alice/a1.jpg')}`, 'IMAGE')).codes.L.map((c) => c.S), ['10423']);
    assert.deepEqual((await query('CLAIMS#pending')), []);
    assert.deepEqual((await admin('claims?state=approved')).body.claims.map((c) => c.id), [made.body.claim.id]);
    assert.equal((await admin(`claims/${'f'.repeat(32)}/approve`, { method: 'POST' })).status, 404);
    const audit = (await admin('audit')).body.entries;
    assert.ok(audit.some((e) => e.action === 'claim.approve' && e.code === '555' && e.outcome === 'ok'));
    assert.ok(audit.some((e) => e.action === 'claim.reject' && e.outcome === 'ok'));
  });

  test('approving and rejecting one claim at the same instant: one wins, and the photo agrees with it', async () => {
    const outcomes = new Set();
    for (let i = 0; i < 6; i++) {
      const code = `71${i}`;
      const made = await claim({ photo: at('bob/b1.jpg'), code }, client());
      assert.equal(made.status, 202, JSON.stringify(made.body));
      const id = made.body.claim.id;
      // Two operators click opposite buttons together.
      const [approve, reject] = await Promise.all([admin(`claims/${id}/approve`, { method: 'POST' }), admin(`claims/${id}/reject`, { method: 'POST' })]);
      assert.deepEqual([approve.status, reject.status].sort(), [200, 409], `one decision wins: ${approve.status} ${reject.status}`);
      const state = (await getItem(`CLAIM#${id}`, 'CLAIM')).state.S;
      assert.equal(state, approve.status === 200 ? 'approved' : 'rejected');
      const codes = (await getItem(`IMAGE#${at('bob/b1.jpg')}`, 'IMAGE')).codes.L.map((c) => c.S);
      assert.equal(codes.includes(code), state === 'approved', `${code} on the photo (${codes}) only if the claim is approved (${state})`);
      outcomes.add(state);
      // An approved code goes again, so the tests after this one see the photo as before.
      if (state === 'approved') {
        const removed = await admin(`images/${at('bob/b1.jpg')}/codes`, { method: 'PATCH', body: JSON.stringify({ remove: [code] }) });
        assert.equal(removed.status, 200, JSON.stringify(removed.body));
      }
    }
    assert.ok(outcomes.has('rejected'), 'the race was run: a rejection won at least once');
  });

  test('claims are limited per client: 5, then 429', async () => {
    const from = client();
    for (let i = 0; i < 5; i++) assert.equal((await claim({ photo: at('alice/a2.jpg'), code: `60${i}` }, from)).status, 202);
    const limited = await claim({ photo: at('alice/a2.jpg'), code: '610' }, from);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) > 100);
  });

  test('an erasure rejects the pending claims of its code, so none can put it back', async () => {
    const pending = await claim({ photo: at('alice/a2.jpg'), code: '4242' }, client());
    assert.equal(pending.status, 202);
    const started = await admin('erase', { method: 'POST', body: JSON.stringify({ code: '4242', confirm: '4242' }) });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    await waitFor(async () => (await admin(`jobs/${started.body.id}`)).body.state === 'done', { timeoutMs: 30000, what: 'erase done' });
    assert.equal((await getItem(`CLAIM#${pending.body.claim.id}`, 'CLAIM')).state.S, 'rejected');
    assert.equal((await admin(`claims/${pending.body.claim.id}/approve`, { method: 'POST' })).status, 409);
    assert.ok(!(await getItem(`IMAGE#${at('alice/a2.jpg')}`, 'IMAGE')).codes.L.some((c) => c.S === '4242'));
  });

  test('a roster: registered, suggestions kept to it, unregistered codes for operators', async () => {
    const roster = `s3://${env.PHOTOFINISH_INGRESS_BUCKET}/roster.csv`;
    const putRoster = (text) => stack.s3.send(new PutObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: 'roster.csv', Body: text }));
    await putRoster('Bib,Name\r\n10423,Ada\r\n10433,Grace\r\n10432,Alan\r\n');
    await queueEmpty();
    await daemon.stop();
    daemon = await startDaemon(env, { env: { PHOTOFINISH_ADMIN_TOKEN: TOKEN, PHOTOFINISH_TRUST_FORWARDED_FOR: '1', PHOTOFINISH_CACHE_TTL: '1', PHOTOFINISH_ROSTER: roster, PHOTOFINISH_ROSTER_CODES: '778' } });
    await waitFor(async () => (await admin('status')).body.roster?.codes === 4, { timeoutMs: 10000, what: 'roster read' });
    const st = await admin('status');
    validate('AdminStatus', st.body);

    const registered = await participant('10432', client());
    validate('ParticipantResponse', registered.body);
    assert.equal(registered.body.registered, true, 'on the roster, no photos yet');
    assert.deepEqual(registered.body.suggestions, [{ code: '10423', photos: 2 }, { code: '10433', photos: 2 }]);
    const unknown = await participant('556', client());
    assert.equal(unknown.body.registered, false);
    assert.deepEqual(unknown.body.suggestions, [], '555 has a photo but is on no roster');
    assert.equal((await participant('10423', client())).body.registered, true);
    assert.equal((await participant('778', client())).body.registered, true, 'from PHOTOFINISH_ROSTER_CODES');

    const un = await admin('unregistered');
    assert.equal(un.status, 200);
    validate('UnregisteredCodes', un.body);
    assert.deepEqual(un.body.codes, [{ code: '555', photos: 1 }]);

    // The roster object is not a photo, and a new version is read within a minute.
    await putRoster('code\n10423\n10433\n10432\n555\n');
    await queueEmpty();
    assert.ok(daemon.logs.some((l) => l.msg === 'roster object skipped' && l.key === 'roster.csv'), 'the consumer skipped the roster');
    assert.equal(await getItem(`IMAGE#${imageId(env.PHOTOFINISH_INGRESS_BUCKET, 'roster.csv')}`, 'IMAGE'), undefined);
  });
});
