// The operators' admin API: listings, manual codes, delete one photo,
// reprocess the bucket, clear a race; checked with the AWS SDK v3.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { startStack, waitFor } from './lib/stack.mjs';
import { getJson, startDaemon } from './lib/daemon.mjs';
import { imageId, makePhotos } from './lib/photos.mjs';

const TOKEN = 'admin-token-for-tests-0123456789';

describe('admin API', () => {
  let stack, daemon, env, ids;
  const admin = (p, init = {}) => getJson(`${daemon.url}/admin/${p}`, {
    ...init, headers: { Authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) },
  });
  const item = async (id) => (await stack.ddb.send(new GetItemCommand({ TableName: env.PHOTOFINISH_TABLE, Key: { pk: { S: `IMAGE#${id}` }, sk: { S: 'IMAGE' } } }))).Item;
  const participant = async (code) => (await getJson(`${daemon.url}/participants/${code}`)).body.images.map((i) => i.id);
  const queueEmpty = () => waitFor(async () => {
    const r = await stack.sqs.send(new GetQueueAttributesCommand({ QueueUrl: env.PHOTOFINISH_QUEUE_URL, AttributeNames: ['All'] }));
    return r.Attributes.ApproximateNumberOfMessages === '0' && r.Attributes.ApproximateNumberOfMessagesNotVisible === '0';
  }, { timeoutMs: 30000, what: 'queue empty' });
  const job = (id) => waitFor(async () => {
    const r = await admin(`jobs/${id}`);
    return r.body.state !== 'running' && r.body;
  }, { timeoutMs: 30000, what: `job ${id}` });

  before(async () => {
    stack = await startStack();
    env = stack.env;
    daemon = await startDaemon(env, { env: { PHOTOFINISH_ADMIN_TOKEN: TOKEN, PHOTOFINISH_CACHE_TTL: '60' } });
    const dir = makePhotos([
      { file: 'a.jpg', codes: ['111'], seed: 21, width: 1600, height: 1000, takenAt: '2026:05:03 09:00:00' },
      { file: 'b.jpg', codes: [], seed: 22, width: 1600, height: 1000, takenAt: '2026:05:03 09:01:00' },
    ]);
    const b = env.PHOTOFINISH_INGRESS_BUCKET;
    for (const f of ['a.jpg', 'b.jpg']) await stack.s3.send(new PutObjectCommand({ Bucket: b, Key: f, Body: readFileSync(path.join(dir, f)) }));
    await stack.s3.send(new PutObjectCommand({ Bucket: b, Key: 'c.jpg', Body: 'not an image' }));
    ids = Object.fromEntries(['a.jpg', 'b.jpg', 'c.jpg'].map((k) => [k, imageId(b, k)]));
    await waitFor(async () => (await Promise.all(Object.values(ids).map(item))).every(Boolean), { timeoutMs: 30000, what: 'processed' });
    await queueEmpty();
  });

  after(async () => {
    await daemon?.stop();
    await stack?.stop();
  });

  test('needs the bearer token', async () => {
    assert.equal((await getJson(`${daemon.url}/admin/unmatched`)).status, 401);
    const wrong = await getJson(`${daemon.url}/admin/unmatched`, { headers: { Authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'unauthorized');
  });

  test('lists unmatched and failed photos', async () => {
    const un = await admin('unmatched');
    assert.equal(un.status, 200);
    assert.deepEqual(un.body.images.map((i) => i.id), [ids['b.jpg']]);
    assert.match(un.body.images[0].thumbnailUrl, /^http/);
    const failed = await admin('failed');
    assert.deepEqual(failed.body.images.map((i) => [i.id, i.key]), [[ids['c.jpg'], 'c.jpg']]);
    assert.ok(failed.body.images[0].reason && failed.body.images[0].message);
    const img = await admin(`images/${ids['a.jpg']}`);
    assert.equal(img.status, 200);
    assert.deepEqual(img.body.codes, ['111']);
    assert.equal((await admin(`images/${'0'.repeat(32)}`)).status, 404);
  });

  test('sets codes by hand; they answer at once and survive reprocessing', async () => {
    const bad = await admin(`images/${ids['b.jpg']}/codes`, { method: 'PUT', body: '{"codes":["ok","no way"]}' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'invalid_code');
    assert.equal((await admin(`images/${ids['b.jpg']}/codes`, { method: 'PUT', body: 'nope' })).body.error.code, 'invalid_body');
    assert.deepEqual(await participant('222'), []); // cached empty answer
    const r = await admin(`images/${ids['b.jpg']}/codes`, { method: 'PUT', body: JSON.stringify({ codes: ['222', ' abc ', '222'] }) });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.codes, ['222', 'ABC']);
    assert.equal(r.body.codesSource, 'manual');
    assert.deepEqual(await participant('222'), [ids['b.jpg']], 'cache invalidated by the write');
    assert.deepEqual(await participant('ABC'), [ids['b.jpg']]);
    assert.deepEqual((await admin('unmatched')).body.images, []);
    const failed = await admin(`images/${ids['c.jpg']}/codes`, { method: 'PUT', body: '{"codes":["1"]}' });
    assert.equal(failed.status, 400);

    const versionA = Number((await item(ids['a.jpg'])).version.N);
    const started = await admin('reprocess', { method: 'POST' });
    assert.equal(started.status, 202);
    const done = await job(started.body.id);
    assert.equal(done.state, 'done');
    assert.equal(done.listed, 3);
    assert.equal(done.queued, 3);
    await waitFor(async () => Number((await item(ids['a.jpg'])).version.N) > versionA, { timeoutMs: 30000, what: 'a.jpg reprocessed' });
    await queueEmpty();
    const b = await item(ids['b.jpg']);
    assert.deepEqual(b.codes.L.map((c) => c.S), ['222', 'ABC']);
    assert.equal(b.codesSource.S, 'manual');
  });

  test('deletes one photo: variants, records and the original', async () => {
    const before = await item(ids['a.jpg']);
    const r = await admin(`images/${ids['a.jpg']}`, { method: 'DELETE' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, 'deleted');
    assert.deepEqual(await participant('111'), []);
    await assert.rejects(stack.s3.send(new HeadObjectCommand({ Bucket: env.PHOTOFINISH_PROCESSED_BUCKET, Key: before.fullsizeKey.S })));
    await assert.rejects(stack.s3.send(new HeadObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: 'a.jpg' })));
    assert.equal((await admin(`images/${ids['a.jpg']}`, { method: 'DELETE' })).status, 404);
    await queueEmpty();
  });

  test('clears a race only when confirmed, keeping the originals', async () => {
    const refused = await admin('clear', { method: 'POST', body: '{}' });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, new RegExp(env.PHOTOFINISH_TABLE));
    const started = await admin('clear', { method: 'POST', body: JSON.stringify({ confirm: env.PHOTOFINISH_TABLE }) });
    assert.equal(started.status, 202);
    const done = await job(started.body.id);
    assert.equal(done.state, 'done');
    assert.ok(done.itemsDeleted > 0 && done.objectsDeleted > 0);
    // Every photo item goes; the operators' jobs and audit trail stay.
    const left = (await stack.ddb.send(new ScanCommand({ TableName: env.PHOTOFINISH_TABLE }))).Items;
    assert.deepEqual([...new Set(left.map((i) => i.pk.S))].sort(), ['AUDIT', 'JOB']);
    assert.equal((await stack.s3.send(new ListObjectsV2Command({ Bucket: env.PHOTOFINISH_PROCESSED_BUCKET }))).KeyCount ?? 0, 0);
    const originals = await stack.s3.send(new ListObjectsV2Command({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET }));
    assert.deepEqual(originals.Contents.map((o) => o.Key).sort(), ['b.jpg', 'c.jpg']);
    assert.deepEqual(await participant('222'), [], 'cache cleared');
  });
});
