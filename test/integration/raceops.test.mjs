// Race operations through `photofinish admin`, against real daemons and the
// local stack: status, photos named by key, code edits, erasure, the audit
// trail, clear and full reset (with uploads arriving during it), every
// destructive command refused without its confirmation, and jobs that any
// daemon reports and that survive the daemon running them being killed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { BatchWriteItemCommand, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { startStack, waitFor } from './lib/stack.mjs';
import { getJson, startDaemon } from './lib/daemon.mjs';
import { imageId, makePhotos } from './lib/photos.mjs';
import { admin, jsonLines } from './lib/admin_cli.mjs';
import { validate } from './lib/openapi.mjs';

const ALICE = 'alice-secret-0123456789abcdef';
const TOKENS = `alice:${ALICE},bob:bob-secret-0123456789abcdef`;

async function listKeys(stack, bucket) {
  const keys = [];
  let ContinuationToken;
  do {
    const r = await stack.s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken }));
    for (const o of r.Contents ?? []) keys.push(o.Key);
    ContinuationToken = r.NextContinuationToken;
  } while (ContinuationToken);
  return keys.sort();
}

async function scanAll(stack) {
  const items = [];
  let ExclusiveStartKey;
  do {
    const r = await stack.ddb.send(new ScanCommand({ TableName: stack.env.PHOTOFINISH_TABLE, ExclusiveStartKey }));
    items.push(...r.Items);
    ExclusiveStartKey = r.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

const queueEmpty = (stack) => waitFor(async () => {
  const r = await stack.sqs.send(new GetQueueAttributesCommand({ QueueUrl: stack.env.PHOTOFINISH_QUEUE_URL, AttributeNames: ['All'] }));
  return r.Attributes.ApproximateNumberOfMessages === '0' && r.Attributes.ApproximateNumberOfMessagesNotVisible === '0';
}, { timeoutMs: 90000, intervalMs: 250, what: 'queue empty' });

const item = async (stack, id) => (await stack.ddb.send(new GetItemCommand({ TableName: stack.env.PHOTOFINISH_TABLE, Key: { pk: { S: `IMAGE#${id}` }, sk: { S: 'IMAGE' } }, ConsistentRead: true }))).Item;

describe('race operations', () => {
  let stack, daemon, env, dir, ids;
  const run = (args, opts) => admin(daemon.url, ALICE, args, opts);
  const specs = [
    { file: 'a.jpg', codes: ['111'], seed: 41, width: 1400, height: 900, takenAt: '2026:05:03 09:00:00' },
    { file: 'b.jpg', codes: [], seed: 42, width: 1400, height: 900, takenAt: '2026:05:03 09:01:00' },
    { file: 'c.jpg', codes: ['777'], seed: 43, width: 1400, height: 900, takenAt: '2026:05:03 09:02:00' },
    { file: 'd.jpg', codes: ['777', '888'], seed: 44, width: 1400, height: 900, takenAt: '2026:05:03 09:03:00' },
    { file: 'e.jpg', codes: ['555'], seed: 45, width: 1400, height: 900, takenAt: '2026:05:03 09:04:00' },
  ];
  const keyOf = { 'a.jpg': 'a.jpg', 'b.jpg': 'b.jpg', 'c.jpg': 'photographer-a/IMG_0042.jpg', 'd.jpg': 'photographer-b/IMG_0042.jpg', 'e.jpg': 'photographer-b/IMG_0107.jpg' };
  const upload = async (file, key = keyOf[file]) => stack.s3.send(new PutObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: key, Body: readFileSync(path.join(dir, file)) }));

  before(async () => {
    stack = await startStack();
    env = stack.env;
    daemon = await startDaemon(env, { env: { PHOTOFINISH_ADMIN_TOKENS: TOKENS } });
    dir = makePhotos(specs);
    for (const s of specs) await upload(s.file);
    ids = Object.fromEntries(specs.map((s) => [s.file, imageId(env.PHOTOFINISH_INGRESS_BUCKET, keyOf[s.file])]));
    await waitFor(async () => (await Promise.all(Object.values(ids).map((id) => item(stack, id)))).every(Boolean), { timeoutMs: 60000, what: 'processed' });
    await queueEmpty(stack);
  });

  after(async () => {
    await daemon?.stop();
    await stack?.stop();
  });

  test('status: the race, the queue and the counts', async () => {
    // The queue's depth is the daemon's last probe (every 2 s): wait for it to see the empty queue.
    const st = await waitFor(async () => {
      const s = jsonLines((await run(['status', '--json'])).stdout)[0];
      return s.queue.visible === 0 && s.queue.inFlight === 0 && s;
    }, { timeoutMs: 10000, intervalMs: 500, what: 'status with an empty queue' });
    validate('AdminStatus', st);
    assert.equal(st.race, env.PHOTOFINISH_TABLE);
    assert.equal(st.ingressBucket, env.PHOTOFINISH_INGRESS_BUCKET);
    assert.equal(st.ready, true);
    assert.deepEqual(st.counts, { processed: 5, unmatched: 1, failed: 0 });
    assert.equal(typeof st.task, 'string');
    const text = await run(['status']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^race\\s+${env.PHOTOFINISH_TABLE}$`, 'm'));
    assert.match(text.stdout, /^photos\s+5 processed, 1 unmatched, 0 failed$/m);
  });

  test('a photo named by key, with or without its prefix, or by file name', async () => {
    const byKey = await run(['show', '--json', 'photographer-b/IMG_0107.jpg']);
    assert.equal(byKey.code, 0, byKey.stderr);
    validate('ImageRecord', jsonLines(byKey.stdout)[0]);
    const listed = await getJson(`${daemon.url}/admin/images?key=IMG_0042.jpg`, { headers: { Authorization: `Bearer ${ALICE}` } });
    validate('ImageRecordList', listed.body);
    assert.equal(listed.body.images.length, 2);
    assert.equal(jsonLines(byKey.stdout)[0].id, ids['e.jpg']);
    const byName = await run(['show', '--json', 'IMG_0107.jpg']);
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(jsonLines(byName.stdout)[0].id, ids['e.jpg']);
    // Two photographers' IMG_0042.jpg: both listed, nothing done.
    const ambiguous = await run(['codes', 'IMG_0042.jpg', '--add', '999']);
    assert.equal(ambiguous.code, 1);
    assert.match(ambiguous.stderr, /2 photos are called that/);
    assert.match(ambiguous.stderr, new RegExp(ids['c.jpg']));
    assert.match(ambiguous.stderr, new RegExp(ids['d.jpg']));
    assert.deepEqual((await item(stack, ids['c.jpg'])).codes.L.map((c) => c.S), ['777']);
    const none = await run(['show', 'nope.jpg']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no photo has the key or file name/);
  });

  test('codes --add/--remove by key: one conditional edit, marked manual, audited with who', async () => {
    const r = await run(['codes', 'b.jpg', '--add', '222', '333']);
    assert.equal(r.code, 0, r.stderr);
    const r2 = await run(['codes', 'b.jpg', '--remove', '333', '--add', '444']);
    assert.equal(r2.code, 0, r2.stderr);
    const b = await item(stack, ids['b.jpg']);
    assert.deepEqual(b.codes.L.map((c) => c.S), ['222', '444']);
    assert.equal(b.codesSource.S, 'manual');
    const st = jsonLines((await run(['status', '--json'])).stdout)[0];
    assert.deepEqual(st.counts, { processed: 5, unmatched: 0, failed: 0 }, 'counts follow the edit');
    const page = jsonLines((await run(['audit', '--json'])).stdout)[0];
    validate('AuditPage', page);
    const audit = page.entries;
    const edit = audit.find((e) => e.action === 'codes.edit' && e.photo === ids['b.jpg']);
    assert.ok(edit, JSON.stringify(audit));
    assert.equal(edit.who, 'alice');
    assert.equal(edit.client, '127.0.0.1');
    assert.equal(edit.outcome, 'ok');
    assert.ok(daemon.logs.some((l) => l.msg === 'admin action' && l.action === 'codes.edit' && l.who === 'alice'));
    const table = await run(['audit']);
    assert.match(table.stdout, /^AT\s+WHO\s+ACTION\s+TARGET\s+OUTCOME$/m);
    assert.match(table.stdout, /alice\s+codes\.edit/);
  });

  test('erase CODE: refused without its confirmation, then one audited action with the code and count', async () => {
    const piped = await run(['erase', '777']);
    assert.equal(piped.code, 2);
    assert.match(piped.stderr, /2 photo\(s\) tagged 777/);
    assert.match(piped.stderr, /1 of them also show other participants/);
    assert.equal((await run(['erase', '777', '--yes-i-mean-it=778'])).code, 2);
    const typedWrong = await run(['erase', '777'], { tty: true, input: '778\n' });
    assert.equal(typedWrong.code, 1, typedWrong.out);
    assert.equal((await item(stack, ids['c.jpg'])).status.S, 'processed', 'nothing erased after the refusals');

    const r = await run(['erase', '777'], { tty: true, input: '777\n' });
    assert.equal(r.code, 0, r.out);
    const started = r.out.match(/watch (\S+)/)[1];
    const done = jsonLines((await run(['watch', '--json', started])).stdout).at(-1);
    validate('Job', done);
    assert.equal(done.state, 'done');
    assert.equal(done.photosDeleted, 2);
    for (const f of ['c.jpg', 'd.jpg']) assert.equal((await item(stack, ids[f])).status.S, 'deleted');
    await assert.rejects(stack.s3.send(new HeadObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: keyOf['c.jpg'] })));
    const participant = await getJson(`${daemon.url}/participants/888`);
    assert.deepEqual(participant.body.images, [], 'the shared photo left the other runner too');
    const audit = jsonLines((await run(['audit', '--json'])).stdout)[0].entries.filter((e) => e.action.startsWith('erase'));
    assert.ok(audit.length >= 2);
    for (const e of audit) {
      assert.equal(e.code, '777');
      assert.ok(!('photo' in e) && !('key' in e), 'the audit does not name the photos');
      assert.doesNotMatch(JSON.stringify(e), new RegExp(`${ids['c.jpg']}|${ids['d.jpg']}|IMG_0042`));
    }
    assert.equal(audit.find((e) => e.action === 'erase.finished').count, 2);
    // Nor does the log name them.
    const erasedIds = [ids['c.jpg'], ids['d.jpg']];
    assert.ok(!daemon.lines.some((l) => l.includes('"photo deleted by an operator"') && erasedIds.some((id) => l.includes(id))), 'the log names an erased photo');
    await queueEmpty(stack);
  });

  test('clear: refused without its confirmation, then records and variants go, originals stay', async () => {
    const piped = await run(['clear']);
    assert.equal(piped.code, 2);
    assert.match(piped.stderr, /every variant in the processed bucket/);
    assert.equal((await run(['clear', '--yes-i-mean-it=some-other-race'])).code, 2);
    const declined = await run(['clear'], { tty: true, input: 'no\n' });
    assert.equal(declined.code, 1, declined.out);
    const api = await getJson(`${daemon.url}/admin/clear`, { method: 'POST', headers: { Authorization: `Bearer ${ALICE}` }, body: '{}' });
    assert.equal(api.status, 400);
    assert.equal(api.body.error.code, 'confirmation_required');
    validate('Error', api.body);
    assert.ok((await listKeys(stack, env.PHOTOFINISH_PROCESSED_BUCKET)).length > 0, 'nothing cleared after the refusals');

    const r = await run(['clear', `--yes-i-mean-it=${env.PHOTOFINISH_TABLE}`, '--watch']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const kinds = new Set((await scanAll(stack)).map((i) => i.pk.S.replace(/#.*/, '')));
    assert.deepEqual([...kinds].sort(), ['AUDIT', 'JOB'], 'only jobs and the audit trail remain');
    assert.deepEqual(await listKeys(stack, env.PHOTOFINISH_PROCESSED_BUCKET), []);
    assert.deepEqual(await listKeys(stack, env.PHOTOFINISH_INGRESS_BUCKET), ['a.jpg', 'b.jpg', 'photographer-b/IMG_0107.jpg']);

    const re = await run(['reprocess', '--watch']);
    assert.equal(re.code, 0, re.stderr + re.stdout);
    await waitFor(async () => (await item(stack, ids['a.jpg']))?.status?.S === 'processed', { timeoutMs: 60000, what: 'rebuilt' });
    await queueEmpty(stack);
    // A clear forgets manual codes: b.jpg is detected afresh (it has none).
    const b = await item(stack, ids['b.jpg']);
    assert.equal(b.codesSource.S, 'detected');
    assert.deepEqual(b.codes.L, []);
  });

  test('full reset with uploads arriving: each upload is either gone entirely or processed entirely', async () => {
    // Manual codes before the reset, to show they do not come back.
    assert.equal((await run(['codes', 'a.jpg', '5000'])).code, 0);
    const apiHalf = await getJson(`${daemon.url}/admin/clear`, {
      method: 'POST', headers: { Authorization: `Bearer ${ALICE}` },
      body: JSON.stringify({ confirm: env.PHOTOFINISH_TABLE, originals: true }),
    });
    assert.equal(apiHalf.status, 400, 'the originals need their own confirmation');
    assert.match(apiHalf.body.error.message, new RegExp(env.PHOTOFINISH_INGRESS_BUCKET));
    assert.equal((await run(['clear', '--originals'])).code, 2);
    assert.equal((await listKeys(stack, env.PHOTOFINISH_INGRESS_BUCKET)).length, 3);

    // Photographers keep uploading while the reset runs.
    const during = [];
    let stop = false;
    const uploader = (async () => {
      for (let i = 0; !stop && i < 60; i++) {
        const key = `live/during-${i}.jpg`;
        await upload(i % 2 ? 'a.jpg' : 'e.jpg', key);
        during.push(key);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const r = await run(['clear', '--originals', `--yes-i-mean-it=${env.PHOTOFINISH_TABLE}`, '--watch', '--json']);
    stop = true;
    await uploader;
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const end = jsonLines(r.stdout).at(-1);
    assert.equal(end.kind, 'reset');
    assert.equal(end.state, 'done');
    assert.ok(end.originalsDeleted >= 3);
    // Uploads after the reset are processed as usual.
    await upload('a.jpg', 'after/a.jpg');
    await waitFor(async () => (await item(stack, imageId(env.PHOTOFINISH_INGRESS_BUCKET, 'after/a.jpg')))?.status?.S === 'processed', { timeoutMs: 60000, what: 'after/a.jpg processed' });
    await queueEmpty(stack);

    const originals = new Set(await listKeys(stack, env.PHOTOFINISH_INGRESS_BUCKET));
    const variants = new Set(await listKeys(stack, env.PHOTOFINISH_PROCESSED_BUCKET));
    const wanted = new Set();
    let kept = 0;
    for (const key of [...during, 'after/a.jpg', ...Object.values(keyOf)]) {
      const rec = await item(stack, imageId(env.PHOTOFINISH_INGRESS_BUCKET, key));
      if (originals.has(key)) {
        kept++;
        assert.equal(rec?.status?.S, 'processed', `${key} kept but not processed`);
        assert.ok(variants.has(rec.fullsizeKey.S) && variants.has(rec.thumbnailKey.S), `${key} without its variants`);
        wanted.add(rec.fullsizeKey.S).add(rec.thumbnailKey.S);
        for (const k of ['fullsizeWebpKey', 'thumbnailWebpKey']) {
          if (!rec[k]) continue;
          assert.ok(variants.has(rec[k].S), `${key} without its ${k}`);
          wanted.add(rec[k].S);
        }
      } else {
        assert.ok(!rec || rec.status.S === 'deleted', `${key} gone but its record says ${rec?.status?.S}`);
      }
    }
    assert.ok(kept >= 1);
    const keyOfId = Object.fromEntries([...during, 'after/a.jpg', ...Object.values(keyOf)].map((k) => [imageId(env.PHOTOFINISH_INGRESS_BUCKET, k), k]));
    const orphans = [...variants].filter((k) => !wanted.has(k)).map((k) => `${k} (${keyOfId[k.replace(/^\w+\/(\w+)-.*$/, '$1')] ?? 'unknown key'})`);
    assert.deepEqual(orphans, [], `no variant without a photo; daemon said: ${daemon.lines.filter((l) => /waits|goes on|gone|handled/.test(l) && orphans.some((o) => l.includes(o.match(/\((.*)\)/)[1]))).join('\n')}`);

    // Manual codes do not survive a reset: the same bytes again are detected afresh.
    await upload('a.jpg', 'a.jpg');
    await waitFor(async () => (await item(stack, ids['a.jpg']))?.status?.S === 'processed', { timeoutMs: 60000, what: 'a.jpg again' });
    const a = await item(stack, ids['a.jpg']);
    assert.equal(a.codesSource.S, 'detected');
    assert.deepEqual(a.codes.L.map((c) => c.S), ['111']);
    await queueEmpty(stack);
  });
});

describe('jobs any daemon reports', () => {
  let stack, env, d1, d2;
  const STALE = '4';

  before(async () => {
    stack = await startStack();
    env = stack.env;
    const opts = { env: { PHOTOFINISH_ADMIN_TOKENS: TOKENS, PHOTOFINISH_JOB_STALE_SECONDS: STALE } };
    d1 = await startDaemon(env, opts);
    d2 = await startDaemon(env, opts);
  });

  after(async () => {
    for (const d of [d1, d2]) {
      if (d?.proc.signalCode === null && d.proc.exitCode === null) d.proc.kill('SIGCONT');
      await d?.stop('SIGKILL');
    }
    await stack?.stop();
  });

  // A catalog big enough that clearing it takes a while: fake photo items.
  async function fill(n) {
    for (let i = 0; i < n; i += 25) {
      const batch = [];
      for (let k = i; k < Math.min(n, i + 25); k++) {
        const id = k.toString(16).padStart(32, '0');
        batch.push({ PutRequest: { Item: { pk: { S: `CODE#${k % 50}` }, sk: { S: `2026-05-03T09:00:00Z#${id}` }, id: { S: id } } } });
      }
      await stack.ddb.send(new BatchWriteItemCommand({ RequestItems: { [env.PHOTOFINISH_TABLE]: batch } }));
    }
  }

  test('a job started on one daemon is listed and watched on the other', async () => {
    await stack.s3.send(new PutObjectCommand({ Bucket: env.PHOTOFINISH_INGRESS_BUCKET, Key: 'x.txt', Body: 'not a photo' }));
    const started = jsonLines((await admin(d1.url, ALICE, ['reprocess', '--json'])).stdout)[0];
    const watched = await admin(d2.url, ALICE, ['watch', started.id]);
    assert.equal(watched.code, 0, watched.stderr + watched.stdout);
    const list = jsonLines((await admin(d2.url, ALICE, ['jobs', '--json'])).stdout)[0];
    validate('JobList', list);
    const jobs = list.jobs;
    const job = jobs.find((j) => j.id === started.id);
    assert.equal(job.state, 'done');
    assert.equal(job.by, 'alice');
    const t1 = jsonLines((await admin(d1.url, ALICE, ['status', '--json'])).stdout)[0].task;
    assert.equal(job.task, t1, 'run by the daemon that started it');
    const table = await admin(d2.url, ALICE, ['jobs']);
    assert.match(table.stdout, new RegExp(`${started.id}\\s+reprocess\\s+done`));
  });

  test('a daemon killed mid-job: the other takes the job over and finishes it', async () => {
    await fill(3000);
    const t2 = jsonLines((await admin(d2.url, ALICE, ['status', '--json'])).stdout)[0].task;
    const started = jsonLines((await admin(d1.url, ALICE, ['clear', `--yes-i-mean-it=${env.PHOTOFINISH_TABLE}`, '--json'])).stdout)[0];
    // Frozen at once, then killed: the job cannot have finished on d1.
    d1.proc.kill('SIGSTOP');
    const frozen = (await getJson(`${d2.url}/admin/jobs/${started.id}`, { headers: { Authorization: `Bearer ${ALICE}` } })).body;
    assert.equal(frozen.state, 'running', 'still running when its daemon froze');
    d1.proc.kill('SIGKILL');
    const watched = await admin(d2.url, ALICE, ['watch', '--json', started.id]);
    assert.equal(watched.code, 0, watched.stderr + watched.stdout);
    const end = jsonLines(watched.stdout).at(-1);
    assert.equal(end.state, 'done');
    assert.equal(end.task, t2, 'finished by the other daemon');
    assert.equal(end.attempts, 2);
    assert.ok(d2.logs.some((l) => l.msg === 'admin job taken over' && l.job === started.id));
    const left = (await scanAll(stack)).filter((i) => i.pk.S.startsWith('CODE#'));
    assert.equal(left.length, 0, 'every item cleared across both daemons');
  });
});
