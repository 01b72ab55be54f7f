// SQS operations of the C client (via aws_driver) against the local stack,
// checked with the AWS SDK for JavaScript v3.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';

import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';

import { startStack } from './lib/stack.mjs';
import { drive, driveOk, stackEnv } from './aws_driver.mjs';

let stack;
let env;

async function newQueue(name) {
  const r = await stack.sqs.send(
    new CreateQueueCommand({ QueueName: `${name}-${Date.now().toString(36)}`, Attributes: { VisibilityTimeout: '30' } }),
  );
  return r.QueueUrl;
}

async function counts(url) {
  const r = await stack.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(r.Attributes.ApproximateNumberOfMessages),
    inflight: Number(r.Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

before(async () => {
  stack = await startStack();
  env = stackEnv(stack);
});

after(async () => {
  await stack?.stop();
});

describe('SQS', () => {
  test('SendMessageBatch sends every entry; the SDK receives them', async () => {
    const q = await newQueue('send');
    const r = await driveOk(
      ['sqs-send-batch', q, JSON.stringify([{ id: 'a', body: 'first' }, { id: 'b', body: '{"x":"ü"}' }])],
      env,
    );
    assert.equal(r.failed, 0);
    assert.deepEqual(r.entries.map((e) => [e.id, e.ok]), [['a', true], ['b', true]]);
    assert.ok(r.entries[0].message_id);
    const got = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: q, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    assert.deepEqual(got.Messages.map((m) => m.Body).sort(), ['first', '{"x":"ü"}']);
  });

  test('ReceiveMessage long-polls and returns attributes including ApproximateReceiveCount', async () => {
    const q = await newQueue('recv');
    // nothing yet: a 1 s long poll returns empty after waiting
    const t0 = Date.now();
    const empty = await driveOk(['sqs-receive', q, '--wait', '1'], env);
    assert.deepEqual(empty.messages, []);
    assert.ok(Date.now() - t0 >= 900, 'long poll waited');

    await stack.sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: 'hello' }));
    const first = await driveOk(['sqs-receive', q, '--wait', '2', '--max', '10', '--visibility', '0'], env);
    assert.equal(first.messages.length, 1);
    const m = first.messages[0];
    assert.equal(m.body, 'hello');
    assert.equal(m.receive_count, 1);
    assert.equal(m.md5_of_body, '5d41402abc4b2a76b9719d911017c592');
    assert.ok(m.sent_timestamp > 1_600_000_000_000);
    assert.equal(m.attributes.ApproximateReceiveCount, '1');

    const again = await driveOk(['sqs-receive', q, '--wait', '2', '--visibility', '30'], env);
    assert.equal(again.messages[0].receive_count, 2);
  });

  test('DeleteMessageBatch deletes a batch with a bad receipt handle in it', async () => {
    const q = await newQueue('del');
    await driveOk(['sqs-send-batch', q, JSON.stringify([{ id: '1', body: 'one' }, { id: '2', body: 'two' }])], env);
    const got = await driveOk(['sqs-receive', q, '--wait', '2', '--max', '10'], env);
    assert.equal(got.messages.length, 2);
    const entries = [
      { id: 'good1', receipt_handle: got.messages[0].receipt_handle },
      { id: 'bad', receipt_handle: 'not-a-receipt-handle' },
      { id: 'good2', receipt_handle: got.messages[1].receipt_handle },
    ];
    const r = await driveOk(['sqs-delete-batch', q, JSON.stringify(entries)], env);
    assert.deepEqual(r.entries.map((e) => e.id), ['good1', 'bad', 'good2']);
    assert.equal(r.entries[0].ok, true);
    assert.equal(r.entries[2].ok, true);
    // fauxqs answers every DeleteMessageBatch entry as successful; SQS fails a
    // malformed handle with ReceiptHandleIsInvalid: that reply is checked
    // against a server speaking SQS's documented answer below.
    assert.deepEqual(await counts(q), { visible: 0, inflight: 0 });
  });

  test('DeleteMessageBatch partial failure is reported per entry (SQS reply shape)', async () => {
    let seen;
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen = { target: req.headers['x-amz-target'], type: req.headers['content-type'], auth: req.headers.authorization, body: JSON.parse(body) };
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'req-1' });
        res.end(JSON.stringify({
          Successful: [{ Id: 'good1' }, { Id: 'good2' }],
          Failed: [{ Id: 'bad', SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: 'The input receipt handle "x" is not a valid receipt handle.' }],
        }));
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${server.address().port}`;
      const fakeEnv = { ...env, AWS_ENDPOINT_URL_SQS: url };
      const entries = [
        { id: 'good1', receipt_handle: 'rh-1' },
        { id: 'bad', receipt_handle: 'x' },
        { id: 'good2', receipt_handle: 'rh-2' },
      ];
      const r = await driveOk(['sqs-delete-batch', `${url}/000000000000/q`, JSON.stringify(entries)], fakeEnv);
      assert.equal(r.failed, 1);
      assert.deepEqual(r.entries.map((e) => [e.id, e.ok]), [['good1', true], ['bad', false], ['good2', true]]);
      assert.equal(r.entries[1].code, 'ReceiptHandleIsInvalid');
      assert.equal(r.entries[1].sender_fault, true);
      assert.equal(seen.target, 'AmazonSQS.DeleteMessageBatch');
      assert.equal(seen.type, 'application/x-amz-json-1.0');
      assert.match(seen.auth, /^AWS4-HMAC-SHA256 Credential=photofinish-test\/\d{8}\/us-east-1\/sqs\/aws4_request/);
      assert.deepEqual(seen.body, {
        QueueUrl: `${url}/000000000000/q`,
        Entries: entries.map((e) => ({ Id: e.id, ReceiptHandle: e.receipt_handle })),
      });
    } finally {
      server.close();
    }
  });

  test('ChangeMessageVisibilityBatch reports a bad receipt handle per entry', async () => {
    const q = await newQueue('visbad');
    await driveOk(['sqs-send-batch', q, JSON.stringify([{ id: 'a', body: 'A' }])], env);
    const got = await driveOk(['sqs-receive', q, '--wait', '2', '--visibility', '300'], env);
    const r = await driveOk(
      ['sqs-visibility-batch', q, JSON.stringify([
        { id: 'ok', receipt_handle: got.messages[0].receipt_handle, visibility_timeout: 0 },
        { id: 'bad', receipt_handle: 'not-a-receipt-handle', visibility_timeout: 0 },
      ])],
      env,
    );
    assert.equal(r.failed, 1);
    assert.deepEqual(r.entries.map((e) => [e.id, e.ok]), [['ok', true], ['bad', false]]);
    assert.equal(r.entries[1].code, 'ReceiptHandleIsInvalid');
    assert.deepEqual(await counts(q), { visible: 1, inflight: 0 });
  });

  test('ChangeMessageVisibility(0) releases a message; the batch form too', async () => {
    const q = await newQueue('vis');
    await driveOk(['sqs-send-batch', q, JSON.stringify([{ id: 'a', body: 'A' }, { id: 'b', body: 'B' }])], env);
    const got = await driveOk(['sqs-receive', q, '--wait', '2', '--max', '10', '--visibility', '300'], env);
    assert.equal(got.messages.length, 2);
    assert.deepEqual(await counts(q), { visible: 0, inflight: 2 });

    await driveOk(['sqs-visibility', q, got.messages[0].receipt_handle, '0'], env);
    assert.deepEqual(await counts(q), { visible: 1, inflight: 1 });

    const r = await driveOk(
      ['sqs-visibility-batch', q, JSON.stringify([
        { id: 'x', receipt_handle: got.messages[1].receipt_handle, visibility_timeout: 0 },
      ])],
      env,
    );
    assert.equal(r.failed, 0);
    assert.deepEqual(await counts(q), { visible: 2, inflight: 0 });
  });

  test('GetQueueAttributes returns the named attributes, or all', async () => {
    const q = await newQueue('attrs');
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: 'x' }));
    const some = await driveOk(['sqs-attributes', q, 'ApproximateNumberOfMessages', 'VisibilityTimeout'], env);
    assert.equal(some.attributes.ApproximateNumberOfMessages, '1');
    assert.equal(some.attributes.VisibilityTimeout, '30');
    const all = await driveOk(['sqs-attributes', q], env);
    assert.ok(all.attributes.QueueArn);
  });

  test('GetQueueAttributes honours a per-call timeout and attempt count', async () => {
    // accepts the request and never answers
    const held = [];
    const server = http.createServer((req) => held.push(req));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${server.address().port}`;
      const fakeEnv = { ...env, AWS_ENDPOINT_URL_SQS: url };
      const started = Date.now();
      const r = await drive(
        ['sqs-attributes', `${url}/000000000000/q`, 'ApproximateNumberOfMessages', '--timeout-ms', '300', '--attempts', '2'],
        fakeEnv,
        { timeoutMs: 20000 },
      );
      const took = Date.now() - started;
      assert.equal(r.status, 2);
      assert.equal(r.out.error.code, 'network');
      assert.equal(r.out.calls[0].attempts, 2);
      assert.equal(held.length, 2);
      // two 300 ms attempts and one backoff (at most 100 ms), not the client's 120 s
      assert.ok(took < 5000, `took ${took} ms`);
    } finally {
      for (const req of held) req.socket.destroy();
      server.close();
    }
  });

  test('a missing queue is a typed not_found error', async () => {
    const q = `${stack.env.AWS_ENDPOINT_URL_SQS}/000000000000/does-not-exist-${Date.now()}`;
    const r = await drive(['sqs-receive', q], env);
    assert.equal(r.status, 2);
    assert.equal(r.out.error.code, 'not_found');
    assert.equal(r.out.error.http_status, 400);
    assert.match(r.out.error.service_code, /QueueDoesNotExist|NonExistentQueue/);
    assert.equal(r.out.calls[0].attempts, 1);
  });

  test('bad batch input is refused before any request', async () => {
    const q = await newQueue('bad');
    const dup = await drive(['sqs-delete-batch', q, JSON.stringify([{ id: 'a', receipt_handle: 'r' }, { id: 'a', receipt_handle: 's' }])], env);
    assert.equal(dup.out.error.code, 'invalid');
    const many = Array.from({ length: 11 }, (_, i) => ({ id: `i${i}`, body: 'x' }));
    const big = await drive(['sqs-send-batch', q, JSON.stringify(many)], env);
    assert.equal(big.out.error.code, 'invalid');
    assert.deepEqual(big.out.calls, []);
  });
});
