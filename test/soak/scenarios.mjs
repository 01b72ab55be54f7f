// The race-day scenarios. Each starts its own local stack and daemons and
// stops them all before it returns or throws; each returns its figures and
// `problems`, the invariants that did not hold (empty when all held).
import { GetItemCommand } from '@aws-sdk/client-dynamodb';

import { startStack } from '../integration/lib/stack.mjs';
import {
  checkInvariants, corpus, cpuSeconds, threadCpu, fdCount, fixedRateC, freezeStack, killAll, median, metricSum, metrics, openIdle,
  queueDepth, rssMiB, sleep, spawnDaemon, startFaultProxy, summary, uploadOne, waitFor,
} from './lib.mjs';

const noop = () => {};

/** Runs fn(stack, cleanup) with a fresh stack; cleanup.push(async fn) runs in reverse on the way out. */
async function withStack(fn) {
  const stack = await startStack();
  const cleanup = [];
  try {
    return await fn(stack, cleanup);
  } finally {
    for (const c of cleanup.reverse()) await c().catch(noop);
    await stack.stop();
  }
}

/** Uploads files under prefix with `parallel` uploads at once; resolves to { key: finishedAtMs }. */
async function uploadAll(stack, dir, files, prefix, parallel, onUploaded = noop) {
  const done = {};
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < files.length) {
      const f = files[next++];
      const key = `${prefix}${f.file}`;
      done[key] = await uploadOne(stack.s3, stack.env.PHOTOFINISH_INGRESS_BUCKET, dir, f.file, key);
      onUploaded(key, done[key]);
    }
  }));
  return done;
}

const imageLine = (line) => line.includes('"image handled"') || line.includes('"level":"error"');

// ---- 1. the burst: 3 daemons, a kill, a restart, a frozen stack ----------

/**
 * n photos uploaded as fast as `parallel` uploads go to one queue served by
 * `daemons` daemons. When a share of the photos is done: daemon 1 gets
 * SIGKILL (at killAt), the stack is frozen for freezeMs (at freezeAt),
 * daemon 2 gets SIGTERM and is started again once it has exited (at termAt).
 * Latency a runner sees: upload finished -> first listed by
 * /participants/{code}, asked round-robin of the running daemons (as behind
 * the load balancer), every pollMs per photo, polling from the moment a
 * daemon logs the photo handled. RSS within ±10 % from photo rssMark to the
 * end is checked on long runs (checkRss, default from 500 photos).
 */
