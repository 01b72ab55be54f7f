// Building blocks of the race-day soak (test/soak/soak.mjs, make soak) and of
// its short form in make test (test/integration/raceday.test.mjs): the photo
// corpus, daemons started and observed from outside (RSS, descriptors,
// /metrics, log lines), a fixed-rate HTTP client, a fault-injecting proxy in
// front of the local stack, the stack frozen with SIGSTOP, and the catalog,
// bucket and queues read back for the invariants. Everything listens on and
// talks to 127.0.0.1 only; every loop is bounded in count and time.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, renameSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';

import { REPO_ROOT, processAlive, waitFor } from '../integration/lib/stack.mjs';
import { BIN_DIR, daemonEnv, freePort } from '../integration/lib/daemon.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- photos --------------------------------------------------------------

/**
 * At least n photos from bench/corpus.py at width x height, generated once
 * into bench/corpus-WxH/ and reused (the generator is deterministic per
 * photo index, so a larger cache holds the smaller one). Returns
 * { dir, files: [{ file, codes }], pattern }.
 */
export function corpus(n, { width = 3000, height = 2000, log = () => {} } = {}) {
  const dir = path.join(REPO_ROOT, `bench/corpus-${width}x${height}`);
  const truthOf = (d) => JSON.parse(readFileSync(path.join(d, 'truth.json'), 'utf8'));
  let have = 0;
  if (existsSync(path.join(dir, 'truth.json'))) have = Object.keys(truthOf(dir).photos).length;
  if (have < n) {
    const tmp = `${dir}.gen${process.pid}`;
    log(`generating ${n} photos of ${width}x${height} in ${dir} (once; about 1 s per photo per core)`);
    rmSync(tmp, { recursive: true, force: true });
    execFileSync('/usr/bin/python3', [path.join(REPO_ROOT, 'bench/corpus.py'), tmp, String(n), '1', `${width}x${height}`],
      { stdio: ['ignore', 'ignore', 'inherit'], timeout: 3600_000 });
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  const truth = truthOf(dir);
  const files = Object.keys(truth.photos).sort().slice(0, n)
    .map((file) => ({ file, codes: truth.photos[file].codes.map((c) => c.code) }));
  return { dir, files, pattern: truth.pattern };
}

/** Uploads one photo; resolves to the time the upload finished (ms since epoch). */
export async function uploadOne(s3, bucket, dir, file, key) {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(path.join(dir, file)) }));
  return Date.now();
}

// ---- numbers -------------------------------------------------------------

export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

// ---- processes -----------------------------------------------------------

export function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}

export function fdCount(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100/s)
}

/** CPU seconds of each thread of a process: { tid: { name, cpu } } (the loop thread's tid is the pid). */
export function threadCpu(pid) {
  const out = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[tid] = { name, cpu: (Number(f[11]) + Number(f[12])) / 100 };
    } catch { /* gone */ }
  }
  return out;
}

/** Every pid of a process group (the local stack's launcher and its children). */
export function groupPids(pgid) {
  const out = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) out.push(Number(e));
    } catch { /* gone */ }
  }
  return out;
}

/**
 * Freezes the local stack (SIGSTOP to its process group) for ms, then
 * thaws it. The thaw is also registered on process exit, so a failing run
 * never leaves a stopped stack behind.
 */
export async function freezeStack(stack, ms) {
  const thaw = () => { try { process.kill(-stack.pid, 'SIGCONT'); } catch { /* gone */ } };
  process.once('exit', thaw);
  process.kill(-stack.pid, 'SIGSTOP');
  try {
    await sleep(ms);
  } finally {
    thaw();
    process.removeListener('exit', thaw);
  }
}

/** Prometheus text → { 'name{labels}': value }. */
export async function metrics(url) {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) ([-0-9.e+]+|NaN)$/i.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Sum of every series of a metric whose labels contain all of `has`. */
export function metricSum(m, name, ...has) {
  let n = 0;
  for (const [k, v] of Object.entries(m)) {
    if (k !== name && !k.startsWith(`${name}{`)) continue;
    if (has.every((h) => k.includes(h))) n += v;
  }
  return n;
}

