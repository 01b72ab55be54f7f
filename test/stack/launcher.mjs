// The local AWS stack: one process that serves
//   - S3 and SQS (fauxqs) on one port, and
//   - DynamoDB (dynalite) on another,
// both bound to 127.0.0.1 on ports chosen by the kernel, creates the
// photofinish resources, and adds what the emulators lack: S3 event
// notifications from the ingress bucket to the SQS queue (below) and
// DynamoDB transactions (lib/dynamo.mjs); lib/fauxqs-fixes.mjs corrects
// fauxqs where it differs from S3 in ways photofinish would notice and adds
// ListParts and ListMultipartUploads; lib/s3cors.mjs answers browsers (CORS,
// origins from PHOTOFINISH_STACK_CORS_ORIGINS, default "*"); and
// lib/presign-check.mjs verifies presigned URLs' signatures as S3 does
// (PHOTOFINISH_STACK_VERIFY_PRESIGNED=0 turns that off).
//
// It is started by test/stack/start (never by hand): start passes the stack
// directory and an IPC channel on which the launcher reports readiness.
// Its stdout/stderr go to <dir>/launcher.log.
//
// It shuts down on SIGTERM/SIGINT/SIGHUP, when the process whose pid is in
// PHOTOFINISH_STACK_PARENT_PID is gone, or after PHOTOFINISH_STACK_MAX_SECONDS.

// The AWS SDK warns on every start that releases after January 2027 need
// Node 22; this machine runs Node 20 with pinned versions.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import path from 'node:path';

