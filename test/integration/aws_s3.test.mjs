// S3 operations of the C client (via aws_driver) against the local stack,
// checked with the AWS SDK for JavaScript v3; presigned URLs also against
// @aws-sdk/s3-request-presigner (the same URL for the same inputs and time).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

import { receiveAll, startStack } from './lib/stack.mjs';
import { baseEnv, drive, driveOk, stackEnv } from './aws_driver.mjs';

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

let stack;
let env;
let bucket;
let tmp;

async function putMany(keys, body = 'x') {
  for (let i = 0; i < keys.length; i += 50) {
    await Promise.all(
      keys.slice(i, i + 50).map((Key) => stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: body }))),
    );
  }
}

async function sdkKeys(prefix) {
  const keys = [];
  let token;
  do {
    const r = await stack.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(r.Contents ?? []).map((o) => o.Key));
    token = r.NextContinuationToken;
  } while (token);
  return keys;
}

before(async () => {
  stack = await startStack();
  env = stackEnv(stack);
  bucket = `pf-aws-s3-${Date.now().toString(36)}`;
  await stack.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  tmp = mkdtempSync(path.join(tmpdir(), 'pf-aws-s3-'));
});

after(async () => {
  await stack?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('S3 objects', () => {
  test('PutObject sets body, Content-Type and Cache-Control; GetObject and HeadObject read them', async () => {
    const key = 'race 1/photo+ü%20#?.jpg';
    const put = await driveOk(
      ['put', bucket, key, '--data', 'hello world', '--content-type', 'image/jpeg', '--cache-control', 'public, max-age=31536000, immutable'],
      env,
    );
    assert.match(put.etag, /^"[0-9a-f]{32}"$/);
    const sdk = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(await sdk.Body.transformToString(), 'hello world');
    assert.equal(sdk.ContentType, 'image/jpeg');
    assert.equal(sdk.ETag, put.etag);

    const got = await driveOk(['get', bucket, key], env);
    assert.equal(got.body, 'hello world');
    assert.equal(got.len, 11);
    assert.equal(got.content_type, 'image/jpeg');
    assert.equal(got.etag, put.etag);

    const head = await driveOk(['head', bucket, key], env);
    assert.equal(head.content_length, 11);
    assert.equal(head.etag, put.etag);
    const sdkHead = await stack.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    // Cache-Control as S3 stores it (whatever the emulator keeps, both clients agree)
    assert.equal(head.cache_control ?? undefined, sdkHead.CacheControl);
    assert.ok(head.last_modified > 1_600_000_000);
  });

  test('missing keys are typed not_found errors; HEAD too', async () => {
    const r = await drive(['get', bucket, 'nope/missing.jpg'], env);
    assert.equal(r.status, 2);
    assert.equal(r.out.error.code, 'not_found');
    assert.equal(r.out.error.service_code, 'NoSuchKey');
    assert.equal(r.out.error.http_status, 404);
    assert.equal(r.out.error.retryable, false);
    assert.equal(r.out.calls[0].outcome, 'client_error');
    const h = await drive(['head', bucket, 'nope/missing.jpg'], env);
    assert.equal(h.out.error.code, 'not_found');
    assert.equal(h.out.error.http_status, 404);
  });

  test('GetObject over the byte limit is refused with too_big before the body is read', async () => {
    await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big.bin', Body: randomBytes(300_000) }));
    const r = await drive(['get', bucket, 'big.bin', '--max', '100000'], env);
    assert.equal(r.status, 2);
    assert.equal(r.out.error.code, 'too_big');
    assert.equal(r.out.calls[0].attempts, 1, 'a size refusal is not retried');
    const ok = await driveOk(['get', bucket, 'big.bin', '--max', '300000'], env);
    assert.equal(ok.len, 300_000);
  });

  test('DeleteObject removes the key (and a missing key is fine)', async () => {
    await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'del/one', Body: '1' }));
    await driveOk(['delete', bucket, 'del/one'], env);
    await assert.rejects(stack.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'del/one' })));
    await driveOk(['delete', bucket, 'del/one'], env);
  });

  test('ListObjectsV2 pages through more than 1000 keys with continuation tokens', async () => {
    const keys = Array.from({ length: 1105 }, (_, i) => `list/${String(i).padStart(5, '0')}`);
    await putMany(keys);
    const all = await driveOk(['list', bucket, '--prefix', 'list/', '--all'], env);
    assert.equal(all.pages, 2);
    assert.equal(all.count, 1105);
    assert.deepEqual(all.keys.map((k) => k.key), keys);
    assert.equal(all.keys[0].size, 1);

    const small = await driveOk(['list', bucket, '--prefix', 'list/', '--max-keys', '500', '--all'], env);
    assert.equal(small.pages, 3);
    assert.deepEqual(small.keys.map((k) => k.key), keys);

    const first = await driveOk(['list', bucket, '--prefix', 'list/', '--max-keys', '10'], env);
    assert.equal(first.count, 10);
    assert.equal(first.is_truncated, true);
    assert.ok(first.next_continuation_token);

    const delim = await driveOk(['list', bucket, '--delimiter', '/'], env);
    assert.ok(delim.prefixes.includes('list/'));
  });

  test('DeleteObjects deletes more than 1000 keys in batches of 1000', async () => {
    const keys = Array.from({ length: 1003 }, (_, i) => `bulk/${i} & <x>`);
    await putMany(keys);
    const keysFile = path.join(tmp, 'keys.txt');
    writeFileSync(keysFile, keys.join('\n'));
    const r = await driveOk(['delete-objects', bucket, '--keys-file', keysFile], env);
    assert.equal(r.deleted, 1003);
    assert.deepEqual(r.errors, []);
    assert.equal(r.calls.filter((c) => c.operation === 'DeleteObjects').length, 2);
    assert.deepEqual(await sdkKeys('bulk/'), []);
  });

  test('a presigned GET URL works without credentials', async () => {
    await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'presign/a b.txt', Body: 'signed!' }));
    const r = await driveOk(['presign', bucket, 'presign/a b.txt', '--expires', '300'], env);
    assert.match(r.url, /X-Amz-Signature=[0-9a-f]{64}/);
    assert.match(r.url, /X-Amz-Expires=300/);
    const res = await fetch(r.url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'signed!');
  });

  test('multipart upload: create, parts, complete; and abort', async () => {
    const data = randomBytes(11 * 1024 * 1024 + 123);
    const file = path.join(tmp, 'mp.bin');
    writeFileSync(file, data);
    const r = await driveOk(['multipart', bucket, 'mp/file.bin', '--file', file, '--part-size', String(5 * 1024 * 1024)], env);
    assert.equal(r.parts, 3);
    assert.ok(r.upload_id);
    const sdk = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp/file.bin' }));
    assert.equal(sha256(Buffer.from(await sdk.Body.transformToByteArray())), sha256(data));

    const a = await driveOk(['multipart', bucket, 'mp/aborted.bin', '--file', file, '--part-size', String(6 * 1024 * 1024), '--abort'], env);
    assert.equal(a.aborted, true);
    await assert.rejects(stack.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'mp/aborted.bin' })));
  });

  test('a 50 MB object goes out and comes back with peak memory under 2x its size', async () => {
    const size = 50 * 1024 * 1024;
    const data = randomBytes(size);
    const file = path.join(tmp, 'fifty.bin');
    writeFileSync(file, data);
    const put = await driveOk(['put', bucket, 'big/fifty.bin', '--file', file, '--content-type', 'application/octet-stream'], env);
    assert.equal(put.sha256, sha256(data));
    const sdk = await stack.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big/fifty.bin' }));
    assert.equal(sdk.ContentLength, size);

    const got = await driveOk(['get', bucket, 'big/fifty.bin', '--max', String(size)], env);
    assert.equal(got.len, size);
    assert.equal(got.sha256, sha256(data));
    const limitKb = (2 * size) / 1024;
    console.log(`# 50 MB transfer peak RSS: put ${put.maxrss_kb} kB, get ${got.maxrss_kb} kB (limit ${limitKb} kB)`);
    assert.ok(put.maxrss_kb < limitKb, `PutObject peak RSS ${put.maxrss_kb} kB`);
    assert.ok(got.maxrss_kb < limitKb, `GetObject peak RSS ${got.maxrss_kb} kB`);
  });

  test('an invalid bucket name is refused before any request', async () => {
    const r = await drive(['get', 'Bad_Bucket', 'k'], env);
    assert.equal(r.status, 2);
    assert.equal(r.out.error.code, 'invalid');
    assert.deepEqual(r.out.calls, []);
  });
});