/**
 * A photofinishd the soak can observe: JSON log lines go to onLog(line,
 * daemon) as they arrive. `prefix` runs it under another command (e.g.
 * prlimit); parseIf(line), when given, skips the lines it refuses (at
 * 1,000 requests/s the per-request lines would cost this process a core).
 * Resolves once /readyz answers 200.
 */
// Every daemon started, so that an interrupted run (SIGINT, SIGTERM) still
// stops them: their parent going away does not stop them by itself.
const spawned = new Set();
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const d of spawned) if (d.alive) d.proc.kill('SIGKILL');
    process.exit(130);
  });
}
process.once('exit', () => { for (const d of spawned) if (d.alive) d.proc.kill('SIGKILL'); });

export async function spawnDaemon(stackEnv, { env = {}, name = 'daemon', prefix = [], onLog = () => {}, parseIf = null, timeoutMs = 30000 } = {}) {
  const port = await freePort();
  const fullEnv = daemonEnv(stackEnv, { PHOTOFINISH_LISTEN: `127.0.0.1:${port}`, ...env });
  const bin = path.join(BIN_DIR, 'photofinishd');
  const [cmd, ...args] = prefix.length ? [...prefix, bin] : [bin];
  // Its log goes to a file, read back every 100 ms: a pipe to this process
  // would block the daemon's loop thread whenever this process (busy being
  // a load client on the same cores) reads late.
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'pf-soak-log-'));
  const logPath = path.join(logDir, 'stdout.log');
  const logFd = openSync(logPath, 'w');
  const proc = spawn(cmd, args, { env: fullEnv, stdio: ['ignore', logFd, 'pipe'] });
  closeSync(logFd);
  let buf = '';
  let stderr = '';
  const tail = [];
  const d = {
    name, port, proc, url: `http://127.0.0.1:${port}`, startedAt: Date.now(), env: fullEnv,
    exited: new Promise((resolve) => proc.once('close', (code, signal) => resolve({ code, signal }))),
    get alive() { return proc.exitCode === null && proc.signalCode === null; },
    get stderr() { return stderr; },
    tail,
    stop(signal = 'SIGTERM') {
      if (d.alive) proc.kill(signal);
      return d.exited;
    },
  };
  spawned.add(d);
  let offset = 0;
  const chunk = Buffer.alloc(1 << 20);
  const readLog = () => {
    let fd;
    try { fd = openSync(logPath, 'r'); } catch { return; }
    try {
      for (let n = 0; n < 64; n++) { // at most 64 MiB per read-out
        const got = readSync(fd, chunk, 0, chunk.length, offset);
        if (got <= 0) break;
        offset += got;
        buf += chunk.toString('utf8', 0, got);
      }
    } finally {
      closeSync(fd);
    }
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (parseIf && !parseIf(line)) continue;
      let j;
      try { j = JSON.parse(line); } catch { j = { unparsable: line }; }
      tail.push(j);
      if (tail.length > 200) tail.shift();
      onLog(j, d);
    }
  };
  const reader = setInterval(readLog, 100);
  d.readLog = readLog;
  d.exited.then(() => {
    spawned.delete(d);
    clearInterval(reader);
    readLog();
    rmSync(logDir, { recursive: true, force: true });
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (c) => { if (stderr.length < 65536) stderr += c; });
  try {
    await waitFor(async () => {
      if (!d.alive) throw new Error(`photofinishd exited: ${stderr}${tail.map((t) => JSON.stringify(t)).join('\n')}`);
      const r = await fetch(`${d.url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
      return r && r.status === 200;
    }, { timeoutMs, intervalMs: 100, what: `${name} ready` });
  } catch (e) {
    await d.stop('SIGKILL');
    e.message += `\n${name}'s last log lines:\n${tail.slice(-10).map((t) => JSON.stringify(t)).join('\n')}`;
    throw e;
  }
  return d;
}

/** Kills what is still running of `daemons` (SIGKILL) and waits for them. */
export async function killAll(daemons) {
  await Promise.all(daemons.map((d) => d.stop('SIGKILL')));
}

// ---- fixed-rate HTTP client ----------------------------------------------

/**
 * A fixed-rate (open-loop) client, in C (test/tools/fixed_rate.c, built by
 * make): a slow answer does not slow the offer down, latency runs from when
 * a request was due; a Node client on the daemon's two cores would measure
 * its own scheduling more than the server. Offers `rate` requests/s to /participants/{code} on `port`,
 * hotShare of them for the `hot` codes, the rest for codes never asked
 * before; stops after `seconds` or once stopWhen() is true (checked every
 * 100 ms). Resolves to fixed_rate's JSON: { offered, seconds, completed,
 * errors, connections, statuses, latency, byClass: { cached, uncached } }.
 */
export async function fixedRateC({ port, rate, seconds, hot, hotShare = 0.9, coldPrefix = 'U', conns = 256, timeoutMs = 5000, stopWhen = () => false }) {
  const bin = path.join(BIN_DIR, 'tools/fixed_rate');
  const proc = spawn(bin, ['--port', String(port), '--rate', String(rate), '--seconds', String(seconds), '--hot', hot.join(','),
    '--hot-share', String(hotShare), '--cold-prefix', coldPrefix, '--conns', String(conns), '--timeout-ms', String(timeoutMs)],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (c) => { out += c; });
  const closed = new Promise((resolve) => proc.once('close', (code, signal) => resolve(code ?? signal)));
  let asked = false;
  const watcher = setInterval(() => {
    if (!asked && stopWhen()) {
      asked = true;
      proc.kill('SIGTERM');
    }
  }, 100);
  const hardStop = setTimeout(() => proc.kill('SIGKILL'), (seconds * 1000) + timeoutMs + 15000);
  try {
    const code = await closed;
    if (code !== 0) throw new Error(`fixed_rate exited ${code}`);
  } finally {
    clearInterval(watcher);
    clearTimeout(hardStop);
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
  const r = JSON.parse(out);
  r.offeredRate = r.offered / r.seconds;
  return r;
}

// ---- fault-injecting proxy -----------------------------------------------

/**
 * An HTTP proxy in front of the stack's two endpoints (S3+SQS on one port,
 * DynamoDB on the other). While `share` > 0 it answers that share of calls
 * itself, without forwarding them, the way each service throttles:
 *   S3        503 SlowDown (XML error document)
 *   DynamoDB  400 ProvisionedThroughputExceededException (JSON 1.0)
 *   SQS       500 InternalError (JSON protocol)
 * The request body is read first, as a real server would. stats counts
 * forwarded and injected calls per service.
 */
export async function startFaultProxy(stackEnv, { share = 0, seed = 1 } = {}) {
  let rnd = seed >>> 0;
  const random = () => {
    // xorshift32: the same faults for the same seed and call order.
    rnd ^= rnd << 13; rnd >>>= 0; rnd ^= rnd >>> 17; rnd ^= rnd << 5; rnd >>>= 0;
    return rnd / 2 ** 32;
  };
  const stats = { s3: { forwarded: 0, injected: 0 }, sqs: { forwarded: 0, injected: 0 }, dynamodb: { forwarded: 0, injected: 0 } };
  const state = { share };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const servers = [];
  const make = async (target, kind) => {
    const upstream = new URL(target);
    const server = http.createServer((req, res) => {
      const targetHeader = String(req.headers['x-amz-target'] ?? '');
      const service = kind === 'dynamodb' ? 'dynamodb' : targetHeader.startsWith('AmazonSQS.') ? 'sqs' : 's3';
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        if (random() < state.share) {
          stats[service].injected++;
          const id = `soak${stats[service].injected}`;
          if (service === 's3') {
            res.writeHead(503, { 'content-type': 'application/xml', 'x-amz-request-id': id });
            res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>'
              + `<RequestId>${id}</RequestId></Error>`);
          } else if (service === 'dynamodb') {
            res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': id });
            res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'The level of configured provisioned throughput for the table was exceeded.' }));
          } else {
            res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': id });
            res.end(JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'We encountered an internal error. Please try again.' }));
          }
          return;
        }
        stats[service].forwarded++;
        const body = Buffer.concat(chunks);
        const up = http.request({
          host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent,
          timeout: 60000,
        }, (ur) => {
          res.writeHead(ur.statusCode, ur.headers);
          ur.pipe(res);
        });
        up.on('timeout', () => up.destroy(new Error('upstream timeout')));
        up.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end(); });
        up.end(body);
      });
    });
    server.keepAliveTimeout = 30000;
    await new Promise((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
    servers.push(server);
    return `http://127.0.0.1:${server.address().port}`;
  };
  const s3sqs = await make(stackEnv.AWS_ENDPOINT_URL_S3, 's3');
  const ddb = await make(stackEnv.AWS_ENDPOINT_URL_DYNAMODB, 'dynamodb');
  return {
    stats,
    setShare(x) { state.share = x; },
    // The daemon's environment: every AWS call through the proxy (the queue
    // URL stays the stack's: SQS calls go to the endpoint, and fauxqs
    // checks the URL's host).
    env: { AWS_ENDPOINT_URL_S3: s3sqs, AWS_ENDPOINT_URL_SQS: s3sqs, AWS_ENDPOINT_URL_DYNAMODB: ddb },
    async stop() {
      for (const s of servers) { s.closeAllConnections(); s.close(); }
      agent.destroy();
    },
  };
}