import { buildApp } from 'fauxqs';
import { S3Client, CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import {
  SQSClient,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { DynamoDBClient, CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';

import { eventRecord, testEvent, makeSequencer } from './lib/s3events.mjs';
import { fixListOrder, raiseS3BodyLimit, fixPutBodies, addMultipartListing, fastMultipartComplete } from './lib/fauxqs-fixes.mjs';
import { addS3Cors, parseCorsOrigins } from './lib/s3cors.mjs';
import { addPresignCheck } from './lib/presign-check.mjs';
import { createDynamo } from './lib/dynamo.mjs';

// fauxqs keeps its stores internal; the stack owns them so that queue URLs
// point at the emulator itself (http://127.0.0.1:PORT/000000000000/NAME)
// and so that the notification hook can read object size and ETag
// synchronously, before the S3 response is sent.
const fauxqsEntry = import.meta.resolve('fauxqs');
const { SqsStore } = await import(new URL('./sqs/sqsStore.js', fauxqsEntry));
const { SnsStore } = await import(new URL('./sns/snsStore.js', fauxqsEntry));
const { S3Store } = await import(new URL('./s3/s3Store.js', fauxqsEntry));

const HOST = '127.0.0.1';
const REGION = 'us-east-1';
const ACCESS_KEY_ID = 'photofinish-test';
const SECRET_ACCESS_KEY = 'photofinish-test-secret';
const PRINCIPAL_ID = 'AWS:AIDAPHOTOFINISHTEST';
const OWNER_ID = 'A1PHOTOFINISHOWNER';
const CONFIGURATION_ID = 'photofinish-ingress-events';
const MAX_RECEIVE_COUNT = 5;
const S3_BODY_LIMIT = 256 * 1024 * 1024; // per request; S3 allows 5 GiB

function log(...args) {
  console.log(new Date().toISOString(), ...args);
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--dir') out.dir = argv[++i];
  }
  return out;
}

const { dir } = parseArgs(process.argv.slice(2));
if (!dir || !path.isAbsolute(dir) || !existsSync(dir)) {
  console.error('launcher: --dir <existing absolute path> is required (use test/stack/start)');
  process.exit(2);
}

function report(msg) {
  if (process.send && process.connected) process.send(msg);
}

// Before anything is started: report, then exit once the message is out.
function fatal(message) {
  log('error:', message);
  if (process.send && process.connected) process.send({ type: 'error', message }, () => process.exit(2));
  else process.exit(2);
}

let corsOrigins;
try {
  corsOrigins = parseCorsOrigins(process.env.PHOTOFINISH_STACK_CORS_ORIGINS);
} catch (err) {
  fatal(err.message);
  await new Promise(() => {}); // fatal() exits
}
const verifyPresigned = process.env.PHOTOFINISH_STACK_VERIFY_PRESIGNED !== '0';

const suffix = process.env.PHOTOFINISH_STACK_SUFFIX || randomBytes(3).toString('hex');
if (!/^[a-z0-9][a-z0-9-]{0,19}$/.test(suffix)) {
  fatal(`PHOTOFINISH_STACK_SUFFIX must match [a-z0-9][a-z0-9-]{0,19}, got ${JSON.stringify(suffix)}`);
  await new Promise(() => {}); // fatal() exits
}

const names = {
  ingress: `photofinish-ingress-${suffix}`,
  processed: `photofinish-processed-${suffix}`,
  queue: `photofinish-ingress-events-${suffix}`,
  dlq: `photofinish-ingress-events-dlq-${suffix}`,
  table: `photofinish-${suffix}`,
};

// ---------------------------------------------------------------- fauxqs --

const sqsStore = new SqsStore();
sqsStore.host = ''; // queue URL = http://<Host header of CreateQueue>/000000000000/<name>
const snsStore = new SnsStore();
const s3Store = new S3Store();

const app = buildApp({
  logger: process.env.PHOTOFINISH_STACK_LOG === '1',
  defaultRegion: REGION,
  stores: { sqsStore, snsStore, s3Store },
});
// CORS first, so that every answer (a refused signature too) reaches a
// browser; then presigned URLs are checked before S3 handling sees them.
addS3Cors(app, corsOrigins);
if (verifyPresigned) {
  addPresignCheck(app, { region: REGION, secrets: new Map([[ACCESS_KEY_ID, SECRET_ACCESS_KEY]]) }, log);
}
fixListOrder(s3Store);
fixPutBodies(app);
addMultipartListing(app, s3Store);
fastMultipartComplete(s3Store);
if (!raiseS3BodyLimit(app, S3_BODY_LIMIT)) {
  log('warning: could not raise the S3 request body limit; it stays at 11 MiB');
}

// SQS JSON-protocol requests belong on "/" (the queue URL travels in the
// body). fauxqs would route a POST to the queue URL's path to its S3
// DeleteObjects handler and answer 200 with XML; answer with a clear
// error instead.
app.addHook('onRequest', async (request, reply) => {
  const target = request.headers['x-amz-target'];
  if (request.method === 'POST' && typeof target === 'string' && target.startsWith('AmazonSQS.')) {
    const pathname = request.url.split('?')[0];
    if (pathname !== '/') {
      reply
        .code(400)
        .header('content-type', 'application/x-amz-json-1.0')
        .send({
          __type: 'com.amazonaws.sqs#InvalidAddress',
          message: `SQS JSON requests must be POSTed to "/" of the endpoint, not ${pathname} (the QueueUrl goes in the body)`,
        });
      return reply;
    }
  }
});

const nextSequencer = makeSequencer();
let mainQueue; // set once created

function enqueueNotification(body) {
  if (!mainQueue) return;
  const msg = SqsStore.createMessage(JSON.stringify(body), {});
  mainQueue.enqueue(msg);
}

function lookupObject(bucket, key) {
  return s3Store.buckets.get(bucket)?.get(key);
}

function unescapeXml(s) {
  return s
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll(/&#x([0-9a-fA-F]+);/g, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replaceAll(/&#([0-9]+);/g, (_, d) => String.fromCodePoint(parseInt(d, 10)))
    .replaceAll('&amp;', '&');
}

// Which S3 operation a successful response belongs to, and its events.
function s3Events(request, reply, payload) {
  const status = reply.statusCode;
  if (status < 200 || status >= 300) return [];
  const bucket = request.params?.bucket;
  if (bucket !== names.ingress) return [];
  const key = request.params['*'] ?? '';
  const query = request.query ?? {};
  const method = request.method;

  if (method === 'PUT' && key && !('uploadId' in query) && !('partNumber' in query)) {
    const obj = lookupObject(bucket, key);
    const copy = request.headers['x-amz-copy-source'] !== undefined;
    return [{
      eventName: copy ? 'ObjectCreated:Copy' : 'ObjectCreated:Put',
      key,
      size: obj?.contentLength,
      eTag: obj?.etag ?? reply.getHeader('etag'),
    }];
  }
  if (method === 'POST' && key && query.uploadId) {
    const obj = lookupObject(bucket, key);
    return [{
      eventName: 'ObjectCreated:CompleteMultipartUpload',
      key,
      size: obj?.contentLength,
      eTag: obj?.etag,
    }];
  }
  if (method === 'DELETE' && key && !('uploadId' in query)) {
    return [{ eventName: 'ObjectRemoved:Delete', key }];
  }
  if (method === 'POST' && typeof payload === 'string' && payload.includes('<DeleteResult')) {
    // DeleteObjects. The keys come from the request (in Quiet mode S3 lists
    // no <Deleted> entries), less those the response reports as <Error>.
    const requestXml = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : String(request.body ?? '');
    const failed = new Set();
    for (const m of payload.matchAll(/<Error>\s*<Key>([\s\S]*?)<\/Key>/g)) failed.add(unescapeXml(m[1]));
    const out = [];
    for (const m of requestXml.matchAll(/<Key>([\s\S]*?)<\/Key>/g)) {
      const k = unescapeXml(m[1]);
      if (!failed.has(k)) out.push({ eventName: 'ObjectRemoved:Delete', key: k });
    }
    return out;
  }
  return [];
}

// Registered after fauxqs's own onSend hook, so x-amz-request-id is set.
// Runs before the response is written: when a client sees the S3 response,
// the event is already in the queue.
app.addHook('onSend', async (request, reply, payload) => {
  try {
    for (const ev of s3Events(request, reply, payload)) {
      const record = eventRecord({
        region: REGION,
        eventName: ev.eventName,
        bucket: names.ingress,
        key: ev.key,
        size: ev.size,
        eTag: ev.eTag,
        sequencer: nextSequencer(),
        sourceIp: request.ip,
        requestId: String(reply.getHeader('x-amz-request-id') ?? ''),
        hostId: String(reply.getHeader('x-amz-id-2') ?? ''),
        principalId: PRINCIPAL_ID,
        ownerId: OWNER_ID,
        configurationId: CONFIGURATION_ID,
      });
      enqueueNotification({ Records: [record] });
      log('notify', ev.eventName, JSON.stringify(ev.key));
    }
  } catch (err) {
    log('notification failed:', err?.stack ?? err);
  }
  return payload;
});

// -------------------------------------------------------------- dynalite --

// dynalite with TransactWriteItems/TransactGetItems added (lib/dynamo.mjs).
const dynamo = createDynamo({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });

function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
}

// -------------------------------------------------------------- lifecycle --

let closing = false;
let ready = false;
let startGone = false;
async function shutdown(reason, code = 0) {
  if (closing) return;
  closing = true;
  log('shutting down:', reason);
  const hardStop = setTimeout(() => process.exit(code), 3000);
  hardStop.unref();
  try {
    dynamo.closeAllConnections?.();
    await Promise.allSettled([
      app.close(),
      new Promise((resolve) => dynamo.close(() => resolve())),
    ]);
  } finally {
    // Before readiness, start owns the directory (it shows the log on failure).
    if (ready || startGone) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // stop removes it too
      }
    }
    process.exit(code);
  }
}

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(sig, () => shutdown(sig));
}
process.on('uncaughtException', (err) => {
  log('uncaught exception:', err?.stack ?? err);
  report({ type: 'error', message: String(err?.message ?? err) });
  shutdown('uncaught exception', 1);
});
process.on('unhandledRejection', (err) => {
  log('unhandled rejection:', err?.stack ?? err);
  report({ type: 'error', message: String(err?.message ?? err) });
  shutdown('unhandled rejection', 1);
});

