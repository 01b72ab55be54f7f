// `photofinish admin` against a real daemon and the local stack: what an
// operator types, what they see, and what a script gets (exit codes, JSON).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { startStack, waitFor } from './lib/stack.mjs';
import { startDaemon } from './lib/daemon.mjs';
import { imageId, makePhotos } from './lib/photos.mjs';
import { admin, jsonLines } from './lib/admin_cli.mjs';

const TOKEN = 'cli-admin-token-0123456789abcdef';
const BOB = 'bob-has-his-own-token-0123456789';
const LEGACY = 'the-single-legacy-admin-token-0123';
const HOSTILE = 'c\u009b2J\u007f.jpg';

describe('photofinish admin', () => {
  let stack, daemon, env, ids;
  const run = (args, opts) => admin(daemon.url, TOKEN, args, opts);
  const item = async (id) => (await stack.ddb.send(new GetItemCommand({ TableName: env.PHOTOFINISH_TABLE, Key: { pk: { S: `IMAGE#${id}` }, sk: { S: 'IMAGE' } } }))).Item;
  const queueEmpty = () => waitFor(async () => {
    const r = await stack.sqs.send(new GetQueueAttributesCommand({ QueueUrl: env.PHOTOFINISH_QUEUE_URL, AttributeNames: ['All'] }));
    return r.Attributes.ApproximateNumberOfMessages === '0' && r.Attributes.ApproximateNumberOfMessagesNotVisible === '0';
  }, { timeoutMs: 30000, what: 'queue empty' });

  before(async () => {
    stack = await startStack();
    env = stack.env;
    daemon = await startDaemon(env, { env: { PHOTOFINISH_ADMIN_TOKENS: `alice:${TOKEN},bob:${BOB}`, PHOTOFINISH_ADMIN_TOKEN: LEGACY } });
    const dir = makePhotos([
      { file: 'a.jpg', codes: ['111'], seed: 31, width: 1600, height: 1000, takenAt: '2026:05:03 09:00:00' },
      { file: 'b.jpg', codes: [], seed: 32, width: 1600, height: 1000, takenAt: '2026:05:03 09:01:00' },
      { file: 'd.jpg', codes: ['444'], seed: 33, width: 1600, height: 1000, takenAt: '2026:05:03 09:02:00' },
      { file: 'e.jpg', codes: ['555'], seed: 34, width: 1600, height: 1000, takenAt: '2026:05:03 09:03:00' },
    ]);
    const b = env.PHOTOFINISH_INGRESS_BUCKET;
    for (const f of ['a.jpg', 'b.jpg', 'd.jpg', 'e.jpg']) await stack.s3.send(new PutObjectCommand({ Bucket: b, Key: f, Body: readFileSync(path.join(dir, f)) }));
    // A hostile key: control characters must not reach the operator's terminal
    // (C1 CSI and DEL: characters an S3 listing can carry in XML 1.0).
    await stack.s3.send(new PutObjectCommand({ Bucket: b, Key: HOSTILE, Body: 'not an image' }));
    ids = Object.fromEntries(['a.jpg', 'b.jpg', HOSTILE, 'd.jpg', 'e.jpg'].map((k) => [k, imageId(b, k)]));
    await waitFor(async () => (await Promise.all(Object.values(ids).map(item))).every(Boolean), { timeoutMs: 60000, what: 'processed' });
    await queueEmpty();
  });

  after(async () => {
    await daemon?.stop();
    await stack?.stop();
  });

  test('the token comes from the environment or a file, never argv; a wrong one exits 1', async () => {
    const none = await admin(daemon.url, null, ['unmatched']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /PHOTOFINISH_ADMIN_TOKEN/);
    const argv = await admin(daemon.url, null, ['unmatched', `--token=${TOKEN}`]);
    assert.equal(argv.code, 2);
    assert.match(argv.stderr, /visible to every user/);
    const wrong = await admin(daemon.url, 'not-the-token-0123456789', ['unmatched']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /refused the admin token/);
    assert.doesNotMatch(wrong.stderr, /not-the-token/);
    const dir = mkdtempSync(path.join(tmpdir(), 'pf-token-'));
    const file = path.join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    chmodSync(file, 0o600);
    const viaFile = await admin(daemon.url, null, ['unmatched', '--token-file', file]);
    assert.equal(viaFile.code, 0, viaFile.stderr);
    assert.equal(viaFile.stderr, '');
    const unreachable = await admin('http://127.0.0.1:9', TOKEN, ['unmatched']);
    assert.equal(unreachable.code, 1);
    // Every named token works, and the single legacy one too.
    assert.equal((await admin(daemon.url, BOB, ['unmatched'])).code, 0);
    assert.equal((await admin(daemon.url, LEGACY, ['unmatched'])).code, 0);
    // A refusal is logged with the client's address; no secret is ever logged.
    const refused = daemon.logs.filter((l) => l.msg === 'admin request refused');
    assert.ok(refused.length >= 1);
    assert.equal(refused[0].client, '127.0.0.1');
    for (const secret of [TOKEN, BOB, LEGACY, 'not-the-token']) assert.ok(!daemon.lines.some((l) => l.includes(secret)), 'a secret in the logs');
  });

  test('unmatched and failed: a table for people, JSON for scripts, escapes neutralised', async () => {
    const un = await run(['unmatched']);
    assert.equal(un.code, 0, un.stderr);
    const lines = un.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^ID\s+KEY\s+TAKEN$/);
    assert.equal(lines.length, 2);
    assert.match(lines[1], new RegExp(`^${ids['b.jpg']}\\s+b\\.jpg\\s+2026-05-03T09:01:00`));
    const unJson = jsonLines((await run(['unmatched', '--json'])).stdout);
    assert.deepEqual(unJson[0].images.map((i) => i.id), [ids['b.jpg']]);

    const failed = await run(['failed']);
    assert.equal(failed.code, 0, failed.stderr);
    assert.ok(!/[\u0080-\u009f\u007f]/.test(failed.stdout), 'no control character reaches the terminal');
    assert.match(failed.stdout, /c\?2J\?\.jpg/);
    assert.match(failed.stdout, new RegExp(ids[HOSTILE]));
    // The JSON keeps the real key: scripts get the data, people get safe text.
    assert.equal(jsonLines((await run(['failed', '--json'])).stdout)[0].images[0].key, HOSTILE);
  });

  test('show and codes by id', async () => {
    const shown = await run(['show', ids['a.jpg']]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^key\s+a\.jpg$/m);
    assert.match(shown.stdout, /^codes\s+111 \(detected\)$/m);
    const missing = await run(['show', '0'.repeat(32)]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /404/);

    const set = await run(['codes', ids['b.jpg'], '222', ' abc ']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /^codes\s+222, ABC$/m);
    const rec = await item(ids['b.jpg']);
    assert.deepEqual(rec.codes.L.map((c) => c.S), ['222', 'ABC']);
    assert.equal(rec.codesSource.S, 'manual');
    const bad = await run(['codes', ids['b.jpg'], 'no way']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid_code/);
  });

  test('delete is refused without its confirmation, then deletes everything of the photo', async () => {
    const id = ids['d.jpg'];
    const piped = await run(['delete', id]);
    assert.equal(piped.code, 2);
    assert.match(piped.stderr, /--yes; nothing done/);
    const declined = await run(['delete', id], { tty: true, input: 'n\n' });
    assert.equal(declined.code, 1, declined.out);
    assert.match(declined.out, /not confirmed/);
    assert.equal((await item(id)).status.S, 'processed', 'still there after both refusals');

    const before = await item(id);
    const yes = await run(['delete', id], { tty: true, input: 'y\n' });
    assert.equal(yes.code, 0, yes.out);
    assert.match(yes.out, new RegExp(`deleted ${id} d\\.jpg`));
    assert.equal((await item(id)).status.S, 'deleted');
    await assert.rejects(stack.s3.send(new HeadObjectCommand({ Bucket: env.PHOTOFINISH_PROCESSED_BUCKET, Key: before.fullsizeKey.S })));
    await assert.rejects(stack.s3.send(new HeadObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: 'd.jpg' })));

    const scripted = await run(['delete', '--yes', '--json', ids['e.jpg']]);
    assert.equal(scripted.code, 0, scripted.stderr);
    assert.equal(jsonLines(scripted.stdout)[0].status, 'deleted');
    await queueEmpty();
  });

  test('reprocess --watch: plain lines when piped, a bar on a terminal, exit 0 when done', async () => {
    const piped = await run(['reprocess', '--watch']);
    assert.equal(piped.code, 0, piped.stderr + piped.stdout);
    const lines = piped.stdout.trimEnd().split('\n');
    assert.ok(lines.length >= 1);
    assert.match(lines.at(-1), /^\S+ done /);
    assert.ok(!piped.stdout.includes('\r'), 'no carriage returns when piped');
    await queueEmpty();

    const started = jsonLines((await run(['reprocess', '--json'])).stdout)[0];
    assert.equal(started.kind, 'reprocess');
    const tty = await run(['watch', started.id], { tty: true });
    assert.equal(tty.code, 0, tty.out);
    assert.match(tty.out, /\r/, 'the bar is redrawn in place');
    await queueEmpty();
    // Manual codes survive the reprocessing of the same bytes.
    assert.equal((await item(ids['b.jpg'])).codesSource.S, 'manual');

    const unknown = await run(['watch', 'no-such-job']);
    assert.equal(unknown.code, 1);
  });
});