// ---- reading the stack back ----------------------------------------------

export async function scanTable(stack) {
  const items = [];
  let ExclusiveStartKey;
  for (let page = 0; page < 10000; page++) {
    const r = await stack.ddb.send(new ScanCommand({ TableName: stack.env.PHOTOFINISH_TABLE, ExclusiveStartKey }));
    items.push(...r.Items);
    ExclusiveStartKey = r.LastEvaluatedKey;
    if (!ExclusiveStartKey) return items;
  }
  throw new Error('table scan did not end');
}

export async function listBucket(stack, bucket) {
  const keys = [];
  let ContinuationToken;
  for (let page = 0; page < 10000; page++) {
    const r = await stack.s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken }));
    keys.push(...(r.Contents ?? []).map((o) => o.Key));
    if (!r.IsTruncated) return keys;
    ContinuationToken = r.NextContinuationToken;
  }
  throw new Error('bucket listing did not end');
}

export async function queueDepth(stack, url) {
  const r = await stack.sqs.send(new GetQueueAttributesCommand({
    QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
  }));
  return { visible: Number(r.Attributes.ApproximateNumberOfMessages), invisible: Number(r.Attributes.ApproximateNumberOfMessagesNotVisible) };
}

/**
 * The invariants after a run, as a list of problems (empty when all hold):
 * every uploaded key has exactly one image item, processed, listed exactly
 * once under each of its codes (or once under UNMATCHED) and once under its
 * file name (NAME#); no listing entry
 * points at an image that does not exist; every variant object is referenced
 * by an image item and every referenced variant exists; the queue and the
 * DLQ are empty.
 */
