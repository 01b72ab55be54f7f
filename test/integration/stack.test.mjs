// Proves the local AWS stack (test/stack/start, test/stack/stop): resources,
// loopback-only ports, S3 event notifications in the AWS format, isolation
// of parallel stacks, S3 CORS for browsers, presigned URLs checked as S3
// checks them, ListParts/ListMultipartUploads, and that stopping leaves no
// process behind.
//   node --test test/integration/stack.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { promisify } from 'node:util';

import {
  HeadBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  ListMultipartUploadsCommand,
  AbortMultipartUploadCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  GetQueueAttributesCommand,
  SendMessageCommand,
  ReceiveMessageCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
} from '@aws-sdk/client-sqs';
import {
  DescribeTableCommand,
  TransactWriteItemsCommand,
  TransactGetItemsCommand,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { PutCommand, GetCommand } from '@aws-sdk/lib-dynamodb';

import {
  startStack,
  receiveAll,
  purge,
  waitFor,
  s3Records,
  decodeEventKey,
  processAlive,
  START,
  STOP,
} from './lib/stack.mjs';

const execFileP = promisify(execFile);

const EXPORTED = [
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'PHOTOFINISH_INGRESS_BUCKET',
  'PHOTOFINISH_PROCESSED_BUCKET',
  'PHOTOFINISH_TABLE',
  'PHOTOFINISH_QUEUE_URL',
  'PHOTOFINISH_DLQ_URL',
  'PHOTOFINISH_STACK_DIR',
];

const md5 = (buf) => createHash('md5').update(buf).digest('hex');
const unquote = (etag) => etag.replaceAll('"', '');
const portOf = (url) => Number(new URL(url).port);

// Sequencers compare as hex strings left-padded to the same length.
function seqGreater(a, b) {
  const n = Math.max(a.length, b.length);
  return a.padStart(n, '0') > b.padStart(n, '0');
}

// Listening TCP sockets owned by a process: [{ address, port, v6 }].
function listeningSockets(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // fd closed meanwhile
    }
  }
  const out = [];
  for (const [file, v6] of [['/proc/net/tcp', false], ['/proc/net/tcp6', true]]) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const [addrHex, portHex] = f[1].split(':');
      if (f[3] !== '0A' || !inodes.has(f[9])) continue; // 0A = LISTEN
      let address;
      if (!v6) {
        address = [3, 2, 1, 0].map((i) => parseInt(addrHex.slice(i * 2, i * 2 + 2), 16)).join('.');
      } else {
        address = addrHex;
      }
      out.push({ address, port: parseInt(portHex, 16), v6 });
    }
  }
  return out;
}

// Live processes whose process group is pgid.
function groupMembers(pgid) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function connectRefused(host, port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    sock.setTimeout(2000);
    sock.once('connect', () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', () => resolve(true));
    sock.once('timeout', () => {
      sock.destroy();
      resolve(true);
    });
  });
}

// Right after stop returned: stop waits until the processes are gone.
function expectGone(stack) {
  assert.equal(processAlive(stack.pid), false, `launcher ${stack.pid} still running after stop`);
  assert.deepEqual(groupMembers(stack.pid), [], `process group ${stack.pid} not empty after stop`);
  assert.equal(existsSync(stack.env.PHOTOFINISH_STACK_DIR), false, 'stack dir removed');
}

async function oneEvent(stack) {
  const msgs = await receiveAll(stack.sqs, stack.env.PHOTOFINISH_QUEUE_URL, { waitMs: 3000, count: 1 });
  assert.equal(msgs.length, 1, 'one notification message');
  const body = JSON.parse(msgs[0].Body);
  assert.ok(Array.isArray(body.Records), `S3 event message, got ${msgs[0].Body}`);
  assert.equal(body.Records.length, 1, 'one record per message');
  return body.Records[0];
}

async function expectNoMessage(stack, waitMs = 1000) {
  const msgs = await receiveAll(stack.sqs, stack.env.PHOTOFINISH_QUEUE_URL, { waitMs });
  assert.deepEqual(msgs.map((m) => m.Body), [], 'no notification expected');
}

