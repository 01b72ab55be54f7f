// `photofinish upload` against the local AWS stack: which files go up under
// which keys, byte-exact content, multipart above 16 MiB, skipping what is
// already there, re-uploading what changed, failures and usage errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';

import { startStack, REPO_ROOT } from './lib/stack.mjs';

const bin = path.resolve(REPO_ROOT, process.env.PHOTOFINISH_BIN_DIR ?? 'build', 'photofinish');
const MiB = 1024 * 1024;

let stack;
let tmp;
let tree;
// key -> { file, bytes } of what the tree should put in the bucket.
const expected = new Map();

function put(rel, data) {
  const file = path.join(tree, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, data);
  return file;
}

function expect(rel, data) {
  const file = put(rel, data);
  expected.set(rel, { file, bytes: data.length });
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/** Runs `photofinish upload ARGS` with only the given environment; resolves
 * to { status, stdout, stderr, lines (parsed JSON lines), summary }. */
function upload(args, { env = stack.env, timeoutMs = 120000, raw = false, onStdout } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['upload', ...args], {
      env: { PATH: process.env.PATH, HOME: tmp, AWS_EC2_METADATA_DISABLED: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      onStdout?.(child, stdout);
    });
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      if (signal) {
        reject(new Error(`photofinish upload died of ${signal}\nstderr: ${stderr}`));
        return;
      }
      if (raw) {
        resolve({ status, stdout, stderr });
        return;
      }
      const lines = stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          try {
            return JSON.parse(l);
          } catch {
            throw new Error(`not a JSON line on stdout: ${JSON.stringify(l)}`);
          }
        });
      const summary = lines.find((l) => l.summary);
      resolve({ status, stdout, stderr, lines: lines.filter((l) => !l.summary), summary });
    });
  });
}

const byKey = (lines) => new Map(lines.map((l) => [l.key, l]));

async function listKeys(bucket, prefix) {
  const keys = [];
  let token;
  do {
    const r = await stack.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(r.Contents ?? []).map((o) => o.Key));
    token = r.NextContinuationToken;
  } while (token);
  return keys.sort();
}

async function getBytes(key) {
  const r = await stack.s3.send(new GetObjectCommand({ Bucket: stack.env.PHOTOFINISH_INGRESS_BUCKET, Key: key }));
  return { body: Buffer.from(await r.Body.transformToByteArray()), etag: r.ETag, contentType: r.ContentType };
}

/** A loopback port with nothing listening on it. */
async function closedPort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'photofinish-upload-'));
  tree = path.join(tmp, 'photos');
  expect('DSC_0001.jpg', randomBytes(150 * 1024));
  expect('finish line/Zieleinlauf Läufer №7.JPEG', randomBytes(80 * 1024));
  expect('sub/b.png', randomBytes(1000));
  expect('sub/deeper/c.webp', randomBytes(3000));
  expect('sub/deeper/d.TIFF', randomBytes(5));
  expect('sub/empty.jpg', Buffer.alloc(0));
  // 16 MiB + 1 MiB + 7 bytes: two parts.
  expect('big/panorama.tif', randomBytes(17 * MiB + 7));
  put('notes.txt', 'not a photo\n');
  put('sub/DSC_0001.jpg.xmp', '<x:xmpmeta/>');
  put('.hidden.jpg', randomBytes(10));
  put('.thumbnails/t.jpg', randomBytes(10));
  // A loop: sub/deeper/loop -> sub (the walk must notice and go on).
  symlinkSync('..', path.join(tree, 'sub', 'deeper', 'loop'));
  stack = await startStack();
});