// If start goes away before the stack is ready, nobody will stop it.
process.on('disconnect', () => {
  if (!ready) {
    startGone = true;
    shutdown('start went away before the stack was ready', 1);
  }
});

const parentPid = Number(process.env.PHOTOFINISH_STACK_PARENT_PID || 0);
if (parentPid > 0) {
  setInterval(() => {
    try {
      process.kill(parentPid, 0);
    } catch (err) {
      if (err.code === 'ESRCH') shutdown(`parent process ${parentPid} is gone`);
    }
  }, 500).unref();
}
const maxSeconds = Number(process.env.PHOTOFINISH_STACK_MAX_SECONDS || 0);
if (maxSeconds > 0) {
  setTimeout(() => shutdown(`PHOTOFINISH_STACK_MAX_SECONDS=${maxSeconds} reached`), maxSeconds * 1000).unref();
}

// ---------------------------------------------------------------- startup --

async function waitUntil(what, fn, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} did not become ready: ${lastErr?.message ?? 'timed out'}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function main() {
  const awsPort = await app.listen({ host: HOST, port: 0 }).then(() => app.server.address().port);
  const ddbPort = await listen(dynamo, 0);
  const awsUrl = `http://${HOST}:${awsPort}`;
  const ddbUrl = `http://${HOST}:${ddbPort}`;
  log(`S3+SQS (fauxqs) listening at ${awsUrl}, DynamoDB (dynalite) at ${ddbUrl}`);

  const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY };
  const s3 = new S3Client({ region: REGION, endpoint: awsUrl, forcePathStyle: true, credentials });
  const sqs = new SQSClient({ region: REGION, endpoint: awsUrl, credentials });
  const ddb = new DynamoDBClient({ region: REGION, endpoint: ddbUrl, credentials });

  // Over TCP, as every client will: proves both ports answer.
  await s3.send(new CreateBucketCommand({ Bucket: names.ingress }));
  await s3.send(new CreateBucketCommand({ Bucket: names.processed }));
  await s3.send(new HeadBucketCommand({ Bucket: names.ingress }));
  await s3.send(new HeadBucketCommand({ Bucket: names.processed }));

  const { QueueUrl: dlqUrl } = await sqs.send(new CreateQueueCommand({ QueueName: names.dlq }));
  const { Attributes: dlqAttrs } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  const { QueueUrl: queueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: names.queue,
      Attributes: {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqAttrs.QueueArn,
          maxReceiveCount: String(MAX_RECEIVE_COUNT),
        }),
      },
    }),
  );
  mainQueue = sqsStore.getQueue(queueUrl);
  if (!mainQueue) throw new Error(`queue ${queueUrl} not found in the store after CreateQueue`);

  await ddb.send(
    new CreateTableCommand({
      TableName: names.table,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntil('DynamoDB table', async () => {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: names.table }));
    return Table?.TableStatus === 'ACTIVE';
  });

  // S3 sends this when a notification configuration is saved on a bucket.
  await sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(testEvent(names.ingress)) }),
  );

  s3.destroy();
  sqs.destroy();
  ddb.destroy();

  const env = {
    AWS_ENDPOINT_URL_S3: awsUrl,
    AWS_ENDPOINT_URL_SQS: awsUrl,
    AWS_ENDPOINT_URL_DYNAMODB: ddbUrl,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION, // what the AWS CLI v1 and boto read
    AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
    PHOTOFINISH_INGRESS_BUCKET: names.ingress,
    PHOTOFINISH_PROCESSED_BUCKET: names.processed,
    PHOTOFINISH_TABLE: names.table,
    PHOTOFINISH_QUEUE_URL: queueUrl,
    PHOTOFINISH_DLQ_URL: dlqUrl,
    PHOTOFINISH_STACK_DIR: dir,
  };
  const tmp = path.join(dir, 'env.json.tmp');
  writeFileSync(tmp, JSON.stringify(env, null, 2) + '\n');
  renameSync(tmp, path.join(dir, 'env.json'));
  ready = true;
  log('ready', JSON.stringify(env));
  report({ type: 'ready', env, pid: process.pid });
}

main().catch((err) => {
  log('startup failed:', err?.stack ?? err);
  report({ type: 'error', message: String(err?.message ?? err) });
  shutdown('startup failed', 1);
});