describe('one stack', () => {
  let stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('exports every variable, with loopback endpoints and a private dir', () => {
    assert.deepEqual(Object.keys(stack.env).sort(), [...EXPORTED].sort());
    for (const k of ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_SQS', 'AWS_ENDPOINT_URL_DYNAMODB']) {
      assert.match(stack.env[k], /^http:\/\/127\.0\.0\.1:\d+$/, k);
    }
    assert.equal(stack.env.AWS_REGION, 'us-east-1');
    assert.equal(stack.env.AWS_DEFAULT_REGION, 'us-east-1');
    assert.ok(stack.env.AWS_ACCESS_KEY_ID && stack.env.AWS_SECRET_ACCESS_KEY);
    assert.ok(stack.env.PHOTOFINISH_QUEUE_URL.startsWith(`${stack.env.AWS_ENDPOINT_URL_SQS}/`));
    assert.ok(stack.env.PHOTOFINISH_DLQ_URL.startsWith(`${stack.env.AWS_ENDPOINT_URL_SQS}/`));
    assert.notEqual(stack.env.PHOTOFINISH_QUEUE_URL, stack.env.PHOTOFINISH_DLQ_URL);
    const st = statSync(stack.env.PHOTOFINISH_STACK_DIR);
    assert.ok(st.isDirectory());
    assert.equal(st.mode & 0o777, 0o700);
    assert.equal(readFileSync(`${stack.env.PHOTOFINISH_STACK_DIR}/launcher.pid`, 'utf8').trim(), String(stack.pid));
    assert.ok(processAlive(stack.pid));
  });

  it('listens on 127.0.0.1 only', async () => {
    const socks = listeningSockets(stack.pid);
    const ports = [portOf(stack.env.AWS_ENDPOINT_URL_S3), portOf(stack.env.AWS_ENDPOINT_URL_DYNAMODB)];
    assert.deepEqual(
      socks.map((s) => s.port).sort(),
      [...ports].sort(),
      `listening sockets ${JSON.stringify(socks)}`,
    );
    for (const s of socks) {
      assert.equal(s.v6, false, `IPv6 listener ${JSON.stringify(s)}`);
      assert.equal(s.address, '127.0.0.1', `listener on ${s.address}:${s.port}`);
    }
    // And not reachable through this machine's other addresses.
    const others = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a.address);
    for (const addr of others) {
      for (const port of ports) {
        assert.equal(await connectRefused(addr, port), true, `${addr}:${port} must not accept connections`);
      }
    }
  });

  it('has the buckets, the queue with its DLQ redrive policy, and the table', async () => {
    const { env, s3, sqs, ddb, doc } = stack;
    await s3.send(new HeadBucketCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET }));
    await s3.send(new HeadBucketCommand({ Bucket: env.PHOTOFINISH_PROCESSED_BUCKET }));

    const dlq = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: env.PHOTOFINISH_DLQ_URL, AttributeNames: ['QueueArn'] }),
    );
    const main = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: env.PHOTOFINISH_QUEUE_URL, AttributeNames: ['All'] }),
    );
    const redrive = JSON.parse(main.Attributes.RedrivePolicy);
    assert.equal(redrive.deadLetterTargetArn, dlq.Attributes.QueueArn);
    assert.equal(Number(redrive.maxReceiveCount), 5);

    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: env.PHOTOFINISH_TABLE }));
    assert.equal(Table.TableStatus, 'ACTIVE');
    assert.deepEqual(
      Table.KeySchema.map((k) => [k.AttributeName, k.KeyType]).sort(),
      [['pk', 'HASH'], ['sk', 'RANGE']],
    );
    assert.deepEqual(
      Table.AttributeDefinitions.map((a) => [a.AttributeName, a.AttributeType]).sort(),
      [['pk', 'S'], ['sk', 'S']],
    );
    assert.equal(Table.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST');

    await doc.send(new PutCommand({ TableName: env.PHOTOFINISH_TABLE, Item: { pk: 'p#1', sk: 's#1', n: 7 } }));
    const got = await doc.send(new GetCommand({ TableName: env.PHOTOFINISH_TABLE, Key: { pk: 'p#1', sk: 's#1' } }));
    assert.deepEqual(got.Item, { pk: 'p#1', sk: 's#1', n: 7 });
  });

  // Must run before anything is uploaded: the test event is the first message.
  it('sent the s3:TestEvent once at start', async () => {
    const msgs = await receiveAll(stack.sqs, stack.env.PHOTOFINISH_QUEUE_URL, { waitMs: 1000 });
    assert.equal(msgs.length, 1, `exactly one message, got ${msgs.map((m) => m.Body)}`);
    const body = JSON.parse(msgs[0].Body);
    assert.deepEqual(Object.keys(body), ['Service', 'Event', 'Time', 'Bucket', 'RequestId', 'HostId']);
    assert.equal(body.Service, 'Amazon S3');
    assert.equal(body.Event, 's3:TestEvent');
    assert.equal(body.Bucket, stack.env.PHOTOFINISH_INGRESS_BUCKET);
    assert.match(body.Time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(body.RequestId, /^[A-Z0-9]{16}$/);
    assert.ok(body.HostId.length > 0);
  });

  it('PutObject on the ingress bucket sends the S3 event, key URL-encoded as S3 does', async () => {
    const { env, s3 } = stack;
    const cases = [
      ['race day/IMG+1 é.jpg', 'race+day/IMG%2B1+%C3%A9.jpg'],
      ['100%/a=b:c (1).jpg', '100%25/a%3Db%3Ac+%281%29.jpg'],
      ['写真/ゴール.JPG', '%E5%86%99%E7%9C%9F/%E3%82%B4%E3%83%BC%E3%83%AB.JPG'],
      ['plain-key_1.2*x.jpg', 'plain-key_1.2*x.jpg'],
    ];
    for (const [key, encoded] of cases) {
      const body = Buffer.from(`photo bytes of ${key}`);
      const t0 = Date.now();
      const put = await s3.send(
        new PutObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: key, Body: body, ContentType: 'image/jpeg' }),
      );
      const r = await oneEvent(stack);
      assert.deepEqual(Object.keys(r), [
        'eventVersion', 'eventSource', 'awsRegion', 'eventTime', 'eventName', 'userIdentity',
        'requestParameters', 'responseElements', 's3',
      ]);
      assert.equal(r.eventVersion, '2.1');
      assert.equal(r.eventSource, 'aws:s3');
      assert.equal(r.awsRegion, 'us-east-1');
      assert.match(r.eventTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(Math.abs(Date.parse(r.eventTime) - t0) < 5000);
      assert.equal(r.eventName, 'ObjectCreated:Put');
      assert.equal(typeof r.userIdentity.principalId, 'string');
      assert.equal(r.requestParameters.sourceIPAddress, '127.0.0.1');
      assert.equal(r.responseElements['x-amz-request-id'], put.$metadata.requestId);
      assert.equal(typeof r.responseElements['x-amz-id-2'], 'string');
      assert.equal(r.s3.s3SchemaVersion, '1.0');
      assert.equal(typeof r.s3.configurationId, 'string');
      assert.equal(r.s3.bucket.name, env.PHOTOFINISH_INGRESS_BUCKET);
      assert.equal(r.s3.bucket.arn, `arn:aws:s3:::${env.PHOTOFINISH_INGRESS_BUCKET}`);
      assert.equal(typeof r.s3.bucket.ownerIdentity.principalId, 'string');
      assert.deepEqual(Object.keys(r.s3.object), ['key', 'size', 'eTag', 'sequencer']);
      assert.equal(r.s3.object.key, encoded, `encoded key of ${key}`);
      assert.equal(decodeEventKey(r.s3.object.key), key);
      assert.equal(r.s3.object.size, body.length);
      assert.equal(r.s3.object.eTag, md5(body));
      assert.equal(r.s3.object.eTag, unquote(put.ETag));
      assert.match(r.s3.object.sequencer, /^[0-9A-F]{16,}$/);
      // The decoded key reads the object back.
      const got = await s3.send(new GetObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: decodeEventKey(r.s3.object.key) }));
      assert.deepEqual(Buffer.from(await got.Body.transformToByteArray()), body);
    }
  });

  it('sequencers grow for later events on the same key', async () => {
    const { env, s3 } = stack;
    const key = 'seq/same key.jpg';
    const seqs = [];
    for (const content of ['one', 'two', 'three']) {
      await s3.send(new PutObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: key, Body: content }));
      seqs.push((await oneEvent(stack)).s3.object.sequencer);
    }
    await s3.send(new DeleteObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: key }));
    seqs.push((await oneEvent(stack)).s3.object.sequencer);
    for (let i = 1; i < seqs.length; i++) {
      assert.ok(seqGreater(seqs[i], seqs[i - 1]), `${seqs[i]} > ${seqs[i - 1]}`);
    }
  });

  it('multipart upload sends ObjectCreated:CompleteMultipartUpload', async () => {
    const { env, s3 } = stack;
    const Bucket = env.PHOTOFINISH_INGRESS_BUCKET;
    const Key = 'big/finish line+2.jpg';
    const part1 = Buffer.alloc(5 * 1024 * 1024, 1);
    const part2 = Buffer.alloc(1234, 2);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType: 'image/jpeg' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: part1 }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: part2 }));
    // Uploading parts alone sends nothing.
    await expectNoMessage(stack, 500);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
      }),
    );
    const r = await oneEvent(stack);
    assert.equal(r.eventName, 'ObjectCreated:CompleteMultipartUpload');
    assert.equal(r.s3.object.key, 'big/finish+line%2B2.jpg');
    assert.equal(r.s3.object.size, part1.length + part2.length);
    assert.equal(r.s3.object.eTag, unquote(done.ETag));
    assert.match(r.s3.object.eTag, /^[0-9a-f]{32}-2$/);
    // S3's multipart ETag: the MD5 of the parts' binary MD5s, then the count.
    const md5 = (b) => createHash('md5').update(b).digest();
    assert.equal(r.s3.object.eTag, `${createHash('md5').update(Buffer.concat([md5(part1), md5(part2)])).digest('hex')}-2`);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    assert.ok(Buffer.from(await got.Body.transformToByteArray()).equals(Buffer.concat([part1, part2])));
  });

  it('CopyObject into the ingress bucket sends ObjectCreated:Copy', async () => {
    const { env, s3 } = stack;
    const Bucket = env.PHOTOFINISH_INGRESS_BUCKET;
    const body = Buffer.from('copied photo');
    await s3.send(new PutObjectCommand({ Bucket, Key: 'src/a b.jpg', Body: body }));
    assert.equal((await oneEvent(stack)).eventName, 'ObjectCreated:Put');
    const copy = await s3.send(
      new CopyObjectCommand({ Bucket, Key: 'dst/a+b é.jpg', CopySource: `${Bucket}/${encodeURIComponent('src/a b.jpg')}` }),
    );
    const r = await oneEvent(stack);
    assert.equal(r.eventName, 'ObjectCreated:Copy');
    assert.equal(r.s3.object.key, 'dst/a%2Bb+%C3%A9.jpg');
    assert.equal(r.s3.object.size, body.length);
    assert.equal(r.s3.object.eTag, unquote(copy.CopyObjectResult.ETag));
    assert.equal(r.s3.object.eTag, md5(body));
  });

  it('DeleteObject and DeleteObjects send ObjectRemoved:Delete without size or eTag', async () => {
    const { env, s3 } = stack;
    const Bucket = env.PHOTOFINISH_INGRESS_BUCKET;
    for (const Key of ['del/one.jpg', 'del/two 2.jpg', 'del/three+3.jpg']) {
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
    }
    assert.equal((await receiveAll(stack.sqs, env.PHOTOFINISH_QUEUE_URL, { waitMs: 3000, count: 3 })).length, 3);

    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'del/one.jpg' }));
    const r = await oneEvent(stack);
    assert.equal(r.eventName, 'ObjectRemoved:Delete');
    assert.deepEqual(Object.keys(r.s3.object), ['key', 'sequencer']);
    assert.equal(r.s3.object.key, 'del/one.jpg');

    const res = await s3.send(
      new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'del/two 2.jpg' }, { Key: 'del/three+3.jpg' }] } }),
    );
    assert.equal(res.Deleted.length, 2);
    const msgs = await receiveAll(stack.sqs, env.PHOTOFINISH_QUEUE_URL, { waitMs: 3000, count: 2 });
    assert.equal(msgs.length, 2, 'one message per deleted key');
    const records = s3Records(msgs);
    assert.deepEqual(records.map((x) => x.eventName), ['ObjectRemoved:Delete', 'ObjectRemoved:Delete']);
    assert.deepEqual(records.map((x) => x.s3.object.key).sort(), ['del/three%2B3.jpg', 'del/two+2.jpg']);
    for (const x of records) assert.deepEqual(Object.keys(x.s3.object), ['key', 'sequencer']);
    await expectNoMessage(stack, 300);
  });

  it('sends nothing for the processed bucket', async () => {
    const { env, s3 } = stack;
    const Bucket = env.PHOTOFINISH_PROCESSED_BUCKET;
    await s3.send(new PutObjectCommand({ Bucket, Key: 'variants/thumb 1.jpg', Body: 'thumb' }));
    await s3.send(
      new CopyObjectCommand({ Bucket, Key: 'variants/thumb 2.jpg', CopySource: `${Bucket}/variants/thumb%201.jpg` }),
    );
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'variants/thumb 1.jpg' }));
    await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'variants/thumb 2.jpg' }] } }));
    await expectNoMessage(stack, 1000);
  });

  it('a failed S3 request sends nothing', async () => {
    const { env, s3 } = stack;
    await assert.rejects(
      s3.send(
        new CopyObjectCommand({
          Bucket: env.PHOTOFINISH_INGRESS_BUCKET,
          Key: 'copy-of-nothing.jpg',
          CopySource: `${env.PHOTOFINISH_INGRESS_BUCKET}/does-not-exist.jpg`,
        }),
      ),
      /NoSuchKey|does not exist/,
    );
    await expectNoMessage(stack, 500);
  });

  it('takes a 12 MiB photo in one PutObject', async () => {
    const { env, s3 } = stack;
    const body = Buffer.alloc(12 * 1024 * 1024, 7);
    await s3.send(new PutObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: 'huge.jpg', Body: body }));
    const r = await oneEvent(stack);
    assert.equal(r.s3.object.size, body.length);
    assert.equal(r.s3.object.eTag, md5(body));
  });

  it('takes plain HTTP PUTs: form content type, empty body; refuses UploadPartCopy clearly', async () => {
    const { env } = stack;
    const base = `${env.AWS_ENDPOINT_URL_S3}/${env.PHOTOFINISH_PROCESSED_BUCKET}`;
    // curl --data-binary sends application/x-www-form-urlencoded.
    let res = await fetch(`${base}/plain/form.jpg`, {
      method: 'PUT',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=b&c',
    });
    assert.equal(res.status, 200);
    res = await fetch(`${base}/plain/form.jpg`);
    assert.equal(await res.text(), 'a=b&c');
    assert.equal(res.headers.get('content-type'), 'application/x-www-form-urlencoded');
    // An empty object without Content-Type.
    res = await fetch(`${base}/plain/empty.jpg`, { method: 'PUT', headers: { 'content-length': '0' } });
    assert.equal(res.status, 200);
    res = await fetch(`${base}/plain/empty.jpg`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), '0');
    // UploadPartCopy is not there: say so instead of a 500.
    const { UploadId } = await stack.s3.send(
      new CreateMultipartUploadCommand({ Bucket: env.PHOTOFINISH_PROCESSED_BUCKET, Key: 'plain/mp.jpg' }),
    );
    res = await fetch(`${base}/plain/mp.jpg?partNumber=1&uploadId=${UploadId}`, {
      method: 'PUT',
      headers: { 'x-amz-copy-source': `/${env.PHOTOFINISH_PROCESSED_BUCKET}/plain/form.jpg` },
    });
    assert.equal(res.status, 501);
    assert.match(await res.text(), /<Code>NotImplemented<\/Code>/);
    await expectNoMessage(stack, 300);
  });

  it('pages through ListObjectsV2 in S3 (UTF-8 byte) order without repeats or gaps', async () => {
    const { env, s3 } = stack;
    const Bucket = env.PHOTOFINISH_PROCESSED_BUCKET;
    const keys = ['B1', 'a1', 'c1', 'A2', 'b2', 'Z9', 'é1', 'e1', 'd/1', 'd/2', 'D/1'].map((k) => `page/${k}`);
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'x' }));
    const expected = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

    for (const MaxKeys of [1, 2, 3, 1000]) {
      const seen = [];
      let ContinuationToken;
      do {
        const r = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'page/', MaxKeys, ContinuationToken }));
        seen.push(...(r.Contents ?? []).map((c) => c.Key));
        ContinuationToken = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (ContinuationToken);
      assert.deepEqual(seen, expected, `MaxKeys ${MaxKeys}`);
    }

    // With a delimiter: common prefixes once each, objects once each.
    for (const MaxKeys of [1, 2, 1000]) {
      const seen = [];
      let ContinuationToken;
      do {
        const r = await s3.send(
          new ListObjectsV2Command({ Bucket, Prefix: 'page/', Delimiter: '/', MaxKeys, ContinuationToken }),
        );
        seen.push(...(r.Contents ?? []).map((c) => c.Key), ...(r.CommonPrefixes ?? []).map((p) => p.Prefix));
        ContinuationToken = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (ContinuationToken);
      const want = [...expected.filter((k) => !k.slice(5).includes('/')), 'page/D/', 'page/d/'];
      assert.deepEqual(seen.sort(), want.sort(), `delimiter, MaxKeys ${MaxKeys}`);
    }
  });

  it('speaks the SQS JSON protocol the daemon uses (X-Amz-Target, application/x-amz-json-1.0)', async () => {
    const { env } = stack;
    const call = async (action, payload, url = `${env.AWS_ENDPOINT_URL_SQS}/`) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${action}` },
        body: JSON.stringify(payload),
      });
      return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
    };
    const sent = await call('SendMessage', { QueueUrl: env.PHOTOFINISH_QUEUE_URL, MessageBody: 'hello' });
    assert.equal(sent.status, 200);
    assert.match(sent.type, /^application\/x-amz-json-1\.0/);
    assert.equal(sent.body.MD5OfMessageBody, md5('hello'));

    const got = await call('ReceiveMessage', {
      QueueUrl: env.PHOTOFINISH_QUEUE_URL,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      VisibilityTimeout: 30,
      MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
    });
    assert.equal(got.status, 200);
    assert.equal(got.body.Messages.length, 1);
    const m = got.body.Messages[0];
    assert.equal(m.Body, 'hello');
    assert.equal(m.Attributes.ApproximateReceiveCount, '1');

    const cmv = await call('ChangeMessageVisibility', {
      QueueUrl: env.PHOTOFINISH_QUEUE_URL,
      ReceiptHandle: m.ReceiptHandle,
      VisibilityTimeout: 60,
    });
    assert.equal(cmv.status, 200);
    const del = await call('DeleteMessageBatch', {
      QueueUrl: env.PHOTOFINISH_QUEUE_URL,
      Entries: [{ Id: 'm0', ReceiptHandle: m.ReceiptHandle }],
    });
    assert.equal(del.status, 200);
    assert.deepEqual(del.body.Successful, [{ Id: 'm0' }]);
    assert.deepEqual(del.body.Failed, []);

    // Errors come back as JSON with __type, as from AWS.
    const missing = await call('GetQueueUrl', { QueueName: 'no-such-queue' });
    assert.equal(missing.status, 400);
    assert.match(missing.body.__type, /QueueDoesNotExist/);

    // Requests POSTed to the queue URL's path instead of "/" are refused
    // clearly (fauxqs would hand them to S3).
    const wrongPath = await call('ReceiveMessage', { QueueUrl: env.PHOTOFINISH_QUEUE_URL }, env.PHOTOFINISH_QUEUE_URL);
    assert.equal(wrongPath.status, 400);
    assert.match(wrongPath.body.__type, /InvalidAddress/);
    await expectNoMessage(stack, 300);
  });

  it('moves a message to the DLQ after 5 receives, counting ApproximateReceiveCount', async () => {
    const { env, sqs } = stack;
    await purge(sqs, env.PHOTOFINISH_QUEUE_URL);
    await sqs.send(new SendMessageCommand({ QueueUrl: env.PHOTOFINISH_QUEUE_URL, MessageBody: 'poison' }));
    for (let i = 1; i <= 5; i++) {
      const r = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: env.PHOTOFINISH_QUEUE_URL,
          WaitTimeSeconds: 1,
          VisibilityTimeout: 30,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      assert.equal(r.Messages?.length, 1, `receive ${i}`);
      assert.equal(r.Messages[0].Attributes.ApproximateReceiveCount, String(i));
      // Give it back at once, as the daemon does on a failure.
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: env.PHOTOFINISH_QUEUE_URL,
          ReceiptHandle: r.Messages[0].ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    }
    const sixth = await sqs.send(new ReceiveMessageCommand({ QueueUrl: env.PHOTOFINISH_QUEUE_URL, WaitTimeSeconds: 1 }));
    assert.equal(sixth.Messages, undefined, 'the 6th receive finds nothing: the message moved');
    const dead = await receiveAll(sqs, env.PHOTOFINISH_DLQ_URL, { waitMs: 2000, count: 1 });
    assert.deepEqual(dead.map((m) => m.Body), ['poison']);
  });

  it('deleting a message by receipt handle removes it', async () => {
    const { env, sqs } = stack;
    await sqs.send(new SendMessageCommand({ QueueUrl: env.PHOTOFINISH_QUEUE_URL, MessageBody: 'once' }));
    const r = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: env.PHOTOFINISH_QUEUE_URL, WaitTimeSeconds: 1, VisibilityTimeout: 1 }),
    );
    assert.equal(r.Messages?.length, 1);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: env.PHOTOFINISH_QUEUE_URL, ReceiptHandle: r.Messages[0].ReceiptHandle }));
    await expectNoMessage(stack, 1500); // past the 1 s visibility timeout
  });
});

describe('DynamoDB transactions (added to dynalite)', () => {
  let stack;
  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  const S = (s) => ({ S: s });
  const N = (n) => ({ N: String(n) });

  async function item(pk, sk) {
    const r = await stack.ddb.send(
      new GetItemCommand({ TableName: stack.env.PHOTOFINISH_TABLE, Key: { pk: S(pk), sk: S(sk) }, ConsistentRead: true }),
    );
    return r.Item;
  }

  // The shape the catalog writes: the image item conditioned on its
  // version, its code entries put or deleted alongside.
  function catalogTx(version, expected, put, del) {
    const T = stack.env.PHOTOFINISH_TABLE;
    const image = {
      Put: {
        TableName: T,
        Item: { pk: S('img#1'), sk: S('meta'), version: N(version) },
        ...(expected === null
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: '#v = :v',
              ExpressionAttributeNames: { '#v': 'version' },
              ExpressionAttributeValues: { ':v': N(expected) },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
      },
    };
    return [
      image,
      ...del.map((code) => ({ Delete: { TableName: T, Key: { pk: S(`code#${code}`), sk: S('img#1') } } })),
      ...put.map((code) => ({ Put: { TableName: T, Item: { pk: S(`code#${code}`), sk: S('img#1') } } })),
    ];
  }

  it('applies all writes of a TransactWriteItems', async () => {
    await stack.ddb.send(new TransactWriteItemsCommand({ TransactItems: catalogTx(1, null, ['A', 'B'], []) }));
    assert.deepEqual(await item('img#1', 'meta'), { pk: S('img#1'), sk: S('meta'), version: N(1) });
    assert.ok(await item('code#A', 'img#1'));
    assert.ok(await item('code#B', 'img#1'));
  });

  it('writes nothing when a condition fails, and reports every item', async () => {
    const err = await stack.ddb
      .send(new TransactWriteItemsCommand({ TransactItems: catalogTx(2, 7, ['C'], ['A']) }))
      .then(() => null, (e) => e);
    assert.ok(err, 'must be cancelled');
    assert.equal(err.name, 'TransactionCanceledException');
    assert.match(err.message, /\[ConditionalCheckFailed, None, None\]/);
    assert.deepEqual(err.CancellationReasons.map((r) => r.Code), ['ConditionalCheckFailed', 'None', 'None']);
    assert.deepEqual(err.CancellationReasons[0].Item, { pk: S('img#1'), sk: S('meta'), version: N(1) });
    assert.ok(await item('code#A', 'img#1'), 'A not deleted');
    assert.equal(await item('code#C', 'img#1'), undefined, 'C not written');
    assert.equal((await item('img#1', 'meta')).version.N, '1');
  });

  it('rolls back when a later write is rejected', async () => {
    const T = stack.env.PHOTOFINISH_TABLE;
    const err = await stack.ddb
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: T, Item: { pk: S('rb#1'), sk: S('x') } } },
            { Put: { TableName: T, Item: { pk: S('rb#2'), sk: N(1) } } }, // sk must be S
          ],
        }),
      )
      .then(() => null, (e) => e);
    assert.equal(err?.name, 'ValidationException');
    assert.equal(await item('rb#1', 'x'), undefined, 'first write undone');
  });

  it('refuses two operations on one item', async () => {
    const T = stack.env.PHOTOFINISH_TABLE;
    await assert.rejects(
      stack.ddb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName: T, Item: { pk: S('d#1'), sk: S('x') } } },
            { Delete: { TableName: T, Key: { pk: S('d#1'), sk: S('x') } } },
          ],
        }),
      ),
      (e) => e.name === 'ValidationException' && /multiple operations on one item/.test(e.message),
    );
  });

  it('is idempotent per ClientRequestToken', async () => {
    const input = { ClientRequestToken: 'retry-1', TransactItems: catalogTx(2, 1, ['C'], ['A']) };
    await stack.ddb.send(new TransactWriteItemsCommand(input));
    // The same call again (a retry after a lost response) succeeds without re-applying.
    await stack.ddb.send(new TransactWriteItemsCommand(input));
    assert.equal((await item('img#1', 'meta')).version.N, '2');
    assert.equal(await item('code#A', 'img#1'), undefined);
    assert.ok(await item('code#C', 'img#1'));
    await assert.rejects(
      stack.ddb.send(new TransactWriteItemsCommand({ ClientRequestToken: 'retry-1', TransactItems: catalogTx(3, 2, [], []) })),
      (e) => e.name === 'IdempotentParameterMismatchException',
    );
  });

  it('serializes concurrent transactions: one of ten racing writers wins', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        stack.ddb.send(new TransactWriteItemsCommand({ TransactItems: catalogTx(3, 2, [`R${i}`], []) })),
      ),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      assert.equal(r.reason.name, 'TransactionCanceledException');
    }
    assert.equal((await item('img#1', 'meta')).version.N, '3');
  });

  it('TransactGetItems reads several items', async () => {
    const T = stack.env.PHOTOFINISH_TABLE;
    const r = await stack.ddb.send(
      new TransactGetItemsCommand({
        TransactItems: [
          { Get: { TableName: T, Key: { pk: S('img#1'), sk: S('meta') } } },
          { Get: { TableName: T, Key: { pk: S('none'), sk: S('meta') } } },
        ],
      }),
    );
    assert.equal(r.Responses[0].Item.version.N, '3');
    assert.equal(r.Responses[1].Item, undefined);
  });

  it('survives a client that hangs up mid-request', async () => {
    const url = new URL(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
    await new Promise((resolve) => {
      const sock = net.connect({ host: url.hostname, port: Number(url.port) }, () => {
        sock.write(
          'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n' +
            'X-Amz-Target: DynamoDB_20120810.GetItem\r\nContent-Length: 1000\r\n\r\n{"TableName":',
        );
        setTimeout(() => {
          sock.destroy();
          resolve();
        }, 50);
      });
      sock.on('error', resolve);
    });
    const { Table } = await stack.ddb.send(new DescribeTableCommand({ TableName: stack.env.PHOTOFINISH_TABLE }));
    assert.equal(Table.TableStatus, 'ACTIVE');
    assert.ok(processAlive(stack.pid));
  });
});

