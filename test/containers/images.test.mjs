// The built images (scripts/images) against the local AWS stack, the way ECS
// runs them: host network, read-only root filesystem with a tmpfs on /tmp,
// the image's own user, SIGTERM then SIGKILL after the stop timeout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';

import { startStack, waitFor } from '../integration/lib/stack.mjs';
import { freePort, getJson } from '../integration/lib/daemon.mjs';
import { imageId, makePhotos } from '../integration/lib/photos.mjs';
import {
  builtImages, containerLogs, engine, exec, imageConfig, inspectContainer, jsonLogs, removeContainer,
  runContainer,
} from './lib/engine.mjs';

// deploy/terraform/ecs.tf: the task definitions repeat these (stopTimeout,
// user, ports); deploy/terraform/tests/ecs.tftest.hcl asserts them there.
const STOP_TIMEOUT_S = 30;
const USER = '10001:10001';
const DAEMON_PORT = 8080;
const GALLERY_PORT = 3000;

const images = builtImages();

/** The daemon's settings for a stack: credentials, endpoints, resources. */
function daemonEnv(stackEnv, port, extra = {}) {
  const keep = Object.entries(stackEnv).filter(([k]) => (k.startsWith('AWS_') || k.startsWith('PHOTOFINISH_')) && k !== 'PHOTOFINISH_STACK_DIR');
  return {
    ...Object.fromEntries(keep),
    AWS_EC2_METADATA_DISABLED: 'true',
    PHOTOFINISH_LISTEN: `127.0.0.1:${port}`,
    PHOTOFINISH_WORKERS: '2',
    PHOTOFINISH_LOG_LEVEL: 'info',
    ...extra,
  };
}

async function waitReady(name, url, what) {
  await waitFor(async () => {
    const c = await inspectContainer(name);
    if (!c.State.Running) throw new Error(`${what} exited ${c.State.ExitCode}: ${await containerLogs(name)}`);
    const r = await fetch(url).catch(() => null);
    return r && r.status === 200;
  }, { timeoutMs: 30000, intervalMs: 200, what });
}

/** uid/gid lines of /proc/1/status inside the container: the entrypoint process. */
async function pid1Ids(name) {
  const r = await exec(name, ['cat', '/proc/1/status']);
  assert.equal(r.code, 0, r.stderr);
  const field = (f) => new RegExp(`^${f}:\\s+(.*)$`, 'm').exec(r.stdout)[1].split(/\s+/);
  return { uid: field('Uid'), gid: field('Gid') };
}

/** Runs the image's HEALTHCHECK command inside the container; resolves to its exit status. */
async function runHealthcheck(name, healthcheck) {
  const [kind, ...rest] = healthcheck.Test;
  const cmd = kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest[0]] : rest;
  return (await exec(name, cmd)).code;
}

function participantCount(body) {
  return body?.images?.length ?? 0;
}

