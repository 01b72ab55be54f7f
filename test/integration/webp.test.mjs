// WebP variants: written next to the JPEGs, answered by the API, removed with
// them (new versions, deletions), and not written with PHOTOFINISH_WEBP=0;
// checked with the AWS SDK v3 against the real daemon and local stack.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { startStack, waitFor } from './lib/stack.mjs';
import { getJson, startDaemon } from './lib/daemon.mjs';
import { imageId, inspectJpeg, makePhotos } from './lib/photos.mjs';
import { validate } from './lib/openapi.mjs';

const TOKEN = 'admin-token-for-webp-tests-0123456789';
const CACHE_CONTROL = 'public, max-age=31536000, immutable';
const specs = [
  { file: 'w1.jpg', codes: ['10423'], seed: 31, takenAt: '2026:05:03 09:00:00' },
  { file: 'w2.jpg', codes: [], seed: 32, takenAt: '2026:05:03 09:01:00' },
  { file: 'w3.jpg', codes: ['10423'], seed: 33, takenAt: '2026:05:03 09:02:00' },
  { file: 'w3b.jpg', codes: ['10423'], seed: 34, takenAt: '2026:05:03 09:02:00' },
  { file: 'w5.jpg', codes: ['30001'], seed: 35, takenAt: '2026:05:03 09:05:00' },
];
const WEBP_KEYS = ['fullsizeWebpKey', 'thumbnailWebpKey'];
const ALL_KEYS = ['fullsizeKey', 'thumbnailKey', ...WEBP_KEYS];

/** A lossy WebP in the simple format: { width, height } of its VP8 key frame, or throws. */
function inspectWebp(buf) {
  if (buf.subarray(0, 4).toString('latin1') !== 'RIFF' || buf.subarray(8, 12).toString('latin1') !== 'WEBP') throw new Error('not a WebP file');
  if (buf.readUInt32LE(4) + 8 !== buf.length) throw new Error('RIFF size does not match');
  if (buf.subarray(12, 16).toString('latin1') !== 'VP8 ') throw new Error(`first chunk is ${buf.subarray(12, 16).toString('latin1')}, not VP8`);
  if (buf[23] !== 0x9d || buf[24] !== 0x01 || buf[25] !== 0x2a) throw new Error('no VP8 key frame start code');
  return { width: buf.readUInt16LE(26) & 0x3fff, height: buf.readUInt16LE(28) & 0x3fff };
}