export async function burst({
  photos = 1000, daemons = 3, workers = 1, parallel = 8, killAt = 0.25, freezeAt = 0.4, termAt = 0.55,
  freezeMs = 10000, visibility = 20, pollMs = 200, rssMark = 200, checkRss = photos >= 500, timeoutMs = 1800_000, log = noop,
} = {}) {
  const c = corpus(photos, { log });
  return withStack(async (stack, cleanup) => {
    const all = [];
    cleanup.push(() => killAll(all));
    const handled = new Map(); // key -> { at, daemon }
    const watch = new Map(); // key -> code
    const listedAt = {};
    const truthOf = Object.fromEntries(c.files.map((f) => [f.file, f.codes]));
    const detected = {};
    const env = {
      PHOTOFINISH_CODE_PATTERN: c.pattern, PHOTOFINISH_WORKERS: String(workers),
      PHOTOFINISH_VISIBILITY_TIMEOUT: String(visibility), PHOTOFINISH_DRAIN_SECONDS: '15',
    };
    const onLog = (j, d) => {
      if (j.msg !== 'image handled' || !['processed', 'duplicate'].includes(j.outcome)) return;
      if (j.outcome === 'processed') d.processed = (d.processed ?? 0) + 1;
      if (handled.has(j.key)) return;
      handled.set(j.key, { at: Date.now(), daemon: d.name });
      // A runner looks under a code the photo is listed under: the first one
      // the catalog holds for it (photos without one are not runner-visible).
      stack.ddb.send(new GetItemCommand({
        TableName: stack.env.PHOTOFINISH_TABLE, Key: { pk: { S: `IMAGE#${j.id}` }, sk: { S: 'IMAGE' } },
      })).then((r) => {
        const codes = (r.Item?.codes?.L ?? []).map((c) => c.S);
        detected[j.key] = codes;
        if (codes.length) watch.set(j.key, { code: codes[0], id: j.id });
      }).catch(noop);
    };
    const start = async (name) => {
      const d = await spawnDaemon(stack.env, { env, name, onLog, parseIf: imageLine });
      all.push(d);
      return d;
    };
    const live = () => all.filter((d) => d.alive);
    const ds = [];
    for (let i = 1; i <= daemons; i++) ds.push(await start(`d${i}`));

    // RSS of every daemon against the number of photos done so far.
    const samples = [];
    const sampler = setInterval(() => {
      for (const d of live()) {
        try { samples.push({ daemon: d.name, pid: d.proc.pid, done: handled.size, own: d.processed ?? 0, rss: rssMiB(d.proc.pid) }); } catch { /* exiting */ }
      }
    }, 500);
    cleanup.push(async () => clearInterval(sampler));

    // The runner's view: poll the watched photos' codes round-robin.
    let rr = 0;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const batch = [...watch.entries()];
        await Promise.all(batch.map(async ([key, { code, id }]) => {
          const targets = live();
          if (!targets.length) return;
          const d = targets[rr++ % targets.length];
          const r = await fetch(`${d.url}/participants/${code}?limit=500`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
          if (!r || r.status !== 200) return;
          const body = await r.json().catch(() => null);
          if (body?.images?.some((im) => im.id === id)) {
            listedAt[key] = Date.now();
            watch.delete(key);
          }
        }));
        await sleep(pollMs);
      }
    })();
    cleanup.push(async () => { polling = false; await poller; });

    const events = [];
    const at = (share) => () => handled.size >= Math.ceil(photos * share);
    const t0 = Date.now();
    const uploads = {};
    const uploading = uploadAll(stack, c.dir, c.files, 'burst/', parallel, (k, t) => { uploads[k] = t; });

    // The faults, in order of the share of photos done.
    const timeline = (async () => {
      await waitFor(at(killAt), { timeoutMs, intervalMs: 100, what: 'the kill point' });
      events.push({ at: Date.now() - t0, done: handled.size, what: `SIGKILL ${ds[0].name}` });
      await ds[0].stop('SIGKILL');
      await waitFor(at(freezeAt), { timeoutMs, intervalMs: 100, what: 'the freeze point' });
      events.push({ at: Date.now() - t0, done: handled.size, what: `stack frozen ${freezeMs / 1000} s` });
      await freezeStack(stack, freezeMs);
      await waitFor(at(termAt), { timeoutMs, intervalMs: 100, what: 'the SIGTERM point' });
      events.push({ at: Date.now() - t0, done: handled.size, what: `SIGTERM ${ds[1].name}` });
      const t = Date.now();
      const exit = await ds[1].stop('SIGTERM');
      events.push({ at: Date.now() - t0, done: handled.size, what: `${ds[1].name} exited ${exit.code ?? exit.signal} after ${((Date.now() - t) / 1000).toFixed(1)} s` });
      await start(`${ds[1].name}b`);
      events.push({ at: Date.now() - t0, done: handled.size, what: `${ds[1].name}b started` });
    })();
    await uploading;
    const uploadSecs = (Date.now() - t0) / 1000;
    await timeline;
    const keys = Object.keys(uploads);
    await waitFor(() => keys.every((k) => handled.has(k)), { timeoutMs, intervalMs: 250, what: `all ${photos} photos handled` });
    const doneSecs = (Date.now() - t0) / 1000;
    // Messages the killed daemon held come back after their visibility
    // timeout and are handled again; nothing may stay invisible past that.
    let q;
    await waitFor(async () => {
      q = await queueDepth(stack, stack.env.PHOTOFINISH_QUEUE_URL);
      return q.visible === 0 && q.invisible === 0;
    }, { timeoutMs: (visibility + 30) * 1000, intervalMs: 500, what: 'an empty queue' }).catch(noop);
    await waitFor(() => watch.size === 0, { timeoutMs: 30000, intervalMs: 200, what: 'every photo listed' }).catch(noop);
    clearInterval(sampler);
    polling = false;
    await poller;
    const endDone = handled.size;
    for (const d of live()) await d.stop('SIGTERM');

    const inv = await checkInvariants(stack, keys);
    const problems = [...inv.problems];
    const latency = [];
    let undetected = 0;
    for (const k of keys) {
      const truth = truthOf[k.slice(k.indexOf('/') + 1)] ?? [];
      undetected += truth.filter((code) => !(detected[k] ?? []).includes(code)).length;
      if (!detected[k]?.length) continue;
      if (!listedAt[k]) { problems.push(`${k}: never seen by a runner under ${detected[k][0]}`); continue; }
      latency.push((listedAt[k] - uploads[k]) / 1000);
    }
    const toCatalog = keys.map((k) => (handled.get(k).at - uploads[k]) / 1000);
    // RSS from the photo `rssMark` (or a fifth of the run, when shorter) to the end, per daemon that lived through both.
    const mark = Math.min(rssMark, Math.floor(photos / 5));
    const rss = [];
    for (const name of new Set(samples.map((s) => s.daemon))) {
      const mine = samples.filter((s) => s.daemon === name);
      // A daemon started after the mark (the restarted one) is measured from
      // when it has processed 20 photos of its own: warm, as the others are.
      const first = mine.find((s) => s.done >= mark && s.own >= Math.min(20, Math.floor(photos / 10)));
      const from = first ? mine.filter((s) => s.done >= first.done && s.done <= first.done + Math.max(10, photos / 20)).map((s) => s.rss) : [];
      const to = mine.filter((s) => s.done >= endDone - Math.max(10, photos / 20)).map((s) => s.rss);
      const entry = { daemon: name, fromPhoto: first?.done, atMark: median(from), atEnd: median(to), samples: mine.length, processed: all.find((d) => d.name === name)?.processed ?? 0 };
      entry.drift = (entry.atEnd - entry.atMark) / entry.atMark;
      rss.push(entry);
      // Only a long run has a warm daemon at the mark: with a few dozen
      // photos per daemon the heap is still growing there.
      if (checkRss && from.length && to.length && Math.abs(entry.drift) > 0.10) problems.push(`${name}: RSS ${entry.atMark.toFixed(1)} -> ${entry.atEnd.toFixed(1)} MiB (${(entry.drift * 100).toFixed(1)} %)`);
    }
    if (checkRss && !rss.some((r) => Number.isFinite(r.drift))) problems.push('no daemon lived from the RSS mark to the end');
    return {
      photos, daemons, workers, uploadSecs, doneSecs, events, throughput: photos / doneSecs,
      latency: summary(latency), toCatalog: summary(toCatalog), rss, undetected, codes: c.files.reduce((n, f) => n + f.codes.length, 0), invariants: inv, queueAtEnd: q, problems,
    };
  });
}

