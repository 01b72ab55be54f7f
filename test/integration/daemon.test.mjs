// End to end: photos uploaded to the ingress bucket come out as variants,
// catalog items and participant answers; checked with the AWS SDK v3.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { startStack, waitFor } from './lib/stack.mjs';
import { getJson, startDaemon } from './lib/daemon.mjs';
import { imageId, inspectJpeg, makePhotos } from './lib/photos.mjs';
import { validate } from './lib/openapi.mjs';

const specs = [
  { file: 'p1.jpg', codes: ['10423'], takenAt: '2026:05:03 09:14:07', seed: 1 },
  { file: 'p2.jpg', codes: ['10423', '20577'], takenAt: '2026:05:03 09:20:00', seed: 2 },
  { file: 'race day/IMG+3 é.jpg', codes: ['20577'], takenAt: '2026:05:03 09:05:00', seed: 3 },
  { file: 'p4.jpg', codes: [], takenAt: '2026:05:03 09:30:00', seed: 4 },
  { file: 'p5.jpg', codes: ['10423'], gps: true, seed: 5, width: 3000, height: 2000 },
  // A code with letters, printed in lower case: stored and answered upper-cased.
  { file: 'p6.jpg', codes: ['ab-7'], takenAt: '2026:05:03 09:40:00', seed: 6 },
];
const truth = { 10423: ['p1.jpg', 'p2.jpg', 'p5.jpg'], 20577: ['race day/IMG+3 é.jpg', 'p2.jpg'] };

async function body(s3, Bucket, Key) {
  const r = await s3.send(new GetObjectCommand({ Bucket, Key }));
  return Buffer.from(await r.Body.transformToByteArray());
}

async function queueIsEmpty(sqs, QueueUrl) {
  const r = await sqs.send(new GetQueueAttributesCommand({
    QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
  }));
  return r.Attributes.ApproximateNumberOfMessages === '0' && r.Attributes.ApproximateNumberOfMessagesNotVisible === '0';
}