export async function checkInvariants(stack, uploadedKeys) {
  const problems = [];
  const items = await scanTable(stack);
  const images = new Map();
  const entries = new Map(); // id -> [pk]
  for (const it of items) {
    const pk = it.pk.S;
    const sk = it.sk.S;
    // The operators' records (counts, jobs, audit, a clear's fence, clock
    // offsets), the code index and runners' claims are not photos.
    if (['COUNTS', 'FENCE', 'JOB', 'AUDIT', 'CODES', 'CLOCK'].includes(pk) || pk.startsWith('CLAIM')) continue;
    if (sk === 'IMAGE') {
      const key = it.key?.S;
      if (images.has(key)) problems.push(`two image items for ${key}`);
      images.set(key, it);
    } else {
      const id = sk.slice(sk.lastIndexOf('#') + 1);
      if (!entries.has(id)) entries.set(id, []);
      entries.get(id).push(pk);
    }
  }
  const referenced = new Set();
  const ids = new Set();
  for (const key of uploadedKeys) {
    const it = images.get(key);
    if (!it) { problems.push(`${key}: not in the catalog`); continue; }
    if (it.status.S !== 'processed') problems.push(`${key}: status ${it.status.S} (${it.reason?.S ?? ''})`);
    const id = it.id.S;
    ids.add(id);
    const codes = (it.codes?.L ?? []).map((c) => c.S);
    // Listed under each code (or as unmatched), and under its file name for operators.
    // And in the time listings, all and its photographer's.
    const want = [...(codes.length ? codes.map((c) => `CODE#${c}`) : ['UNMATCHED']), `NAME#${key.slice(key.lastIndexOf('/') + 1).toLowerCase()}`,
      'PHOTOS', ...(it.photographer?.S !== undefined ? [`PHOTOS#${it.photographer.S}`] : [])];
    const got = (entries.get(id) ?? []).sort();
    if (JSON.stringify(got) !== JSON.stringify([...want].sort())) {
      problems.push(`${key}: listed under ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    }
    for (const k of ['fullsizeKey', 'thumbnailKey', 'fullsizeWebpKey', 'thumbnailWebpKey']) if (it[k]?.S) referenced.add(it[k].S);
  }
  for (const key of images.keys()) if (!uploadedKeys.includes(key)) problems.push(`image item for a key never uploaded: ${key}`);
  for (const id of entries.keys()) if (!ids.has(id)) problems.push(`listing entries for an unknown image ${id}`);
  const objects = new Set(await listBucket(stack, stack.env.PHOTOFINISH_PROCESSED_BUCKET));
  const orphans = [...objects].filter((k) => !referenced.has(k));
  const missing = [...referenced].filter((k) => !objects.has(k));
  if (orphans.length) problems.push(`${orphans.length} orphan variant objects, e.g. ${orphans.slice(0, 3).join(', ')}`);
  if (missing.length) problems.push(`${missing.length} variants the catalog points at are missing, e.g. ${missing.slice(0, 3).join(', ')}`);
  const q = await queueDepth(stack, stack.env.PHOTOFINISH_QUEUE_URL);
  if (q.visible || q.invisible) problems.push(`queue not empty: ${q.visible} visible, ${q.invisible} invisible`);
  const dlq = await queueDepth(stack, stack.env.PHOTOFINISH_DLQ_URL);
  if (dlq.visible || dlq.invisible) problems.push(`DLQ not empty: ${dlq.visible + dlq.invisible} messages`);
  return { problems, images: images.size, entries: [...entries.values()].reduce((n, v) => n + v.length, 0), variants: objects.size, orphans: orphans.length, queue: q, dlq };
}

// ---- connections ---------------------------------------------------------

/**
 * Opens n TCP connections to host:port that never send anything, a few at
 * a time (bounded by timeoutMs). Resolves to { sockets, refused, answers }:
 * answers counts what the server sent on connections it refused.
 */
export async function openIdle(port, n, { timeoutMs = 60000, parallel = 200 } = {}) {
  const sockets = [];
  let refused = 0;
  const answers = {};
  const deadline = Date.now() + timeoutMs;
  let next = 0;
  const one = () => new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let data = '';
    s.on('data', (c) => { data += c; });
    s.once('connect', () => { sockets.push(s); resolve(); });
    s.on('close', () => {
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1];
      if (status) { refused++; answers[status] = (answers[status] ?? 0) + 1; }
      resolve();
    });
    s.once('error', () => { resolve(); });
    // A connect the server never completes (its backlog full) ends here.
    setTimeout(() => { if (s.connecting) s.destroy(); }, 5000).unref();
  });
  const workers = Array.from({ length: parallel }, async () => {
    while (next < n && Date.now() < deadline) {
      next++;
      await one();
    }
  });
  await Promise.all(workers);
  return { sockets, get refused() { return refused; }, answers };
}

export { processAlive, waitFor };