after(async () => {
  await stack?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('uploads a directory tree: photos only, keys relative to it, bytes and types intact, multipart above 16 MiB', async () => {
  const r = await upload(['--parallel', '3', tree]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual([...byKey(r.lines).keys()].sort(), [...expected.keys()].sort());
  for (const l of r.lines) {
    assert.equal(l.status, 'uploaded', JSON.stringify(l));
    assert.equal(l.error, null);
    assert.equal(l.bytes, expected.get(l.key).bytes);
    assert.equal(l.file, expected.get(l.key).file);
  }
  assert.equal(r.summary.files, expected.size);
  assert.equal(r.summary.uploaded, expected.size);
  assert.equal(r.summary.failed, 0);
  assert.equal(r.summary.ignored, 2, 'notes.txt and the .xmp sidecar are not photos');
  assert.match(r.stderr, /symlink loop/);

  const bucket = stack.env.PHOTOFINISH_INGRESS_BUCKET;
  assert.deepEqual(await listKeys(bucket), [...expected.keys()].sort());
  const types = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', tif: 'image/tiff', tiff: 'image/tiff' };
  for (const [key, { file }] of expected) {
    const got = await getBytes(key);
    assert.equal(sha256(got.body), sha256(readFileSync(file)), `content of ${key}`);
    assert.equal(got.contentType, types[key.split('.').pop().toLowerCase()], `Content-Type of ${key}`);
    if (key === 'big/panorama.tif') assert.match(got.etag, /-2"$/, 'a multipart ETag ends in -<parts>');
    else assert.doesNotMatch(got.etag, /-\d+"$/, `${key} went up in one PutObject`);
  }
  const mp = await stack.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  assert.equal((mp.Uploads ?? []).length, 0, 'no multipart upload left open');
});

test('a second run skips everything that is already there', async () => {
  const r = await upload([tree]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.lines.length, expected.size);
  for (const l of r.lines) assert.equal(l.status, 'skipped', JSON.stringify(l));
  assert.equal(r.summary.skipped, expected.size);
  assert.equal(r.summary.uploaded, 0);
  assert.equal(r.summary.uploaded_bytes, 0);
});

test('a file whose size changed is uploaded again, the rest skipped', async () => {
  const { file } = expected.get('sub/b.png');
  appendFileSync(file, randomBytes(77));
  expected.get('sub/b.png').bytes += 77;
  const r = await upload([tree]);
  assert.equal(r.status, 0, r.stderr);
  const lines = byKey(r.lines);
  assert.equal(lines.get('sub/b.png').status, 'uploaded');
  assert.equal(lines.get('sub/b.png').bytes, 1077);
  assert.deepEqual(
    r.lines.filter((l) => l.status !== 'skipped').map((l) => l.key),
    ['sub/b.png'],
  );
  const got = await getBytes('sub/b.png');
  assert.equal(sha256(got.body), sha256(readFileSync(file)));
});

test('--force uploads even what is already there', async () => {
  const r = await upload(['--force', path.join(tree, 'sub')]);
  assert.equal(r.status, 0, r.stderr);
  // Keys are relative to the directory given.
  assert.deepEqual(r.lines.map((l) => l.key).sort(), ['b.png', 'deeper/c.webp', 'deeper/d.TIFF', 'empty.jpg']);
  for (const l of r.lines) assert.equal(l.status, 'uploaded');
});

test('a file argument goes up under its name, after --prefix or PHOTOFINISH_INGRESS_PREFIX', async () => {
  const file = expected.get('DSC_0001.jpg').file;
  let r = await upload(['--prefix', 'race-42', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.lines[0].key, 'race-42/DSC_0001.jpg');
  r = await upload([file], { env: { ...stack.env, PHOTOFINISH_INGRESS_PREFIX: 'from-env/' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.lines[0].key, 'from-env/DSC_0001.jpg');
  const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.env.PHOTOFINISH_INGRESS_BUCKET, Key: 'from-env/DSC_0001.jpg' }));
  assert.equal(head.ContentLength, expected.get('DSC_0001.jpg').bytes);
});

test('a missing bucket fails every file with a clear error and exit status 1', async () => {
  const r = await upload([path.join(tree, 'sub')], { env: { ...stack.env, PHOTOFINISH_INGRESS_BUCKET: 'no-such-bucket-here' } });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.lines.length, 4);
  for (const l of r.lines) {
    assert.equal(l.status, 'failed');
    assert.match(l.error, /bucket/i);
  }
  assert.equal(r.summary.failed, 4);
  assert.match(r.stderr, /b\.png: .*bucket/i);
});

test('an unreachable endpoint fails with a network error and exit status 1', async () => {
  const port = await closedPort();
  const env = { ...stack.env, AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}` };
  const r = await upload([expected.get('sub/b.png').file], { env, timeoutMs: 60000 });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.lines.length, 1);
  assert.equal(r.lines[0].status, 'failed');
  assert.ok(r.lines[0].error.length > 0);
  assert.match(r.stderr, /b\.png: /);
  assert.equal(r.summary.failed, 1);
});

test('Ctrl-C stops cleanly: nothing new starts, multipart uploads are aborted, exit status 130', async () => {
  const dir = path.join(tmp, 'interrupt');
  mkdirSync(dir);
  for (let i = 1; i <= 4; i++) writeFileSync(path.join(dir, `pano${i}.tif`), randomBytes(48 * MiB));
  let signalled = false;
  const r = await upload(['--parallel', '1', '--prefix', 'interrupt', dir], {
    onStdout: (child, out) => {
      if (!signalled && out.includes('"status":"uploaded"')) {
        signalled = true;
        child.kill('SIGINT');
      }
    },
  });
  assert.ok(signalled, r.stderr);
  assert.equal(r.status, 130, r.stderr);
  assert.match(r.stderr, /interrupted/);
  assert.equal(r.summary.interrupted, true);
  assert.ok(r.summary.not_started >= 1, JSON.stringify(r.summary));
  assert.equal(r.summary.uploaded + r.summary.failed + r.summary.not_started, 4);
  const bucket = stack.env.PHOTOFINISH_INGRESS_BUCKET;
  const mp = await stack.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  assert.equal((mp.Uploads ?? []).length, 0, 'the interrupted multipart upload was aborted');
  // What is in the bucket is whole; a second run sends the rest.
  const uploadedKeys = r.lines.filter((l) => l.status === 'uploaded').map((l) => l.key).sort();
  assert.deepEqual(await listKeys(bucket, 'interrupt/'), uploadedKeys);
  const again = await upload(['--prefix', 'interrupt', dir]);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.summary.skipped, uploadedKeys.length);
  assert.equal(again.summary.uploaded, 4 - uploadedKeys.length);
});

test('usage and configuration errors exit 2 before anything is uploaded', async () => {
  const file = expected.get('DSC_0001.jpg').file;
  const cases = [
    { args: [], env: stack.env, want: /nothing to upload/ },
    { args: ['--parallel', '0', file], env: stack.env, want: /--parallel/ },
    { args: ['--bogus', file], env: stack.env, want: /unknown option --bogus/ },
    { args: [path.join(tmp, 'does-not-exist')], env: stack.env, want: /does-not-exist: No such file/ },
    { args: [path.join(tree, 'notes.txt')], env: stack.env, want: /not a photo/ },
    { args: [file], env: { ...stack.env, PHOTOFINISH_INGRESS_BUCKET: '' }, want: /PHOTOFINISH_INGRESS_BUCKET: is required/ },
    { args: [file], env: { ...stack.env, AWS_REGION: '' }, want: /AWS_REGION/ },
    // Two files that would land on the same key.
    { args: [file, path.join(tree, 'DSC_0001.jpg')], env: stack.env, want: /would both be uploaded as "DSC_0001.jpg"/ },
  ];
  for (const c of cases) {
    const r = await upload(c.args, { env: c.env });
    assert.equal(r.status, 2, `${c.args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, c.want);
    assert.equal(r.lines.length, 0);
  }
});

test('--help describes the command and exits 0', async () => {
  const r = await upload(['--help'], { env: {}, raw: true });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^Usage: photofinish upload/);
});