describe('photofinishd end to end', () => {
  let stack, daemon, dir, env;
  const getItem = (pk, sk) => stack.ddb.send(new GetItemCommand({ TableName: env.PHOTOFINISH_TABLE, Key: { pk: { S: pk }, sk: { S: sk } } }));
  const query = (pk) => stack.ddb.send(new QueryCommand({
    TableName: env.PHOTOFINISH_TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: pk } },
  }));
  const participant = (code, q = '') => getJson(`${daemon.url}/participants/${encodeURIComponent(code)}${q}`);
  const put = (key, bytes) => stack.s3.send(new PutObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: key, Body: bytes }));

  before(async () => {
    stack = await startStack();
    env = stack.env;
    daemon = await startDaemon(env, { env: { PHOTOFINISH_CORS_ORIGINS: 'https://gallery.example', PHOTOFINISH_CACHE_TTL: '1' } });
    dir = makePhotos(specs);
    for (const s of specs) await put(s.file, readFileSync(path.join(dir, s.file)));
    await put('notes.txt', 'not a photo');
    await put('broken.jpg', 'this is text, not a JPEG');
    await waitFor(async () => {
      const images = await query('FAILED');
      const all = await Promise.all(specs.map((s) => getItem(`IMAGE#${imageId(env.PHOTOFINISH_INGRESS_BUCKET, s.file)}`, 'IMAGE')));
      return images.Items.length === 1 && all.every((r) => r.Item);
    }, { timeoutMs: 60000, intervalMs: 250, what: 'all photos processed' });
  });

  after(async () => {
    await daemon?.stop();
    await stack?.stop();
  });

  test('every code answers with exactly its photos, oldest first', async () => {
    for (const [code, files] of Object.entries(truth)) {
      const r = await participant(code);
      assert.equal(r.status, 200);
      assert.equal(r.body.participant, code);
      assert.deepEqual(r.body.images.map((i) => i.id), files.map((f) => imageId(env.PHOTOFINISH_INGRESS_BUCKET, f)), `photos of ${code}`);
      assert.equal(r.body.nextCursor, null);
      validate('ParticipantResponse', r.body);
    }
    const none = await participant('99999');
    assert.equal(none.status, 200);
    assert.deepEqual(none.body.images, []);
  });

  test('codes are matched case-insensitively', async () => {
    const p6 = imageId(env.PHOTOFINISH_INGRESS_BUCKET, 'p6.jpg');
    for (const code of ['ab-7', 'AB-7', 'Ab-7', ' ab-7 ']) {
      const r = await participant(code);
      assert.equal(r.status, 200, code);
      assert.equal(r.body.participant, 'AB-7', code);
      assert.deepEqual(r.body.images.map((i) => i.id), [p6], `photos of ${JSON.stringify(code)}`);
    }
    for (const code of ['ab-8', 'ab7', 'b-7']) {
      const r = await participant(code);
      assert.equal(r.status, 200, code);
      assert.deepEqual(r.body.images, [], `no photos for ${code}`);
    }
  });

  test('variants exist, fit their bounds, carry no metadata, and URLs serve them', async () => {
    const r = await participant('10423');
    for (const img of r.body.images) {
      assert.ok(img.width <= 2000 && img.height <= 2000 && Math.max(img.width, img.height) === 2000);
      assert.ok(img.thumbnailWidth <= 500 && img.thumbnailHeight <= 500 && Math.max(img.thumbnailWidth, img.thumbnailHeight) === 500);
      const full = Buffer.from(await (await fetch(img.fullsizeUrl)).arrayBuffer());
      const thumb = Buffer.from(await (await fetch(img.thumbnailUrl)).arrayBuffer());
      const fi = inspectJpeg(full);
      const ti = inspectJpeg(thumb);
      assert.deepEqual([fi.width, fi.height], [img.width, img.height]);
      assert.deepEqual([ti.width, ti.height], [img.thumbnailWidth, img.thumbnailHeight]);
      assert.equal(fi.progressive, true, 'fullsize is progressive');
      for (const i of [fi, ti]) {
        assert.equal(i.exif, false, 'no EXIF');
        assert.equal(i.xmp, false, 'no XMP');
        assert.equal(i.iptc, false, 'no IPTC');
      }
      assert.ok(!full.includes(Buffer.from('GPS')), 'no GPS anywhere');
    }
    const p5 = r.body.images.find((i) => i.id === imageId(env.PHOTOFINISH_INGRESS_BUCKET, 'p5.jpg'));
    assert.equal(p5.takenAt, null, 'no capture time when the photo has none');
    assert.match(r.body.images[0].takenAt, /^2026-05-03T09:14:07/);
  });

  test('catalog items follow the documented layout', async () => {
    const bucket = env.PHOTOFINISH_INGRESS_BUCKET;
    const id = imageId(bucket, 'p2.jpg');
    const { Item: img } = await getItem(`IMAGE#${id}`, 'IMAGE');
    assert.equal(img.status.S, 'processed');
    assert.equal(img.bucket.S, bucket);
    assert.equal(img.key.S, 'p2.jpg');
    assert.deepEqual(img.codes.L.map((c) => c.S), ['10423', '20577']);
    assert.equal(img.codesSource.S, 'detected');
    assert.match(img.fullsizeKey.S, new RegExp(`^fullsize/${id}`));
    assert.match(img.thumbnailKey.S, new RegExp(`^thumbnail/${id}`));
    for (const k of ['width', 'height', 'thumbnailWidth', 'thumbnailHeight', 'version', 'size']) assert.ok(Number(img[k].N) > 0, k);
    assert.ok(img.sequencer.S.length === 32);
    assert.match(img.processedAt.S, /^\d{4}-\d\d-\d\dT/);
    for (const code of ['10423', '20577']) {
      const entries = (await query(`CODE#${code}`)).Items.filter((e) => e.id.S === id);
      assert.equal(entries.length, 1);
      assert.equal(entries[0].sk.S, `${img.sortTime.S}#${id}`);
      assert.equal(entries[0].fullsizeKey.S, img.fullsizeKey.S);
    }
    const unmatched = (await query('UNMATCHED')).Items.map((e) => e.id.S);
    assert.deepEqual(unmatched, [imageId(bucket, 'p4.jpg')]);
    const failed = (await query('FAILED')).Items;
    assert.equal(failed.length, 1);
    assert.equal(failed[0].key.S, 'broken.jpg');
    const { Item: bad } = await getItem(`IMAGE#${imageId(bucket, 'broken.jpg')}`, 'IMAGE');
    assert.equal(bad.status.S, 'failed');
    assert.ok(bad.reason.S.length > 0 && bad.message.S.length > 0);
    const { Item: notes } = await getItem(`IMAGE#${imageId(bucket, 'notes.txt')}`, 'IMAGE');
    assert.equal(notes, undefined, 'non-image keys are skipped');
  });

  test('a key with spaces, + and unicode works', async () => {
    const r = await participant('20577');
    assert.equal(r.body.images[0].id, imageId(env.PHOTOFINISH_INGRESS_BUCKET, 'race day/IMG+3 é.jpg'));
    assert.equal((await fetch(r.body.images[0].thumbnailUrl)).status, 200);
  });

  test('nothing is left in flight', async () => {
    await waitFor(() => queueIsEmpty(stack.sqs, env.PHOTOFINISH_QUEUE_URL), { timeoutMs: 15000, what: 'queue empty' });
    assert.equal(await queueIsEmpty(stack.sqs, env.PHOTOFINISH_DLQ_URL), true);
  });

  test('the same bytes again leave identical data', async () => {
    const bucket = env.PHOTOFINISH_INGRESS_BUCKET;
    const id = imageId(bucket, 'p1.jpg');
    const before = (await getItem(`IMAGE#${id}`, 'IMAGE')).Item;
    const fullBefore = await body(stack.s3, env.PHOTOFINISH_PROCESSED_BUCKET, before.fullsizeKey.S);
    const entriesBefore = (await query('CODE#10423')).Items;
    await put('p1.jpg', readFileSync(path.join(dir, 'p1.jpg')));
    const after = await waitFor(async () => {
      const it = (await getItem(`IMAGE#${id}`, 'IMAGE')).Item;
      return Number(it.version.N) > Number(before.version.N) && it;
    }, { timeoutMs: 30000, what: 'reprocessed' });
    const strip = (it) => { const { version, sequencer, processedAt, ...rest } = it; return rest; };
    assert.deepEqual(strip(after), strip(before));
    assert.deepEqual(await body(stack.s3, env.PHOTOFINISH_PROCESSED_BUCKET, after.fullsizeKey.S), fullBefore);
    assert.deepEqual((await query('CODE#10423')).Items, entriesBefore);
  });

  test('deleting a source removes its variants and every record', async () => {
    const bucket = env.PHOTOFINISH_INGRESS_BUCKET;
    const id = imageId(bucket, 'race day/IMG+3 é.jpg');
    const { Item: img } = await getItem(`IMAGE#${id}`, 'IMAGE');
    await stack.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'race day/IMG+3 é.jpg' }));
    await waitFor(async () => (await getItem(`IMAGE#${id}`, 'IMAGE')).Item.status.S === 'deleted', { timeoutMs: 30000, what: 'deleted' });
    assert.equal((await query('CODE#20577')).Items.some((e) => e.id.S === id), false);
    await assert.rejects(body(stack.s3, env.PHOTOFINISH_PROCESSED_BUCKET, img.fullsizeKey.S), /NoSuchKey|not exist|404/i);
    await assert.rejects(body(stack.s3, env.PHOTOFINISH_PROCESSED_BUCKET, img.thumbnailKey.S), /NoSuchKey|not exist|404/i);
    await waitFor(async () => {
      const r = await participant('20577');
      return r.body.images.length === 1;
    }, { timeoutMs: 5000, what: 'cache expired' });
  });

  test('API errors are JSON with the documented codes', async () => {
    let r = await participant('bad code!');
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'invalid_code');
    validate('Error', r.body);
    r = await participant('x'.repeat(65));
    assert.equal(r.status, 400);
    r = await participant('10423', '?limit=0');
    assert.equal(r.body.error.code, 'invalid_limit');
    r = await participant('10423', '?limit=501');
    assert.equal(r.status, 400);
    r = await participant('10423', '?cursor=%%%');
    assert.equal(r.status, 400);
    r = await participant('10423', '?cursor=bm90LWEtY3Vyc29y');
    assert.equal(r.body.error.code, 'invalid_cursor');
    r = await getJson(`${daemon.url}/nope`);
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'not_found');
    r = await getJson(`${daemon.url}/participants/10423`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET, HEAD, OPTIONS');
    assert.equal(r.body.error.code, 'method_not_allowed');
  });

  test('pagination with an opaque cursor walks every photo once', async () => {
    const all = (await participant('10423')).body.images.map((i) => i.id);
    const seen = [];
    let cursor = null;
    for (let page = 0; page < 10; page++) {
      const r = await participant('10423', `?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.images.length, 1, 'a cursor never leads to an empty page');
      seen.push(...r.body.images.map((i) => i.id));
      cursor = r.body.nextCursor;
      if (!cursor) break;
    }
    assert.deepEqual(seen, all);
  });

  test('ETag, If-None-Match, Cache-Control and CORS', async () => {
    const r = await fetch(`${daemon.url}/participants/10423`, { headers: { Origin: 'https://gallery.example' } });
    assert.equal(r.status, 200);
    const etag = r.headers.get('etag');
    assert.match(etag, /^"[0-9a-f]{16}"$/);
    assert.match(r.headers.get('cache-control'), /max-age=\d+/);
    assert.equal(r.headers.get('access-control-allow-origin'), 'https://gallery.example');
    const again = await fetch(`${daemon.url}/participants/10423`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    const other = await fetch(`${daemon.url}/participants/10423`, { headers: { Origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const pre = await fetch(`${daemon.url}/participants/10423`, { method: 'OPTIONS', headers: { Origin: 'https://gallery.example' } });
    assert.equal(pre.status, 204);
  });

  test('health, readiness and metrics', async () => {
    assert.equal((await getJson(`${daemon.url}/healthz`)).status, 200);
    const ready = await getJson(`${daemon.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready');
    const m = await (await fetch(`${daemon.url}/metrics`)).text();
    assert.match(m, /^photofinish_images_total\{outcome="processed"\} [1-9]/m);
    assert.match(m, /^photofinish_images_failed_total\{reason="[a-z_]+"\} 1$/m);
    assert.match(m, /^photofinish_stage_seconds_bucket\{stage="scan",le="\+Inf"\} [1-9]/m);
    assert.match(m, /^photofinish_api_requests_total\{route="\/participants\/\{code\}",status="200"\} [1-9]/m);
    assert.match(m, /^photofinish_api_request_seconds_count\{route="\/participants\/\{code\}"\} [1-9]/m);
    assert.match(m, /^photofinish_aws_calls_total\{service="sqs",operation="ReceiveMessage",outcome="success"\} [1-9]/m);
    assert.match(m, /^photofinish_queue_inflight_messages \d+/m);
  });

  test('logs are JSON lines with one line per image and per request, nothing secret', async () => {
    assert.ok(daemon.logs.every((l) => !l.unparsable), 'every stdout line is JSON');
    for (const l of daemon.logs) {
      assert.match(l.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(['debug', 'info', 'warn', 'error'].includes(l.level));
      assert.equal(typeof l.msg, 'string');
    }
    const processed = daemon.logs.filter((l) => l.msg === 'image processed');
    assert.ok(processed.length >= specs.length);
    for (const l of processed) for (const k of ['key', 'id', 'codes', 'decodeMs', 'scanMs', 'variantsMs', 'totalMs']) assert.ok(k in l, k);
    assert.ok(daemon.logs.some((l) => l.msg === 'api request' && l.route === '/participants/{code}' && l.status === 200));
    const all = daemon.lines.join('\n');
    assert.ok(!all.includes(env.AWS_SECRET_ACCESS_KEY), 'no secret key');
    assert.ok(!/X-Amz-Signature|Signature=/.test(all), 'no signatures');
  });
});
