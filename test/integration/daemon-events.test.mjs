// Every message shape the queue can carry: direct S3 events, SNS envelopes,
// EventBridge events, S3 test events and junk. The daemon here reads its own
// queue, fed by this test only, so each message's fate is observable.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startStack, waitFor } from './lib/stack.mjs';
import { getJson, startDaemon } from './lib/daemon.mjs';
import { imageId, makePhotos } from './lib/photos.mjs';

const s3Event = (bucket, key, name = 'ObjectCreated:Put', sequencer = '0A') => ({
  Records: [{
    eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'us-east-1', eventTime: new Date().toISOString(), eventName: name,
    s3: { s3SchemaVersion: '1.0', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
      object: { key: encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/'), sequencer } },
  }],
});

describe('queue message shapes', () => {
  let stack, daemon, queueUrl, env;
  const send = (body) => stack.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: typeof body === 'string' ? body : JSON.stringify(body) }));
  const image = (key) => stack.ddb.send(new GetItemCommand({
    TableName: env.PHOTOFINISH_TABLE, Key: { pk: { S: `IMAGE#${imageId(env.PHOTOFINISH_INGRESS_BUCKET, key)}` }, sk: { S: 'IMAGE' } },
  })).then((r) => r.Item);

  before(async () => {
    stack = await startStack();
    env = stack.env;
    queueUrl = (await stack.sqs.send(new CreateQueueCommand({ QueueName: 'shapes' }))).QueueUrl;
    const dir = makePhotos([
      { file: 'sns.jpg', codes: ['111'], seed: 11, width: 1600, height: 1000 },
      { file: 'bridge.jpg', codes: ['222'], seed: 12, width: 1600, height: 1000 },
      { file: 'direct one.jpg', codes: ['333'], seed: 13, width: 1600, height: 1000 },
    ]);
    for (const f of ['sns.jpg', 'bridge.jpg', 'direct one.jpg']) {
      await stack.s3.send(new PutObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: f, Body: readFileSync(path.join(dir, f)) }));
    }
    daemon = await startDaemon(env, { env: { PHOTOFINISH_QUEUE_URL: queueUrl, PHOTOFINISH_CACHE_TTL: '0' } });
  });

  after(async () => {
    await daemon?.stop();
    await stack?.stop();
  });

  test('SNS envelope, EventBridge and direct events are processed', async () => {
    const bucket = env.PHOTOFINISH_INGRESS_BUCKET;
    await send({ Type: 'Notification', MessageId: 'm1', TopicArn: 'arn:aws:sns:us-east-1:1:t', Message: JSON.stringify(s3Event(bucket, 'sns.jpg')) });
    await send({ version: '0', 'detail-type': 'Object Created', source: 'aws.s3', time: new Date().toISOString(),
      detail: { bucket: { name: bucket }, object: { key: 'bridge.jpg', sequencer: '0B' } } });
    await send(s3Event(bucket, 'direct one.jpg'));
    for (const [code, key] of [['111', 'sns.jpg'], ['222', 'bridge.jpg'], ['333', 'direct one.jpg']]) {
      const r = await waitFor(async () => {
        const p = await getJson(`${daemon.url}/participants/${code}`);
        return p.body.images.length ? p : null;
      }, { timeoutMs: 30000, what: `photo of ${code}` });
      assert.deepEqual(r.body.images.map((i) => i.id), [imageId(bucket, key)]);
    }
  });

  test('EventBridge Object Deleted removes the photo', async () => {
    await send({ 'detail-type': 'Object Deleted', source: 'aws.s3', detail: { bucket: { name: env.PHOTOFINISH_INGRESS_BUCKET }, object: { key: 'bridge.jpg', sequencer: '0C' } } });
    await waitFor(async () => (await image('bridge.jpg'))?.status.S === 'deleted', { timeoutMs: 20000, what: 'deleted' });
    assert.deepEqual((await getJson(`${daemon.url}/participants/222`)).body.images, []);
  });

  test('an older event than the catalog holds changes nothing', async () => {
    const before = await image('direct one.jpg');
    await send(s3Event(env.PHOTOFINISH_INGRESS_BUCKET, 'direct one.jpg', 'ObjectRemoved:Delete', '01'));
    await waitFor(() => daemon.logs.some((l) => l.msg === 'older event ignored'), { timeoutMs: 20000, what: 'stale event logged' });
    assert.deepEqual(await image('direct one.jpg'), before);
  });

  test('test events, junk and wrong shapes are deleted with a reason, nothing stays in flight', async () => {
    const before = daemon.logs.filter((l) => l.msg === 'malformed message deleted').length;
    await send({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: new Date().toISOString(), Bucket: env.PHOTOFINISH_INGRESS_BUCKET });
    await send('not json at all');
    await send({ hello: 'world' });
    await send({ Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: {} } }] });
    await send('x'.repeat(256 * 1024 - 16));
    await send(s3Event('some-other-bucket', 'x.jpg'));
    await send(s3Event(env.PHOTOFINISH_INGRESS_BUCKET, 'readme.md'));
    // The messages may arrive in any order and in several receives: wait for each outcome.
    await waitFor(() => daemon.logs.filter((l) => l.msg === 'malformed message deleted').length - before === 4,
      { timeoutMs: 20000, what: 'four malformed messages logged' });
    await waitFor(() => daemon.logs.some((l) => l.msg === 'S3 test event deleted'), { timeoutMs: 20000, what: 'test event' });
    await waitFor(() => daemon.logs.some((l) => l.msg === 'event for another bucket skipped'), { timeoutMs: 20000, what: 'other bucket' });
    await waitFor(() => daemon.logs.some((l) => l.msg === 'key skipped: outside the prefix or not an image' && l.key === 'readme.md'),
      { timeoutMs: 20000, what: 'non-image key' });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(daemon.logs.filter((l) => l.msg === 'malformed message deleted').length - before, 4, 'exactly four malformed');
    await waitFor(async () => {
      const r = await stack.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));
      return r.Attributes.ApproximateNumberOfMessages === '0' && r.Attributes.ApproximateNumberOfMessagesNotVisible === '0';
    }, { timeoutMs: 20000, what: 'queue empty' });
  });
});