// ---- presigned multipart uploads (what the browser console does) ----

const MiB = 1024 * 1024;

// The query of a URL as [name, value] pairs (raw, still encoded), sorted.
function rawQuery(url) {
  const q = url.slice(url.indexOf('?') + 1);
  return q
    .split('&')
    .map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

// PUTs a part the way a browser does: plain fetch, the bytes as the body, no
// signing headers; from another origin (the console).
async function browserPut(url, body) {
  const res = await fetch(url, { method: 'PUT', body, headers: { origin: 'http://console.test:5173' } });
  const text = await res.text();
  return { status: res.status, etag: res.headers.get('etag'), cors: res.headers.get('access-control-allow-origin'), expose: res.headers.get('access-control-expose-headers'), text };
}

describe('presigned URLs equal the AWS SDK presigner\'s', () => {
  const when = 1_796_000_000; // a fixed signing time
  const creds = { accessKeyId: 'AKIAPHOTOFINISHTEST', secretAccessKey: 'x/Y+z0123456789abcdefghijklmnopqrstuvwx' };
  const sdkExtras = (op) => ['--query', `x-id=${op}`, '--query', 'X-Amz-Content-Sha256=UNSIGNED-PAYLOAD'];

  // The SDK adds x-id=<operation> and X-Amz-Content-Sha256=UNSIGNED-PAYLOAD to
  // the query (both signed); the C client takes them as extra parameters
  // here, so the two URLs must agree byte for byte: origin, path, every
  // parameter (order aside: the SDK sorts X-Amz-Signature in with the
  // others, photofinish puts it last) and so the signature.
  const cases = [
    { name: 'UploadPart, path-style endpoint', region: 'us-east-1', endpoint: 'http://127.0.0.1:4566', key: 'race/alice/IMG 0001 (1)+ü~!.jpg', part: 7, uploadId: 'VXBsb2Fk/IElE+==', expires: 3600 },
    { name: 'UploadPart, virtual-hosted on AWS', region: 'eu-west-1', key: 'race/bob/a*b\'c.jpg', part: 10000, uploadId: 'abc', expires: 604800 },
    { name: 'UploadPart with a session token', region: 'eu-central-1', key: 'k', part: 1, uploadId: 'u', expires: 1, token: 'IQoJb3JpZ2luX2VjEJ//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+token=' },
    { name: 'GetObject, dotted bucket (path-style on AWS)', region: 'us-west-2', bucket: 'photos.example.com', key: 'a/b/c.jpg', expires: 900, get: true },
    // The console's one-request upload: the length is signed, so S3 takes no other.
    { name: 'PutObject with its length signed', region: 'us-east-1', endpoint: 'http://127.0.0.1:4566', key: 'race/alice/day 1/IMG_0001.JPG', length: 5_123_456, expires: 3600 },
    { name: 'PutObject with its length signed, on AWS with a session token', region: 'ap-southeast-2', key: 'k/ü.jpg', length: 1, expires: 60, token: 'tok/en+=' },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const bucket = c.bucket ?? 'photofinish-ingress';
      const client = new S3Client({
        region: c.region,
        credentials: { ...creds, ...(c.token ? { sessionToken: c.token } : {}) },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        ...(c.endpoint ? { endpoint: c.endpoint, forcePathStyle: true } : {}),
      });
      const command = c.get
        ? new GetObjectCommand({ Bucket: bucket, Key: c.key })
        : c.length
          ? new PutObjectCommand({ Bucket: bucket, Key: c.key, ContentLength: c.length })
          : new UploadPartCommand({ Bucket: bucket, Key: c.key, PartNumber: c.part, UploadId: c.uploadId });
      const sdkUrl = await getSignedUrl(client, command, { expiresIn: c.expires, signingDate: new Date(when * 1000) });
      client.destroy();

      const env = baseEnv({
        AWS_REGION: c.region,
        AWS_ACCESS_KEY_ID: creds.accessKeyId,
        AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
        ...(c.token ? { AWS_SESSION_TOKEN: c.token } : {}),
        ...(c.endpoint ? { AWS_ENDPOINT_URL_S3: c.endpoint } : {}),
      });
      const args = c.get
        ? ['presign-url', 'GET', bucket, c.key, ...sdkExtras('GetObject')]
        : c.length
          ? ['presign-url', 'PUT', bucket, c.key, '--content-length', String(c.length), ...sdkExtras('PutObject')]
          : ['presign-url', 'PUT', bucket, c.key, '--query', `partNumber=${c.part}`, '--query', `uploadId=${c.uploadId}`, ...sdkExtras('UploadPart')];
      const ours = await driveOk([...args, '--expires', String(c.expires), '--time', String(when)], env);

      assert.equal(ours.url.split('?')[0], sdkUrl.split('?')[0], 'origin and path');
      assert.deepEqual(rawQuery(ours.url), rawQuery(sdkUrl), 'query parameters');
      assert.match(ours.url, /&X-Amz-Signature=[0-9a-f]{64}$/);
      if (c.token) assert.match(ours.url, /X-Amz-Security-Token=/);
      if (c.length) assert.match(ours.url, /X-Amz-SignedHeaders=content-length%3Bhost/);
    });
  }

  test('lifetimes outside 1 s..7 days and signing parameters are refused', async () => {
    const env = baseEnv({ AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' });
    for (const extra of [['--expires', '0'], ['--expires', '604801'], ['--query', 'X-Amz-Signature=abc'], ['--query', 'X-Amz-Date=1']]) {
      const r = await drive(['presign-url', 'PUT', 'photos', 'k', ...extra, '--time', String(when)], env);
      assert.equal(r.status, 2, extra.join(' '));
      assert.equal(r.out.error.code, 'invalid');
    }
  });
});

describe('multipart uploads through presigned URLs', () => {
  test('create, browser PUTs to presigned part URLs, ListParts, complete from the listed parts', async () => {
    const ingress = stack.env.PHOTOFINISH_INGRESS_BUCKET;
    const key = 'race/alice/big photo ü+(1).jpg';
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(123_457)];
    const whole = Buffer.concat(parts);

    const created = await driveOk(['mp-create', ingress, key, '--content-type', 'image/jpeg', '--presign-parts', '3', '--expires', '900'], env);
    assert.ok(created.upload_id);
    assert.equal(created.urls.length, 3);
    const now = Date.now() / 1000;
    assert.ok(created.expires_at > now + 880 && created.expires_at <= now + 901, `expires_at ${created.expires_at}`);
    for (const [i, url] of created.urls.entries()) {
      assert.match(url, new RegExp(`[?&]partNumber=${i + 1}(&|$)`));
      assert.match(url, /X-Amz-SignedHeaders=host&/);
      assert.ok(url.startsWith(`${stack.env.AWS_ENDPOINT_URL_S3}/${ingress}/race/alice/big%20photo%20%C3%BC%2B%281%29.jpg?`), url);
    }

    // out of order, as parallel browser uploads finish
    const puts = [];
    for (const i of [2, 0, 1]) puts[i] = await browserPut(created.urls[i], parts[i]);
    for (const p of puts) {
      assert.equal(p.status, 200, p.text);
      assert.match(p.etag, /^"[0-9a-f]{32}"$/);
      assert.equal(p.cors, '*', 'the stack answers browsers on other origins');
      assert.match(p.expose, /ETag/);
    }

    // ListParts: one page at a time, and all pages
    const first = await driveOk(['mp-list-parts', ingress, key, created.upload_id, '--max-parts', '2'], env);
    assert.deepEqual(first.parts.map((p) => p.part_number), [1, 2]);
    assert.equal(first.is_truncated, true);
    assert.equal(first.next_part_number_marker, 2);
    const second = await driveOk(['mp-list-parts', ingress, key, created.upload_id, '--max-parts', '2', '--marker', '2'], env);
    assert.deepEqual(second.parts.map((p) => p.part_number), [3]);
    assert.equal(second.is_truncated, false);
    const all = await driveOk(['mp-list-parts', ingress, key, created.upload_id, '--all'], env);
    const sdkParts = await stack.s3.send(new ListPartsCommand({ Bucket: ingress, Key: key, UploadId: created.upload_id }));
    assert.deepEqual(
      all.parts.map((p) => [p.part_number, p.size, p.etag]),
      sdkParts.Parts.map((p) => [p.PartNumber, p.Size, p.ETag]),
    );
    assert.deepEqual(all.parts.map((p) => p.etag), puts.map((p) => p.etag));
    const bounded = await drive(['mp-list-parts', ingress, key, created.upload_id, '--all', '--max', '2'], env);
    assert.equal(bounded.out.error.code, 'too_big');

    await receiveAll(stack.sqs, stack.env.PHOTOFINISH_QUEUE_URL, { waitMs: 200 });
    const done = await driveOk(
      ['mp-complete-listed', ingress, key, created.upload_id, '--expect-parts', '3', '--expect-size', String(whole.length)],
      env,
    );
    assert.equal(done.size, whole.length);
    assert.equal(done.nparts, 3);
    assert.match(done.etag, /^"[0-9a-f]{32}-3"$/);
    assert.deepEqual(done.calls.map((c) => c.operation), ['ListParts', 'CompleteMultipartUpload']);

    const got = await stack.s3.send(new GetObjectCommand({ Bucket: ingress, Key: key }));
    assert.equal(sha256(Buffer.from(await got.Body.transformToByteArray())), sha256(whole));
    assert.equal(got.ContentType, 'image/jpeg');
    assert.equal(got.ETag, done.etag);

    // the ingress bucket's event, as for a PutObject
    const msgs = await receiveAll(stack.sqs, stack.env.PHOTOFINISH_QUEUE_URL, { waitMs: 3000, count: 1 });
    const records = msgs.flatMap((m) => JSON.parse(m.Body).Records ?? []);
    const ev = records.find((r) => decodeURIComponent(r.s3.object.key.replaceAll('+', ' ')) === key);
    assert.ok(ev, JSON.stringify(records));
    assert.equal(ev.eventName, 'ObjectCreated:CompleteMultipartUpload');
    assert.equal(ev.s3.object.size, whole.length);

    // completed: the upload is gone
    const gone = await drive(['mp-list-parts', ingress, key, created.upload_id], env);
    assert.equal(gone.out.error.code, 'not_found');
    assert.equal(gone.out.error.service_code, 'NoSuchUpload');
  });

  test('completing from listed parts refuses missing parts or a wrong size and leaves the upload open', async () => {
    const key = 'mp-listed/gaps.bin';
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1000)];
    const created = await driveOk(['mp-create', bucket, key, '--presign-parts', '3'], env);
    for (const i of [0, 2]) assert.equal((await browserPut(created.urls[i], parts[i])).status, 200);

    const gap = await drive(['mp-complete-listed', bucket, key, created.upload_id, '--expect-parts', '3'], env);
    assert.equal(gap.status, 2);
    assert.equal(gap.out.error.code, 'conflict');
    assert.match(gap.out.error.message, /2 of 3 parts/);
    assert.deepEqual(gap.out.calls.map((c) => c.operation), ['ListParts'], 'nothing completed');

    assert.equal((await browserPut(created.urls[1], parts[1])).status, 200);
    const size = await drive(['mp-complete-listed', bucket, key, created.upload_id, '--expect-parts', '3', '--expect-size', '7'], env);
    assert.equal(size.out.error.code, 'conflict');
    assert.match(size.out.error.message, /not 7/);

    const ok = await driveOk(['mp-complete-listed', bucket, key, created.upload_id, '--expect-parts', '3'], env);
    assert.equal(ok.size, 10 * MiB + 1000);

    const none = await driveOk(['mp-create', bucket, 'mp-listed/empty.bin'], env);
    const empty = await drive(['mp-complete-listed', bucket, 'mp-listed/empty.bin', none.upload_id], env);
    assert.equal(empty.out.error.code, 'conflict');
    assert.match(empty.out.error.message, /no part/);
    await driveOk(['mp-abort', bucket, 'mp-listed/empty.bin', none.upload_id], env);
  });

  test('a part URL is bound to its key, part, upload and lifetime', async () => {
    const key = 'mp-listed/bound.bin';
    const created = await driveOk(['mp-create', bucket, key, '--presign-parts', '1', '--expires', '2'], env);
    const url = created.urls[0];
    // another part number or upload id in the same URL breaks the signature
    assert.equal((await browserPut(url.replace('partNumber=1', 'partNumber=2'), 'x')).status, 403);
    const tampered = await browserPut(url.replace(/uploadId=[^&]+/, 'uploadId=other'), 'x');
    assert.equal(tampered.status, 403);
    assert.match(tampered.text, /SignatureDoesNotMatch/);
    // another key too
    assert.equal((await browserPut(url.replace('bound.bin', 'other.bin'), 'x')).status, 403);
    // once expired, refused as by S3
    await new Promise((r) => setTimeout(r, 3100));
    const late = await browserPut(url, 'x');
    assert.equal(late.status, 403);
    assert.match(late.text, /<Code>AccessDenied<\/Code><Message>Request has expired/);
    await driveOk(['mp-abort', bucket, key, created.upload_id], env);
  });

  test('ListMultipartUploads by prefix, page by page; abort removes the upload', async () => {
    const ids = {};
    for (const k of ['mpl/b.jpg', 'mpl/a.jpg', 'mpl/c.jpg', 'other/z.jpg']) {
      ids[k] = (await driveOk(['mp-create', bucket, k], env)).upload_id;
    }
    const p1 = await driveOk(['mp-list-uploads', bucket, '--prefix', 'mpl/', '--max-uploads', '2'], env);
    assert.deepEqual(p1.uploads.map((u) => u.key), ['mpl/a.jpg', 'mpl/b.jpg']);
    assert.equal(p1.uploads[0].upload_id, ids['mpl/a.jpg']);
    assert.ok(p1.uploads[0].initiated > 1_600_000_000);
    assert.equal(p1.is_truncated, true);
    assert.equal(p1.next_key_marker, 'mpl/b.jpg');
    const p2 = await driveOk(
      ['mp-list-uploads', bucket, '--prefix', 'mpl/', '--max-uploads', '2', '--key-marker', p1.next_key_marker, '--upload-id-marker', p1.next_upload_id_marker],
      env,
    );
    assert.deepEqual(p2.uploads.map((u) => u.key), ['mpl/c.jpg']);
    assert.equal(p2.is_truncated, false);
    const sdk = await stack.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'mpl/' }));
    assert.deepEqual(sdk.Uploads.map((u) => [u.Key, u.UploadId]), [...p1.uploads, ...p2.uploads].map((u) => [u.key, u.upload_id]));

    await driveOk(['mp-abort', bucket, 'mpl/b.jpg', ids['mpl/b.jpg']], env);
    const after = await driveOk(['mp-list-uploads', bucket, '--prefix', 'mpl/'], env);
    assert.deepEqual(after.uploads.map((u) => u.key), ['mpl/a.jpg', 'mpl/c.jpg']);
    const again = await drive(['mp-abort', bucket, 'mpl/b.jpg', ids['mpl/b.jpg']], env);
    assert.equal(again.out.error.code, 'not_found');
    // an upload id is only good for its own key
    const wrongKey = await drive(['mp-list-parts', bucket, 'mpl/c.jpg', ids['mpl/a.jpg']], env);
    assert.equal(wrongKey.out.error.service_code, 'NoSuchUpload');
    for (const k of ['mpl/a.jpg', 'mpl/c.jpg', 'other/z.jpg']) await driveOk(['mp-abort', bucket, k, ids[k]], env);
  });
});
