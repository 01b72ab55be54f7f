// Failures the daemon must survive without losing or duplicating a photo:
// kill -9 mid-batch, the AWS endpoints freezing for 10 s, SIGTERM with work
// in flight. Each test runs its own stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { startStack, waitFor } from './lib/stack.mjs';
import { getJson, startDaemon } from './lib/daemon.mjs';
import { imageId, makePhotos } from './lib/photos.mjs';

function batch(n, prefix) {
  return Array.from({ length: n }, (_, i) => ({
    file: `${prefix}-${String(i).padStart(2, '0')}.jpg`, codes: [String(50000 + i), '77777'], seed: 100 + i,
    width: 4000, height: 3000, takenAt: `2026:05:03 10:${String(i).padStart(2, '0')}:00`,
  }));
}

async function uploadAll(stack, dir, specs) {
  for (const s of specs) {
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.env.PHOTOFINISH_INGRESS_BUCKET, Key: s.file, Body: readFileSync(path.join(dir, s.file)) }));
  }
}

/** Every photo is in the catalog exactly once: one image item, one entry per code. */
async function assertExactlyOnce(stack, specs) {
  const env = stack.env;
  const scan = await stack.ddb.send(new ScanCommand({ TableName: env.PHOTOFINISH_TABLE }));
  const images = scan.Items.filter((i) => i.sk.S === 'IMAGE');
  assert.equal(images.length, specs.length, 'one image item per photo');
  for (const s of specs) {
    const id = imageId(env.PHOTOFINISH_INGRESS_BUCKET, s.file);
    const img = images.find((i) => i.id.S === id);
    assert.ok(img, `${s.file} in the catalog`);
    assert.equal(img.status.S, 'processed');
    assert.deepEqual(img.codes.L.map((c) => c.S).sort(), [...s.codes].sort());
  }
  const shared = await stack.ddb.send(new QueryCommand({
    TableName: env.PHOTOFINISH_TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'CODE#77777' } },
  }));
  const ids = shared.Items.map((e) => e.id.S);
  assert.equal(ids.length, specs.length, 'one entry per photo for a shared code');
  assert.equal(new Set(ids).size, ids.length, 'no duplicate entries');
}

async function waitAllProcessed(stack, specs, timeoutMs = 120000) {
  await waitFor(async () => {
    const scan = await stack.ddb.send(new ScanCommand({ TableName: stack.env.PHOTOFINISH_TABLE }));
    return scan.Items.filter((i) => i.sk.S === 'IMAGE' && i.status.S === 'processed').length === specs.length;
  }, { timeoutMs, intervalMs: 500, what: 'every photo processed' });
}

async function queueDrained(stack) {
  await waitFor(async () => {
    const r = await stack.sqs.send(new GetQueueAttributesCommand({ QueueUrl: stack.env.PHOTOFINISH_QUEUE_URL, AttributeNames: ['All'] }));
    return r.Attributes.ApproximateNumberOfMessages === '0' && r.Attributes.ApproximateNumberOfMessagesNotVisible === '0';
  }, { timeoutMs: 30000, what: 'queue empty' });
}

const fastRetry = { PHOTOFINISH_VISIBILITY_TIMEOUT: '10' };

test('kill -9 mid-batch, restart: every photo processed exactly once, none lost', async (t) => {
  const stack = await startStack();
  t.after(() => stack.stop());
  const specs = batch(10, 'kill');
  const dir = makePhotos(specs);
  let daemon = await startDaemon(stack.env, { env: fastRetry });
  t.after(() => daemon.stop('SIGKILL'));
  await uploadAll(stack, dir, specs);
  await waitFor(() => daemon.logs.filter((l) => l.msg === 'image handled').length >= 2, { timeoutMs: 60000, what: 'two photos done' });
  await daemon.stop('SIGKILL');
  daemon = await startDaemon(stack.env, { env: fastRetry });
  await waitAllProcessed(stack, specs);
  await queueDrained(stack);
  await assertExactlyOnce(stack, specs);
});

test('AWS endpoints frozen for 10 s: retries, reports not ready, recovers, loses nothing', async (t) => {
  const stack = await startStack();
  t.after(() => stack.stop());
  const specs = batch(8, 'freeze');
  const dir = makePhotos(specs);
  const daemon = await startDaemon(stack.env, { env: fastRetry });
  t.after(() => daemon.stop('SIGKILL'));
  await uploadAll(stack, dir, specs);
  await waitFor(() => daemon.logs.some((l) => l.msg === 'image processed'), { timeoutMs: 60000, what: 'first photo' });
  process.kill(-stack.pid, 'SIGSTOP');
  let sawNotReady = false;
  try {
    const until = Date.now() + 10000;
    while (Date.now() < until) {
      const r = await getJson(`${daemon.url}/readyz`);
      if (r.status === 503) sawNotReady = true;
      await new Promise((res) => setTimeout(res, 250));
    }
  } finally {
    process.kill(-stack.pid, 'SIGCONT');
  }
  assert.ok(sawNotReady, '/readyz answered 503 while AWS was unreachable');
  await waitFor(async () => (await getJson(`${daemon.url}/readyz`)).status === 200, { timeoutMs: 20000, what: 'ready again' });
  await waitAllProcessed(stack, specs);
  await queueDrained(stack);
  await assertExactlyOnce(stack, specs);
});

test('SIGTERM with work in flight: exits 0 within the drain deadline, nothing lost', async (t) => {
  const stack = await startStack();
  t.after(() => stack.stop());
  const specs = batch(8, 'term');
  const dir = makePhotos(specs);
  const env = { ...fastRetry, PHOTOFINISH_DRAIN_SECONDS: '4' };
  let daemon = await startDaemon(stack.env, { env });
  t.after(() => daemon.stop('SIGKILL'));
  await uploadAll(stack, dir, specs);
  await waitFor(() => daemon.logs.some((l) => l.msg === 'image processed'), { timeoutMs: 60000, what: 'first photo' });
  const started = Date.now();
  const exit = await daemon.stop('SIGTERM');
  const took = Date.now() - started;
  assert.equal(exit.code, 0, `exit status (stderr: ${daemon.stderr})`);
  assert.ok(took < 4000 + 5000, `exited after ${took} ms`);
  assert.ok(daemon.logs.some((l) => l.msg === 'draining'));
  daemon = await startDaemon(stack.env, { env });
  await waitAllProcessed(stack, specs);
  await queueDrained(stack);
  await assertExactlyOnce(stack, specs);
});