describe('browsers and presigned URLs', () => {
  let stack;
  let open; // PHOTOFINISH_STACK_CORS_ORIGINS unset: "*"
  const ORIGIN = 'https://console.example:8443';
  before(async () => {
    [stack, open] = await Promise.all([
      startStack({ extraEnv: { PHOTOFINISH_STACK_CORS_ORIGINS: `${ORIGIN}, http://localhost:5173` } }),
      startStack({ extraEnv: { PHOTOFINISH_STACK_CORS_ORIGINS: '' } }),
    ]);
  });
  after(async () => {
    await Promise.allSettled([stack?.stop(), open?.stop()]);
  });

  const presign = (s, command, opts = {}, creds) => {
    const client = new S3Client({
      region: s.env.AWS_REGION,
      endpoint: s.env.AWS_ENDPOINT_URL_S3,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      credentials: creds ?? { accessKeyId: s.env.AWS_ACCESS_KEY_ID, secretAccessKey: s.env.AWS_SECRET_ACCESS_KEY },
    });
    return getSignedUrl(client, command, { expiresIn: 300, ...opts }).finally(() => client.destroy());
  };

  const preflight = (url, origin, method = 'PUT', headers = 'content-type') =>
    fetch(url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers },
    });

  it('answers CORS preflights for the configured origins only', async () => {
    const Bucket = stack.env.PHOTOFINISH_PROCESSED_BUCKET;
    const url = await presign(stack, new PutObjectCommand({ Bucket, Key: 'cors/a.jpg' }));
    let res = await preflight(url, ORIGIN);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
    assert.match(res.headers.get('access-control-allow-methods'), /\bPUT\b/);
    assert.equal(res.headers.get('access-control-allow-headers'), 'content-type');
    assert.match(res.headers.get('access-control-expose-headers'), /\bETag\b/);
    assert.match(res.headers.get('vary'), /Origin/);
    res = await preflight(url, 'http://localhost:5173', 'DELETE', '');
    assert.equal(res.status, 200);
    // another origin, or a method S3 CORS rules cannot allow, is refused as by S3
    res = await preflight(url, 'https://evil.example');
    assert.equal(res.status, 403);
    assert.match(await res.text(), /<Code>AccessForbidden<\/Code>/);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    res = await preflight(url, ORIGIN, 'PATCH');
    assert.equal(res.status, 403);
    res = await fetch(url, { method: 'OPTIONS' });
    assert.equal(res.status, 400);
    // the default ("*") answers any origin
    res = await preflight(`${open.env.AWS_ENDPOINT_URL_S3}/${open.env.PHOTOFINISH_INGRESS_BUCKET}/x.jpg?partNumber=1&uploadId=u`, 'http://anything.test');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
  });

  it('a presigned PUT from an allowed origin stores the object and exposes the ETag; errors carry CORS too', async () => {
    const Bucket = stack.env.PHOTOFINISH_PROCESSED_BUCKET;
    const url = await presign(stack, new PutObjectCommand({ Bucket, Key: 'cors/put.jpg' }));
    let res = await fetch(url, { method: 'PUT', body: 'jpeg!', headers: { origin: ORIGIN, 'content-type': 'image/jpeg' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
    assert.match(res.headers.get('access-control-expose-headers'), /\bETag\b/);
    assert.match(res.headers.get('etag'), /^"[0-9a-f]{32}"$/);
    const got = await stack.s3.send(new GetObjectCommand({ Bucket, Key: 'cors/put.jpg' }));
    assert.equal(await got.Body.transformToString(), 'jpeg!');
    res = await fetch(url.replace('cors/put.jpg', 'cors/other.jpg'), { method: 'PUT', body: 'x', headers: { origin: ORIGIN } });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
    res = await fetch(url, { method: 'PUT', body: 'x', headers: { origin: 'https://evil.example' } });
    assert.equal(res.status, 200, 'CORS is for browsers; S3 still takes a valid request');
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  it('refuses presigned URLs S3 would refuse, with S3 status and code', async () => {
    const Bucket = stack.env.PHOTOFINISH_PROCESSED_BUCKET;
    await stack.s3.send(new PutObjectCommand({ Bucket, Key: 'sig/a.txt', Body: 'signed' }));
    const get = new GetObjectCommand({ Bucket, Key: 'sig/a.txt' });
    const expect = async (url, status, code) => {
      const res = await fetch(url);
      const text = await res.text();
      assert.equal(res.status, status, text);
      if (code) assert.match(text, new RegExp(`<Code>${code}</Code>`));
    };
    await expect(await presign(stack, get), 200);
    assert.equal(await (await fetch(await presign(stack, get))).text(), 'signed');
    await expect(await presign(stack, get, {}, { accessKeyId: stack.env.AWS_ACCESS_KEY_ID, secretAccessKey: 'wrong' }), 403, 'SignatureDoesNotMatch');
    await expect(await presign(stack, get, {}, { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' }), 403, 'InvalidAccessKeyId');
    await expect(await presign(stack, get, { expiresIn: 10, signingDate: new Date(Date.now() - 60_000) }), 403, 'AccessDenied');
    await expect(await presign(stack, get, { signingDate: new Date(Date.now() + 3_600_000) }), 403, 'AccessDenied');
    const good = await presign(stack, get);
    await expect(good.replace('X-Amz-Expires=300', 'X-Amz-Expires=604801'), 400, 'AuthorizationQueryParametersError');
    await expect(good.replace(/&X-Amz-Credential=[^&]+/, ''), 400, 'AuthorizationQueryParametersError');
    await expect(good.replace('sig/a.txt', 'sig/b.txt'), 403, 'SignatureDoesNotMatch');
    await expect(`${good}&extra=1`, 403, 'SignatureDoesNotMatch');
    // a HEAD with a GET signature: the method is signed
    const head = await fetch(good, { method: 'HEAD' });
    assert.equal(head.status, 403);
    // requests signed with an Authorization header are not affected
    assert.equal((await stack.s3.send(get)).$metadata.httpStatusCode, 200);
  });

  it('ListParts and ListMultipartUploads answer in S3\'s format; an upload id belongs to its key', async () => {
    const Bucket = stack.env.PHOTOFINISH_PROCESSED_BUCKET;
    const { UploadId } = await stack.s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'lp/a & b.jpg' }));
    for (const PartNumber of [3, 1]) {
      await stack.s3.send(new UploadPartCommand({ Bucket, Key: 'lp/a & b.jpg', UploadId, PartNumber, Body: `part ${PartNumber}` }));
    }
    const p = await stack.s3.send(new ListPartsCommand({ Bucket, Key: 'lp/a & b.jpg', UploadId, MaxParts: 1 }));
    assert.deepEqual(p.Parts.map((x) => [x.PartNumber, x.Size]), [[1, 6]]);
    assert.equal(p.IsTruncated, true);
    assert.equal(p.NextPartNumberMarker, '1');
    const p2 = await stack.s3.send(new ListPartsCommand({ Bucket, Key: 'lp/a & b.jpg', UploadId, PartNumberMarker: '1' }));
    assert.deepEqual(p2.Parts.map((x) => x.PartNumber), [3]);
    assert.equal(p2.IsTruncated, false);
    const u = await stack.s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'lp/' }));
    assert.deepEqual(u.Uploads.map((x) => [x.Key, x.UploadId]), [['lp/a & b.jpg', UploadId]]);
    await assert.rejects(
      stack.s3.send(new UploadPartCommand({ Bucket, Key: 'lp/other.jpg', UploadId, PartNumber: 2, Body: 'x' })),
      (e) => e.name === 'NoSuchUpload',
    );
    await assert.rejects(
      stack.s3.send(new UploadPartCommand({ Bucket, Key: 'lp/a & b.jpg', UploadId, PartNumber: 10001, Body: 'x' })),
      (e) => e.name === 'InvalidArgument',
    );
    await stack.s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'lp/a & b.jpg', UploadId }));
    await assert.rejects(stack.s3.send(new ListPartsCommand({ Bucket, Key: 'lp/a & b.jpg', UploadId })), (e) => e.name === 'NoSuchUpload');
    assert.deepEqual((await stack.s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'lp/' }))).Uploads ?? [], []);
  });

  it('a malformed PHOTOFINISH_STACK_CORS_ORIGINS stops the start with a clear message', async () => {
    await assert.rejects(
      startStack({ extraEnv: { PHOTOFINISH_STACK_CORS_ORIGINS: 'console.example' } }),
      (e) => /PHOTOFINISH_STACK_CORS_ORIGINS/.test(`${e.message}${e.stderr ?? ''}${e.stdout ?? ''}`),
    );
  });
});