// ---- 2. the API under load while photos process ----------------------------

/**
 * One daemon with `workers` workers. Three phases of n photos each (queued
 * while the daemon is stopped with SIGSTOP, then the clock runs from
 * SIGCONT to the last one done): without API load, with a fixed-rate client
 * offering `rate` requests/s to /participants/{code} (hotShare of them for
 * 20 codes that stay cached, the rest for codes asked once, each a catalog
 * Query), and without load again. Baseline: the mean of the unloaded phases.
 */
export async function apiUnderLoad({ photos = 150, workers = 2, rate = 1000, hotShare = 0.98, logLevel = 'info', log = noop } = {}) {
  const c = corpus(photos * 3, { log });
  return withStack(async (stack, cleanup) => {
    let done = 0;
    const d = await spawnDaemon(stack.env, {
      env: { PHOTOFINISH_CODE_PATTERN: c.pattern, PHOTOFINISH_WORKERS: String(workers), PHOTOFINISH_LOG_LEVEL: logLevel },
      parseIf: (line) => line.includes('"image handled"'),
      onLog: (j) => { if (j.msg === 'image handled' && j.outcome === 'processed') done++; },
    });
    cleanup.push(() => d.stop('SIGKILL'));
    const hot = [...new Set(c.files.flatMap((f) => f.codes))].slice(0, 20);
    const phase = async (name, files, load) => {
      process.kill(d.proc.pid, 'SIGSTOP');
      try {
        await uploadAll(stack, c.dir, files, `${name}/`, 8);
      } finally {
        process.kill(d.proc.pid, 'SIGCONT');
      }
      const target = done + files.length;
      const cpu0 = cpuSeconds(d.proc.pid);
      const loop0 = threadCpu(d.proc.pid)[d.proc.pid]?.cpu ?? 0;
      const t0 = Date.now();
      let api = null;
      if (load) {
        api = await fixedRateC({ port: d.port, rate, seconds: 600, hot, hotShare, conns: 1024, coldPrefix: `U${name}`, stopWhen: () => done >= target });
      }
      await waitFor(() => done >= target, { timeoutMs: 900_000, intervalMs: 50, what: `${name}: ${files.length} photos` });
      const secs = (Date.now() - t0) / 1000;
      const loopCpu = (threadCpu(d.proc.pid)[d.proc.pid]?.cpu ?? 0) - loop0;
      return { name, photos: files.length, secs, rate: files.length / secs, daemonCpu: cpuSeconds(d.proc.pid) - cpu0, loopCpu, api };
    };
    const p1 = await phase('idle1', c.files.slice(0, photos), false);
    const p2 = await phase('load', c.files.slice(photos, 2 * photos), true);
    const p3 = await phase('idle2', c.files.slice(2 * photos, 3 * photos), false);
    const m = await metrics(d.url);
    await d.stop('SIGTERM');
    const baseline = (p1.rate + p3.rate) / 2;
    const ratio = p2.rate / baseline;
    const problems = [];
    if (p2.api.latency.p99 >= 25) problems.push(`API p99 ${p2.api.latency.p99.toFixed(1)} ms under load (target < 25 ms)`);
    if (ratio < 0.85) problems.push(`photo throughput under API load ${ratio.toFixed(2)}x the unloaded one (target >= 0.85)`);
    if (p2.api.errors) problems.push(`${p2.api.errors} API requests failed`);
    return {
      workers, rate, hotShare, logLevel, phases: [p1, p2, p3], baseline, ratio, problems,
      cacheHits: metricSum(m, 'photofinish_api_cache_total', 'hit'), cacheMisses: metricSum(m, 'photofinish_api_cache_total', 'miss'),
    };
  });
}