describe('WebP variants', () => {
  let stack, daemon, env, dir;
  const ids = {};
  const admin = (p, init = {}) => getJson(`${daemon.url}/admin/${p}`, {
    ...init, headers: { Authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) },
  });
  const item = async (id) => (await stack.ddb.send(new GetItemCommand({ TableName: env.PHOTOFINISH_TABLE, Key: { pk: { S: `IMAGE#${id}` }, sk: { S: 'IMAGE' } } }))).Item;
  const query = async (pk) => (await stack.ddb.send(new QueryCommand({
    TableName: env.PHOTOFINISH_TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } },
  }))).Items;
  const put = (key, file) => stack.s3.send(new PutObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: key, Body: readFileSync(path.join(dir, file)) }));
  const head = (Key) => stack.s3.send(new HeadObjectCommand({ Bucket: env.PHOTOFINISH_PROCESSED_BUCKET, Key }));
  const body = async (Key) => {
    const r = await stack.s3.send(new GetObjectCommand({ Bucket: env.PHOTOFINISH_PROCESSED_BUCKET, Key }));
    return Buffer.from(await r.Body.transformToByteArray());
  };
  const gone = (Key) => assert.rejects(head(Key), (e) => e.$metadata?.httpStatusCode === 404 || /NotFound|NoSuchKey/.test(e.name), `${Key} deleted`);
  const participant = (code) => getJson(`${daemon.url}/participants/${code}`);
  const queueEmpty = () => waitFor(async () => {
    const r = await stack.sqs.send(new GetQueueAttributesCommand({ QueueUrl: env.PHOTOFINISH_QUEUE_URL, AttributeNames: ['All'] }));
    return r.Attributes.ApproximateNumberOfMessages === '0' && r.Attributes.ApproximateNumberOfMessagesNotVisible === '0';
  }, { timeoutMs: 30000, what: 'queue empty' });
  const newVersion = (id, than) => waitFor(async () => {
    const it = await item(id);
    return it && Number(it.version.N) > than && it;
  }, { timeoutMs: 30000, what: `a new version of ${id}` });
  const startWith = (extra) => startDaemon(env, { env: { PHOTOFINISH_ADMIN_TOKEN: TOKEN, PHOTOFINISH_CACHE_TTL: '0', ...extra } });

  before(async () => {
    stack = await startStack();
    env = stack.env;
    dir = makePhotos(specs);
    for (const s of specs) ids[s.file] = imageId(env.PHOTOFINISH_INGRESS_BUCKET, s.file);
    // The daemon's default: WebP on.
    daemon = await startWith({});
    for (const f of ['w1.jpg', 'w2.jpg', 'w3.jpg']) await put(f, f);
    await waitFor(async () => (await Promise.all(['w1.jpg', 'w2.jpg', 'w3.jpg'].map((f) => item(ids[f])))).every(Boolean),
      { timeoutMs: 60000, intervalMs: 250, what: 'photos processed' });
    await queueEmpty();
  });

  after(async () => {
    await daemon?.stop();
    await stack?.stop();
  });

  test('both variants are also written as WebP, next to the JPEGs, and listed in the catalog', async () => {
    for (const f of ['w1.jpg', 'w2.jpg', 'w3.jpg']) {
      const id = ids[f];
      const img = await item(id);
      assert.equal(img.status.S, 'processed');
      assert.match(img.fullsizeWebpKey.S, new RegExp(`^fullsize/${id}-[0-9A-Za-z]{1,16}\\.webp$`));
      assert.match(img.thumbnailWebpKey.S, new RegExp(`^thumbnail/${id}-[0-9A-Za-z]{1,16}\\.webp$`));
      // Same tag rule: the WebP key is the JPEG key with the other extension.
      assert.equal(img.fullsizeWebpKey.S, img.fullsizeKey.S.replace(/\.jpg$/, '.webp'));
      assert.equal(img.thumbnailWebpKey.S, img.thumbnailKey.S.replace(/\.jpg$/, '.webp'));
      const jpegHead = await head(img.fullsizeKey.S);
      for (const [k, type] of [['fullsizeKey', 'image/jpeg'], ['thumbnailKey', 'image/jpeg'], ['fullsizeWebpKey', 'image/webp'], ['thumbnailWebpKey', 'image/webp']]) {
        const h = await head(img[k].S);
        assert.equal(h.ContentType, type, `${f} ${k}`);
        // The local stack may not keep Cache-Control: the same as the JPEG's, whatever it keeps.
        assert.equal(h.CacheControl, jpegHead.CacheControl, `${f} ${k}`);
        if (h.CacheControl !== undefined) assert.equal(h.CacheControl, CACHE_CONTROL);
      }
      const full = inspectWebp(await body(img.fullsizeWebpKey.S));
      const thumb = inspectWebp(await body(img.thumbnailWebpKey.S));
      assert.deepEqual([full.width, full.height], [Number(img.width.N), Number(img.height.N)]);
      assert.deepEqual([thumb.width, thumb.height], [Number(img.thumbnailWidth.N), Number(img.thumbnailHeight.N)]);
      // The JPEGs stay as the catalog promises them.
      const jpeg = inspectJpeg(await body(img.fullsizeKey.S));
      assert.deepEqual([jpeg.width, jpeg.height], [full.width, full.height]);
      assert.equal(jpeg.progressive, true);
      // Every listing entry carries the WebP keys too.
      const entries = [...await query('CODE#10423'), ...await query('UNMATCHED')].filter((e) => e.id.S === id);
      assert.equal(entries.length, 1, `${f}: one code or unmatched entry`);
      for (const k of WEBP_KEYS) assert.equal(entries[0][k].S, img[k].S, `${f} entry ${k}`);
    }
    // Their encode time is a stage of its own, and in the log line.
    const m = await (await fetch(`${daemon.url}/metrics`)).text();
    assert.match(m, /^photofinish_stage_seconds_count\{stage="webp"\} 3$/m);
    const logged = daemon.logs.filter((l) => l.msg === 'image processed');
    assert.equal(logged.length, 3);
    for (const l of logged) assert.ok(l.webpMs > 0 && l.webpMs <= l.variantsMs, JSON.stringify(l));
  });

  test('the API answers WebP URLs that serve those objects', async () => {
    const r = await participant('10423');
    assert.equal(r.status, 200);
    validate('ParticipantResponse', r.body);
    assert.deepEqual(r.body.images.map((i) => i.id), [ids['w1.jpg'], ids['w3.jpg']]);
    for (const i of r.body.images) {
      const img = await item(i.id);
      for (const [url, key] of [[i.thumbnailWebpUrl, 'thumbnailWebpKey'], [i.fullsizeWebpUrl, 'fullsizeWebpKey']]) {
        assert.match(url, /^https?:\/\//);
        const res = await fetch(url);
        assert.equal(res.status, 200, key);
        assert.equal(res.headers.get('content-type'), 'image/webp', key);
        assert.deepEqual(Buffer.from(await res.arrayBuffer()), await body(img[key].S), key);
      }
      assert.equal((await fetch(i.thumbnailUrl)).headers.get('content-type'), 'image/jpeg');
    }
    const un = await admin('unmatched');
    assert.equal(un.status, 200);
    validate('AdminImagePage', un.body);
    assert.deepEqual(un.body.images.map((i) => i.id), [ids['w2.jpg']]);
    assert.equal((await fetch(un.body.images[0].fullsizeWebpUrl)).status, 200);
    const rec = await admin(`images/${ids['w2.jpg']}`);
    assert.equal(rec.status, 200);
    validate('ImageRecord', rec.body);
    const w2 = await item(ids['w2.jpg']);
    assert.equal(rec.body.fullsizeWebpKey, w2.fullsizeWebpKey.S);
    assert.equal(rec.body.thumbnailWebpKey, w2.thumbnailWebpKey.S);
  });

  test('a new version of a photo replaces its WebP objects too', async () => {
    const before = await item(ids['w3.jpg']);
    await put('w3.jpg', 'w3b.jpg');
    const after = await newVersion(ids['w3.jpg'], Number(before.version.N));
    for (const k of ALL_KEYS) assert.notEqual(after[k].S, before[k].S, k);
    for (const k of WEBP_KEYS) inspectWebp(await body(after[k].S));
    await queueEmpty();
    await waitFor(async () => {
      const left = await Promise.all(ALL_KEYS.map((k) => head(before[k].S).then(() => true, () => false)));
      return left.every((x) => !x);
    }, { timeoutMs: 10000, what: 'superseded variants deleted' });
  });

  test('deleting a photo removes its WebP objects with the JPEGs', async () => {
    // The source deleted from the ingress bucket.
    const w1 = await item(ids['w1.jpg']);
    await stack.s3.send(new DeleteObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: 'w1.jpg' }));
    await waitFor(async () => (await item(ids['w1.jpg'])).status.S === 'deleted', { timeoutMs: 30000, what: 'w1 deleted' });
    const tomb = await item(ids['w1.jpg']);
    for (const k of ALL_KEYS) {
      assert.equal(tomb[k], undefined, `tombstone has no ${k}`);
      await gone(w1[k].S);
    }
    // An operator's delete.
    const w3 = await item(ids['w3.jpg']);
    const r = await admin(`images/${ids['w3.jpg']}`, { method: 'DELETE' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    validate('ImageRecord', r.body);
    assert.equal(r.body.fullsizeWebpKey, null);
    for (const k of ALL_KEYS) await gone(w3[k].S);
    assert.deepEqual((await participant('10423')).body.images, []);
    await queueEmpty();
  });

  test('PHOTOFINISH_WEBP=0 writes JPEG only, drops a new version\'s old WebP objects, and the API answers null', async () => {
    await daemon.stop();
    daemon = await startWith({ PHOTOFINISH_WEBP: '0' });
    const w2 = await item(ids['w2.jpg']);
    // The same bytes again: same JPEG keys, and the WebP ones go.
    await put('w2.jpg', 'w2.jpg');
    const again = await newVersion(ids['w2.jpg'], Number(w2.version.N));
    assert.equal(again.fullsizeKey.S, w2.fullsizeKey.S);
    for (const k of WEBP_KEYS) assert.equal(again[k], undefined, k);
    await put('w5.jpg', 'w5.jpg');
    const w5 = await newVersion(ids['w5.jpg'], 0);
    for (const k of WEBP_KEYS) assert.equal(w5[k], undefined, k);
    assert.doesNotMatch(await (await fetch(`${daemon.url}/metrics`)).text(), /stage="webp"/);
    await queueEmpty();
    await waitFor(async () => {
      const left = await Promise.all(WEBP_KEYS.map((k) => head(w2[k].S).then(() => true, () => false)));
      return left.every((x) => !x);
    }, { timeoutMs: 10000, what: 'WebP objects of the old version deleted' });
    const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: env.PHOTOFINISH_PROCESSED_BUCKET }));
    assert.deepEqual((listed.Contents ?? []).map((o) => o.Key).filter((k) => k.endsWith('.webp')), [], 'no WebP object left');

    const r = await participant('30001');
    assert.equal(r.status, 200);
    validate('ParticipantResponse', r.body);
    assert.equal(r.body.images.length, 1);
    assert.equal(r.body.images[0].thumbnailWebpUrl, null);
    assert.equal(r.body.images[0].fullsizeWebpUrl, null);
    assert.equal((await fetch(r.body.images[0].thumbnailUrl)).status, 200);
    const un = await admin('unmatched');
    validate('AdminImagePage', un.body);
    assert.equal(un.body.images[0].fullsizeWebpUrl, null);
    const rec = await admin(`images/${ids['w5.jpg']}`);
    validate('ImageRecord', rec.body);
    assert.equal(rec.body.thumbnailWebpKey, null);
  });
});
