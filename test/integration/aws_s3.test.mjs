// S3 operations of the C client (via aws_driver) against the local stack,
// checked with the AWS SDK for JavaScript v3.
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
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';

import { startStack } from './lib/stack.mjs';
import { drive, driveOk, stackEnv } from './aws_driver.mjs';

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