// ---- 3. throttling through a fault-injecting proxy --------------------------

/**
 * One daemon whose every AWS call goes through startFaultProxy: `share` of
 * the calls answered with the service's throttling/5xx error for the whole
 * run, and a window of windowMs in which every call fails while `lookups`
 * participant lookups (each a catalog Query) are asked. The documented retry
 * quota (500 tokens, 5 per retry, nothing back without a success) allows at
 * most 100 retries in that window; after it calls fail at their first
 * attempt. Afterwards every photo is in the catalog exactly once and nothing
 * is in the DLQ.
 */
export async function throttling({ photos = 40, share = 0.1, windowMs = 8000, lookups = 300, workers = 2, log = noop } = {}) {
  const c = corpus(photos, { log });
  return withStack(async (stack, cleanup) => {
    const proxy = await startFaultProxy(stack.env, { share });
    cleanup.push(() => proxy.stop());
    const handled = new Set();
    const d = await spawnDaemon(stack.env, {
      env: { ...proxy.env, PHOTOFINISH_CODE_PATTERN: c.pattern, PHOTOFINISH_WORKERS: String(workers), PHOTOFINISH_VISIBILITY_TIMEOUT: '20' },
      parseIf: imageLine,
      onLog: (j) => { if (j.msg === 'image handled' && ['processed', 'duplicate'].includes(j.outcome)) handled.add(j.key); },
    });
    cleanup.push(() => d.stop('SIGKILL'));
    const uploads = await uploadAll(stack, c.dir, c.files, 'thr/', 4);
    const keys = Object.keys(uploads);
    await waitFor(() => handled.size >= keys.length / 3, { timeoutMs: 300_000, intervalMs: 100, what: 'a third of the photos' });

    // The window: everything fails; participant lookups drive calls.
    const m0 = await metrics(d.url);
    proxy.setShare(1);
    const t0 = Date.now();
    const answers = [];
    let i = 0;
    while (i < lookups && Date.now() - t0 < windowMs) {
      const batch = Array.from({ length: Math.min(20, lookups - i) }, () => i++);
      answers.push(...await Promise.all(batch.map(async (k) => {
        const s = Date.now();
        const r = await fetch(`${d.url}/participants/Q${k}`, { signal: AbortSignal.timeout(20000) }).catch(() => null);
        return { status: r?.status ?? 0, ms: Date.now() - s };
      })));
    }
    await sleep(Math.max(0, windowMs - (Date.now() - t0)));
    const m1 = await metrics(d.url);
    proxy.setShare(share);
    const retriesInWindow = metricSum(m1, 'photofinish_aws_retries_total') - metricSum(m0, 'photofinish_aws_retries_total');
    const failedCalls = (m) => metricSum(m, 'photofinish_aws_calls_total', 'outcome="throttled"') + metricSum(m, 'photofinish_aws_calls_total', 'outcome="server_error"');
    const failedInWindow = failedCalls(m1) - failedCalls(m0);
    const late = answers.slice(Math.floor(answers.length / 2));

    await waitFor(() => keys.every((k) => handled.has(k)), { timeoutMs: 600_000, intervalMs: 250, what: 'every photo handled' });
    // After the window, with successes refilling the quota, retries resume.
    const m2 = await metrics(d.url);
    await waitFor(async () => {
      const q = await queueDepth(stack, stack.env.PHOTOFINISH_QUEUE_URL);
      return q.visible === 0 && q.invisible === 0;
    }, { timeoutMs: 120_000, intervalMs: 500, what: 'an empty queue' }).catch(noop);
    await d.stop('SIGTERM');
    proxy.setShare(0);
    const inv = await checkInvariants(stack, keys);
    const problems = [...inv.problems];
    // The quota as documented: 5 tokens a retry, none back without a
    // success, so it runs out in the window and calls then fail at once.
    // (The retry counter is recorded when a call ends, so calls that began
    // retrying before the window count in it: the gauge is the exact check.)
    const q0 = metricSum(m0, 'photofinish_aws_retry_quota');
    const q1 = metricSum(m1, 'photofinish_aws_retry_quota');
    if (q1 >= 5) problems.push(`the retry quota did not run out while every call failed (${q0} -> ${q1} tokens)`);
    if (retriesInWindow > Math.floor(q0 / 5) + 10) problems.push(`${retriesInWindow} retries in the window; ${q0} tokens allow ${Math.floor(q0 / 5)}`);
    if (failedInWindow <= retriesInWindow) problems.push(`no call failed without a retry in the window (${failedInWindow} failed calls, ${retriesInWindow} retries)`);
    const retriesAfter = metricSum(m2, 'photofinish_aws_retries_total') - metricSum(m1, 'photofinish_aws_retries_total');
    if (retriesAfter <= 0) problems.push('no retry after the window: the quota did not refill');
    const lateMs = summary(late.map((a) => a.ms));
    return {
      photos, share, windowMs, injected: proxy.stats, quotaBefore: q0, quotaAfter: q1, quotaEnd: metricSum(m2, 'photofinish_aws_retry_quota'), retriesInWindow, failedInWindow, retriesAfter,
      lookups: answers.length, lookupStatuses: answers.reduce((o, a) => ({ ...o, [a.status]: (o[a.status] ?? 0) + 1 }), {}),
      lateLookupMs: lateMs, invariants: inv, problems,
      retriesTotal: metricSum(m2, 'photofinish_aws_retries_total'), retryOutcomes: metricSum(m2, 'photofinish_images_total', 'outcome="retry"'),
    };
  });
}