describe('container images', () => {
  let stack, dir, daemonName, daemonPort, galleryName, galleryPort;
  const containers = [];
  const put = (key, file) => stack.s3.send(new PutObjectCommand({
    Bucket: stack.env.PHOTOFINISH_INGRESS_BUCKET, Key: key, Body: readFileSync(path.join(dir, file)),
  }));
  const participant = (code) => getJson(`http://127.0.0.1:${daemonPort}/participants/${code}`);

  // Four photos for the checks (c4 also as PNG, WebP and TIFF: the loaders the
  // image's libvips is built with), twelve larger ones for the drain.
  const specs = [
    { file: 'c1.jpg', codes: ['41001'], seed: 1, width: 1600, height: 1200 },
    { file: 'c2.jpg', codes: ['41001', '41002'], seed: 2, width: 1600, height: 1200 },
    { file: 'c3.jpg', codes: ['41002'], seed: 3, width: 1600, height: 1200 },
    { file: 'c4.jpg', codes: ['41003'], seed: 4, width: 1600, height: 1200 },
    ...Array.from({ length: 12 }, (_, i) => ({ file: `d${i}.jpg`, codes: ['42000'], seed: 10 + i, width: 4000, height: 3000 })),
  ];

  before(async () => {
    stack = await startStack();
    dir = makePhotos(specs);
    execFileSync('/usr/bin/python3', ['-c', [
      'import sys; from PIL import Image',
      'im = Image.open(sys.argv[1])',
      'im.save(sys.argv[2], "PNG"); im.save(sys.argv[3], "WEBP", quality=95); im.save(sys.argv[4], "TIFF")',
    ].join('\n'), ...['c4.jpg', 'c4.png', 'c4.webp', 'c4.tif'].map((f) => path.join(dir, f))]);
    daemonPort = await freePort();
    daemonName = await runContainer(images.DAEMON_REF, { env: daemonEnv(stack.env, daemonPort), prefix: 'pf-test-daemon' });
    containers.push(daemonName);
    await waitReady(daemonName, `http://127.0.0.1:${daemonPort}/readyz`, 'photofinishd ready');
  });

  after(async () => {
    for (const c of containers) await removeContainer(c);
    await stack?.stop();
  });

  test('the daemon image declares the user, port, health check and stop signal the task definition uses', async () => {
    const cfg = await imageConfig(images.DAEMON_REF);
    assert.equal(cfg.User, USER);
    assert.ok(Object.keys(cfg.ExposedPorts ?? {}).includes(`${DAEMON_PORT}/tcp`), JSON.stringify(cfg.ExposedPorts));
    assert.equal(cfg.StopSignal, 'SIGTERM');
    assert.match(cfg.Healthcheck.Test.join(' '), new RegExp(`curl .*http://127\\.0\\.0\\.1:${DAEMON_PORT}/healthz`));
    assert.deepEqual(cfg.Entrypoint, ['/usr/local/bin/photofinishd']);
  });

  test('/healthz and /readyz answer, and the image health check passes', async () => {
    const h = await getJson(`http://127.0.0.1:${daemonPort}/healthz`);
    assert.equal(h.status, 200);
    const r = await getJson(`http://127.0.0.1:${daemonPort}/readyz`);
    assert.equal(r.status, 200);
    // The image's own check runs against 8080; run it with the listen address it expects.
    const cfg = await imageConfig(images.DAEMON_REF);
    const probe = cfg.Healthcheck.Test.join(' ').replace(`:${DAEMON_PORT}/`, `:${daemonPort}/`);
    assert.equal(await runHealthcheck(daemonName, { Test: ['CMD-SHELL', probe.replace(/^CMD-SHELL /, '')] }), 0);
    // ...and fails when nothing answers there: the check can fail.
    const dead = probe.replace(`:${daemonPort}/`, `:${await freePort()}/`);
    assert.notEqual(await runHealthcheck(daemonName, { Test: ['CMD-SHELL', dead.replace(/^CMD-SHELL /, '')] }), 0);
  });

  test('photofinishd runs as uid 10001, not root', async () => {
    const { uid, gid } = await pid1Ids(daemonName);
    assert.deepEqual(uid, ['10001', '10001', '10001', '10001']);
    assert.deepEqual(gid, ['10001', '10001', '10001', '10001']);
    const cmd = await exec(daemonName, ['cat', '/proc/1/cmdline']);
    assert.match(cmd.stdout, /^\/usr\/local\/bin\/photofinishd/);
  });

  test('the root filesystem is read-only and /tmp is writable', async () => {
    const c = await inspectContainer(daemonName);
    assert.equal(c.HostConfig.ReadonlyRootfs, true);
    for (const target of ['/probe', '/usr/local/bin/probe', '/etc/probe']) {
      const w = await exec(daemonName, ['/bin/sh', '-c', `echo x > ${target}`], { user: 'root' });
      assert.notEqual(w.code, 0, `${target} is writable`);
      assert.match(w.stderr, /Read-only file system/);
    }
    const t = await exec(daemonName, ['/bin/sh', '-c', 'echo x > /tmp/probe && cat /tmp/probe && rm /tmp/probe']);
    assert.equal(t.code, 0, t.stderr);
    assert.equal(t.stdout.trim(), 'x');
  });

  test('uploaded photos are processed: codes found, variants written', async () => {
    for (const s of specs.slice(0, 3)) await put(s.file, s.file);
    for (const f of ['c4.png', 'c4.webp', 'c4.tif']) await put(f, f);
    const want = { 41001: ['c1.jpg', 'c2.jpg'], 41002: ['c2.jpg', 'c3.jpg'], 41003: ['c4.png', 'c4.webp', 'c4.tif'] };
    for (const [code, files] of Object.entries(want)) {
      const r = await waitFor(async () => {
        const p = await participant(code);
        return participantCount(p.body) === files.length && p;
      }, { timeoutMs: 60000, intervalMs: 250, what: `photos of ${code}` });
      const ids = files.map((f) => imageId(stack.env.PHOTOFINISH_INGRESS_BUCKET, f));
      assert.deepEqual(r.body.images.map((i) => i.id).sort(), ids.sort());
      for (const img of r.body.images) {
        for (const url of [img.fullsizeUrl, img.thumbnailUrl]) {
          const res = await fetch(url);
          assert.equal(res.status, 200, url);
          const bytes = Buffer.from(await res.arrayBuffer());
          assert.ok(bytes[0] === 0xff && bytes[1] === 0xd8, 'a JPEG');
        }
      }
    }
    const logs = await jsonLogs(daemonName);
    assert.ok(logs.filter((l) => l.msg === 'image processed').length >= 6, 'JSON log lines on stdout');
  });

  test('the gallery image serves a participant page from that daemon', async () => {
    const cfg = await imageConfig(images.GALLERY_REF);
    assert.equal(cfg.User, USER);
    assert.ok(Object.keys(cfg.ExposedPorts ?? {}).includes(`${GALLERY_PORT}/tcp`));
    assert.match(JSON.stringify(cfg.Healthcheck.Test), /\/healthz/);

    galleryPort = await freePort();
    galleryName = await runContainer(images.GALLERY_REF, {
      prefix: 'pf-test-gallery',
      env: {
        PORT: String(galleryPort),
        HOST: '127.0.0.1',
        ORIGIN: `http://127.0.0.1:${galleryPort}`,
        PHOTOFINISH_API_URL: `http://127.0.0.1:${daemonPort}`,
        GALLERY_RACE_NAME: 'Container Test 10K',
      },
    });
    containers.push(galleryName);
    const base = `http://127.0.0.1:${galleryPort}`;
    await waitReady(galleryName, `${base}/healthz`, 'gallery ready');
    const healthcheck = cfg.Healthcheck.Test.map((a) => a.replace('process.env.PORT || 3000', String(galleryPort)));
    assert.equal(await runHealthcheck(galleryName, { Test: healthcheck }), 0, 'image health check');

    const res = await fetch(`${base}/p/41001`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /Container Test 10K/);
    assert.match(html, /41001/);
    assert.match(html, /2 photos/);
    // The thumbnails are the daemon's: their URLs point at the processed bucket.
    const r = await participant('41001');
    for (const img of r.body.images) {
      const key = new URL(img.thumbnailUrl).pathname;
      assert.ok(html.includes(key), `page links ${key}`);
    }
    const missing = await fetch(`${base}/p/49999`);
    assert.equal(missing.status, 200);
    assert.doesNotMatch(await missing.text(), /2 photos/);

    const { uid } = await pid1Ids(galleryName);
    assert.deepEqual(uid, ['10001', '10001', '10001', '10001']);
    assert.equal((await inspectContainer(galleryName)).HostConfig.ReadonlyRootfs, true);

    // SIGTERM: the server closes and node exits 0 before the stop timeout.
    const started = Date.now();
    const stop = await engine(['stop', '-t', String(STOP_TIMEOUT_S), galleryName], { timeoutMs: (STOP_TIMEOUT_S + 30) * 1000 });
    assert.equal(stop.code, 0, stop.stderr);
    const took = (Date.now() - started) / 1000;
    assert.equal((await inspectContainer(galleryName)).State.ExitCode, 0);
    assert.ok(took < STOP_TIMEOUT_S, `gallery stopped after ${took.toFixed(1)} s`);
  });

  test('SIGTERM with photos in flight: drains and exits 0 within the stop timeout, nothing lost', async (t) => {
    const batch = specs.slice(4);
    const processed = async () => (await jsonLogs(daemonName)).filter((l) => l.msg === 'image processed').length;
    const before = await processed();
    for (const s of batch) await put(s.file, s.file);
    // Stop once the daemon is busy with the batch but has not finished it.
    await waitFor(async () => (await processed()) >= before + 2, { timeoutMs: 60000, intervalMs: 100, what: 'the batch under way' });
    const started = Date.now();
    const stop = await engine(['stop', '-t', String(STOP_TIMEOUT_S), daemonName], { timeoutMs: (STOP_TIMEOUT_S + 30) * 1000 });
    const took = (Date.now() - started) / 1000;
    assert.equal(stop.code, 0, stop.stderr);
    const c = await inspectContainer(daemonName);
    const logs = await jsonLogs(daemonName);
    assert.equal(c.State.Running, false);
    assert.equal(c.State.ExitCode, 0, `exit status; logs:\n${(await containerLogs(daemonName)).slice(-4000)}`);
    assert.ok(took < STOP_TIMEOUT_S, `stopped after ${took.toFixed(1)} s (SIGKILL comes at ${STOP_TIMEOUT_S} s)`);
    t.diagnostic(`photofinishd stopped ${took.toFixed(1)} s after SIGTERM with ${logs.find((l) => l.msg === 'draining')?.inflight} photos in flight`);
    const draining = logs.find((l) => l.msg === 'draining');
    assert.ok(draining, 'drained on SIGTERM');
    assert.ok(draining.inflight >= 1, `photos were in flight at SIGTERM: ${JSON.stringify(draining)}`);
    assert.ok(logs.some((l) => l.msg === 'drained, exiting'), 'finished draining');

    // A new task from the same image finishes what the stopped one released.
    daemonPort = await freePort();
    const second = await runContainer(images.DAEMON_REF, { env: daemonEnv(stack.env, daemonPort), prefix: 'pf-test-daemon' });
    containers.push(second);
    await waitReady(second, `http://127.0.0.1:${daemonPort}/readyz`, 'second photofinishd ready');
    const r = await waitFor(async () => {
      const p = await participant('42000');
      return participantCount(p.body) === batch.length && p;
    }, { timeoutMs: 120000, intervalMs: 500, what: 'the whole batch processed' });
    const ids = batch.map((s) => imageId(stack.env.PHOTOFINISH_INGRESS_BUCKET, s.file));
    assert.deepEqual(r.body.images.map((i) => i.id).sort(), ids.sort());
    for (const id of ids) {
      const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.env.PHOTOFINISH_PROCESSED_BUCKET, Key: r.body.images.find((i) => i.id === id).fullsizeUrl.split('?')[0].split(`/${stack.env.PHOTOFINISH_PROCESSED_BUCKET}/`)[1] }));
      assert.ok(head.ContentLength > 0);
    }
  });
});