describe('two stacks in parallel', () => {
  const stacks = [];
  after(async () => {
    await Promise.allSettled(stacks.map((s) => s.stop()));
  });

  it('start side by side and are independent', async () => {
    const started = await Promise.allSettled([startStack(), startStack()]);
    for (const s of started) if (s.status === 'fulfilled') stacks.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [a, b] = stacks;

    assert.notEqual(a.pid, b.pid);
    assert.notEqual(a.env.PHOTOFINISH_STACK_DIR, b.env.PHOTOFINISH_STACK_DIR);
    const ports = new Set([a, b].flatMap((s) => [portOf(s.env.AWS_ENDPOINT_URL_S3), portOf(s.env.AWS_ENDPOINT_URL_DYNAMODB)]));
    assert.equal(ports.size, 4, 'four distinct ports');
    for (const k of ['PHOTOFINISH_INGRESS_BUCKET', 'PHOTOFINISH_PROCESSED_BUCKET', 'PHOTOFINISH_TABLE', 'PHOTOFINISH_QUEUE_URL']) {
      assert.notEqual(a.env[k], b.env[k], k);
    }

    // Each has exactly its own test event.
    for (const s of [a, b]) {
      const msgs = await receiveAll(s.sqs, s.env.PHOTOFINISH_QUEUE_URL, { waitMs: 500 });
      assert.deepEqual(msgs.map((m) => JSON.parse(m.Body).Bucket), [s.env.PHOTOFINISH_INGRESS_BUCKET]);
    }
    // An upload to A notifies A only; B does not even have A's bucket.
    await a.s3.send(new PutObjectCommand({ Bucket: a.env.PHOTOFINISH_INGRESS_BUCKET, Key: 'only-a.jpg', Body: 'a' }));
    assert.equal((await oneEvent(a)).s3.object.key, 'only-a.jpg');
    await expectNoMessage(b, 500);
    await assert.rejects(b.s3.send(new HeadBucketCommand({ Bucket: a.env.PHOTOFINISH_INGRESS_BUCKET })));
  });

  it('stop leaves no process and no directory behind', async () => {
    assert.equal(stacks.length, 2);
    for (const s of stacks) assert.ok(processAlive(s.pid));
    await Promise.all(stacks.map((s) => s.stop()));
    for (const s of stacks) expectGone(s);
    // Stopping again is harmless.
    await Promise.all(stacks.map((s) => execFileP(STOP, [s.env.PHOTOFINISH_STACK_DIR])));
  });
});