// ---- 4. connection pressure ----------------------------------------------

/**
 * One daemon, started with the open-files limit ECS on Fargate gives a
 * container (soft 1024, hard 65535), serving a fixed-rate client (`rate`
 * requests/s of cached answers on keep-alive connections opened first)
 * while `idle` connections that never send a byte and `slow` clients that
 * send a header line every few seconds are opened. Expected: connections
 * beyond the cap get a 503 and are closed; the descriptor count (from
 * /proc) stays below the limit; normal requests keep being answered; once
 * the idle ones close, the count falls back.
 */
export async function connections({ idle = 5000, slow = 50, rate = 200, durationMs = 15000, maxConnections, log = noop } = {}) {
  return withStack(async (stack, cleanup) => {
    const env = maxConnections ? { PHOTOFINISH_MAX_CONNECTIONS: String(maxConnections) } : {};
    // Fargate gives soft 1024 / hard 65535; the hard limit here is what this
    // process may grant (raising it needs privileges).
    const hard = /Max open files\s+\d+\s+(\d+)/.exec((await import('node:fs')).readFileSync('/proc/self/limits', 'utf8'))[1];
    const d = await spawnDaemon(stack.env, { env: { ...env, PHOTOFINISH_LOG_LEVEL: 'warn' }, prefix: ['prlimit', `--nofile=1024:${Math.min(65535, Number(hard))}`, '--'] });
    cleanup.push(() => d.stop('SIGKILL'));
    const pid = d.proc.pid;
    const limits = /Max open files\s+(\d+)\s+(\d+)/.exec((await import('node:fs')).readFileSync(`/proc/${pid}/limits`, 'utf8'));
    const fdBase = fdCount(pid);
    let fdMax = fdBase;
    const fdTimer = setInterval(() => { try { fdMax = Math.max(fdMax, fdCount(pid)); } catch { /* gone */ } }, 50);
    cleanup.push(async () => clearInterval(fdTimer));
    // The normal client first: its keep-alive connections exist before the flood.
    const load = fixedRateC({ port: d.port, rate, seconds: durationMs / 1000, hot: ['100'], hotShare: 1, conns: 16 });
    await sleep(1000);
    const net = await import('node:net');
    const slowSockets = [];
    for (let i = 0; i < slow; i++) {
      const s = net.connect({ host: '127.0.0.1', port: d.port });
      s.on('error', noop);
      s.write(`GET /participants/${i} HTTP/1.1\r\nHost: x\r\n`);
      slowSockets.push(s);
    }
    const dribble = setInterval(() => { for (const s of slowSockets) if (!s.destroyed) s.write('X-Slow: 1\r\n'); }, 3000);
    cleanup.push(async () => { clearInterval(dribble); for (const s of slowSockets) s.destroy(); });
    const flood = await openIdle(d.port, idle, { timeoutMs: durationMs });
    cleanup.push(async () => { for (const s of flood.sockets) s.destroy(); });
    const r = await load;
    await sleep(500);
    const held = flood.sockets.filter((s) => !s.destroyed).length;
    const refused = flood.refused;
    const answers = { ...flood.answers };
    // A fresh connection while the flood holds its sockets: refused clearly, or served.
    const probe = await fetch(`${d.url}/participants/100`, { signal: AbortSignal.timeout(5000) }).then(async (x) => ({ status: x.status, body: await x.text() })).catch((e) => ({ status: 0, body: e.message }));
    clearInterval(dribble);
    for (const s of flood.sockets) s.destroy();
    for (const s of slowSockets) s.destroy();
    let fdAfter = fdCount(pid);
    await waitFor(() => { fdAfter = fdCount(pid); return fdAfter <= fdBase + 20; }, { timeoutMs: 10000, intervalMs: 100, what: 'descriptors back' }).catch(noop);
    const after = await fetch(`${d.url}/participants/100`, { signal: AbortSignal.timeout(5000) }).then((x) => x.status).catch(() => 0);
    clearInterval(fdTimer);
    const alive = d.alive;
    await d.stop('SIGTERM');
    const softLimit = Number(limits?.[1] ?? 0);
    const problems = [];
    if (!alive) problems.push('the daemon died');
    if (!refused) problems.push(`no connection refused among ${idle} (held ${held})`);
    if (refused && !answers['503']) problems.push(`refusals without a 503: ${JSON.stringify(answers)}`);
    if (fdMax >= softLimit) problems.push(`descriptors reached the limit (${fdMax} of ${softLimit})`);
    if (r.completed < r.offered * 0.99) problems.push(`normal requests: ${r.completed} of ${r.offered} answered`);
    if (after !== 200) problems.push(`after the flood: ${after}`);
    if (fdAfter > fdBase + 20) problems.push(`descriptors did not fall back: ${fdBase} -> ${fdAfter}`);
    return { hardLimit: Number(limits?.[2] ?? 0), idle, slow, rate, held, refused, answers, probe: { status: probe.status, body: probe.body.slice(0, 200) }, fdBase, fdMax, fdAfter, softLimit, normal: r, after, problems };
  });
}

// ---- 5. per-task rate, for the capacity plan -----------------------------

/**
 * Photos per second of one task: n photos queued first, then one daemon
 * started, the clock running from its start to its n-th photo done. The
 * 1-vCPU task is the daemon pinned to one core (taskset) with 1 worker; the
 * 2-vCPU task has both cores and 2 workers. The local stack is not pinned
 * and takes its share of the same cores, as the uploader does not.
 */
export async function taskRate({ photos = 100, vcpus = 2, log = noop } = {}) {
  const c = corpus(photos, { log });
  return withStack(async (stack, cleanup) => {
    await uploadAll(stack, c.dir, c.files, `rate${vcpus}/`, 8);
    let done = 0;
    const t0 = Date.now();
    const d = await spawnDaemon(stack.env, {
      env: { PHOTOFINISH_CODE_PATTERN: c.pattern, PHOTOFINISH_WORKERS: String(vcpus), PHOTOFINISH_LOG_LEVEL: 'info' },
      prefix: vcpus === 1 ? ['taskset', '-c', '0'] : [],
      parseIf: (line) => line.includes('"image handled"'),
      onLog: (j) => { if (j.msg === 'image handled' && j.outcome === 'processed') done++; },
    });
    cleanup.push(() => d.stop('SIGKILL'));
    await waitFor(() => done >= photos, { timeoutMs: 1800_000, intervalMs: 100, what: `${photos} photos` });
    const secs = (Date.now() - t0) / 1000;
    const cpu = cpuSeconds(d.proc.pid);
    await d.stop('SIGTERM');
    return { vcpus, photos, secs, rate: photos / secs, cpuPerPhoto: cpu / photos, problems: [] };
  });
}