describe('lifecycle', () => {
  it('works from a shell: eval "$(test/stack/start)" ... test/stack/stop', async () => {
    const script = `
      set -e
      eval "$("${START}")"
      test -n "$PHOTOFINISH_QUEUE_URL"
      pid=$(cat "$PHOTOFINISH_STACK_DIR/launcher.pid")
      echo "pid=$pid dir=$PHOTOFINISH_STACK_DIR s3=$AWS_ENDPOINT_URL_S3"
      "${STOP}"
      test ! -e "$PHOTOFINISH_STACK_DIR"
    `;
    const { stdout } = await execFileP('bash', ['-c', script], { timeout: 30000 });
    const m = /pid=(\d+) dir=(\S+) s3=(http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
    assert.ok(m, stdout);
    const pid = Number(m[1]);
    assert.equal(processAlive(pid), false, `launcher ${pid} still running after stop`);
    assert.deepEqual(groupMembers(pid), []);
    assert.equal(await connectRefused('127.0.0.1', portOf(m[3])), true);
  });

  it('start prints only export lines on stdout', async () => {
    const { stdout, stderr } = await execFileP(START, [], { timeout: 30000 });
    const dir = /PHOTOFINISH_STACK_DIR='([^']+)'/.exec(stdout)?.[1];
    try {
      const lines = stdout.trimEnd().split('\n');
      assert.equal(lines.length, EXPORTED.length);
      for (const line of lines) assert.match(line, /^export [A-Z0-9_]+='[^']*'$/);
      assert.match(stderr, /ready/);
    } finally {
      if (dir) await execFileP(STOP, [dir]);
    }
  });

  it('stops by itself when PHOTOFINISH_STACK_PARENT_PID dies', async () => {
    const parent = spawn('sleep', ['60'], { stdio: 'ignore' });
    let stack;
    try {
      stack = await startStack({ parentPid: parent.pid });
      assert.ok(processAlive(stack.pid));
      parent.kill('SIGKILL');
      await waitFor(() => !processAlive(stack.pid) && groupMembers(stack.pid).length === 0, {
        timeoutMs: 5000,
        what: 'the stack to notice its parent is gone',
      });
      await waitFor(() => !existsSync(stack.env.PHOTOFINISH_STACK_DIR), { what: 'dir removed' });
    } finally {
      parent.kill('SIGKILL');
      await stack?.stop();
    }
  });

  it('a failed start exits non-zero, says why, and leaves nothing behind', async () => {
    const err = await execFileP(START, [], {
      env: { ...process.env, PHOTOFINISH_STACK_SUFFIX: 'NOT VALID' },
      timeout: 30000,
    }).then(
      () => null,
      (e) => e,
    );
    assert.ok(err, 'start must fail');
    assert.notEqual(err.code, 0);
    assert.equal(err.stdout, '', 'nothing on stdout');
    assert.match(err.stderr, /FAILED: .*PHOTOFINISH_STACK_SUFFIX/);
    const dir = /starting \(dir (\S+)\)/.exec(err.stderr)?.[1];
    assert.ok(dir, err.stderr);
    assert.equal(existsSync(dir), false, 'dir removed');
    // No launcher for that dir survives.
    const left = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(dir);
        } catch {
          return false;
        }
      });
    assert.deepEqual(left, []);
  });
});
