#!/usr/bin/env node
// End-to-end benchmark (part of `make bench`): the daemon on the local AWS
// stack against the pipeline alone, the participant API against nginx serving
// the same JSON, and the daemon's RSS over 1000 photos. Everything compared is
// measured in this one run. Writes the "End to end" section of
// docs/benchmarks.md and prints the table.
//   node bench/e2e.mjs --corpus bench/corpus --bin build [--photos 40] [--soak 1000]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack, waitFor, REPO_ROOT } from '../test/integration/lib/stack.mjs';
import { freePort, startDaemon } from '../test/integration/lib/daemon.mjs';
import { makePhotos, uploadPhotos } from '../test/integration/lib/photos.mjs';
import { countImageItems } from '../test/integration/lib/catalog.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const corpus = path.resolve(args.corpus ?? 'bench/corpus');
const binDir = path.resolve(args.bin ?? 'build');
const nPhotos = Number(args.photos ?? 40);
const soak = Number(args.soak ?? 1000);
const workers = 2;
const docs = path.join(REPO_ROOT, 'docs/benchmarks.md');

const log = (...a) => console.error('bench e2e:', ...a);
const truth = JSON.parse(readFileSync(path.join(corpus, 'truth.json'), 'utf8'));
// The corpus's QR codes hold URLs; both runs extract the code the same way.
const patternEnv = truth.pattern ? { PHOTOFINISH_CODE_PATTERN: truth.pattern } : {};
const files = readdirSync(corpus).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, nPhotos);
if (files.length < 10) throw new Error(`need photos in ${corpus} (run make bench once to generate them)`);

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
}

// 1. The pipeline alone, 2 workers, same photos, making what the daemon makes
// (JPEG and WebP variants: the daemon's default).
function pipelineOnly() {
  const out = mkdtempSync(path.join(tmpdir(), 'pf-bench-'));
  const t0 = process.hrtime.bigint();
  const r = spawnSync(path.join(binDir, 'photofinish'), ['process', '--workers', String(workers), '--webp', '1', '-o', out, ...files.map((f) => path.join(corpus, f))],
    { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, ...patternEnv } });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 0 && r.status !== 1) throw new Error(`photofinish process failed: ${r.stderr}`);
  return files.length / secs;
}

// Photos the daemon has finished, from its own /metrics: cheap to ask often,
// unlike a table scan that would load the emulator being measured.
async function finished(daemon) {
  const text = await (await fetch(`${daemon.url}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^photofinish_images_total\{outcome="(processed|failed)"\} (\d+)/gm)) n += Number(m[2]);
  return n;
}

// 2. Through the daemon: every photo waits in the queue (uploaded untimed, so
// the uploader's CPU stays out of the window), then the clock runs from the
// daemon's start to its last photo written, so S3, SQS and DynamoDB time
// counts unless it hides behind the CPU work.
async function endToEnd() {
  const stack = await startStack();
  try {
    await uploadPhotos(stack, corpus, files.map((file) => ({ file })));
    const t0 = Date.now();
    const daemon = await startDaemon(stack.env, { waitReady: false, env: { ...patternEnv, PHOTOFINISH_WORKERS: String(workers), PHOTOFINISH_LOG_LEVEL: 'warn', PHOTOFINISH_CACHE_TTL: '3600' } });
    try {
      await waitFor(async () => (await finished(daemon).catch(() => 0)) >= files.length, { timeoutMs: 900000, intervalMs: 100, what: 'all processed' });
      const secs = (Date.now() - t0) / 1000;
      if ((await countImageItems(stack)) < files.length) throw new Error('the catalog is missing photos');
      const api = await apiBench(daemon, stack);
      return { ips: files.length / secs, api };
    } finally {
      await daemon.stop();
    }
  } finally {
    await stack.stop();
  }
}

function wrk(url) {
  const out = execFileSync('wrk', ['-t1', '-c32', '-d8s', '--latency', url], { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const scale = { us: 0.001, ms: 1, s: 1000 }[p99[2]];
  return { rps, p99ms: Number(p99[1]) * scale };
}

// 3. The cached participant answer against nginx serving the same body.
async function apiBench(daemon) {
  // The code with the most photos among those uploaded: a realistic answer body.
  const counts = {};
  for (const f of files) for (const c of truth.photos[f]?.codes ?? []) counts[c.code] = (counts[c.code] ?? 0) + 1;
  const code = Object.entries(counts).sort((a, b) => b[1] - a[1])[0][0];
  const url = `${daemon.url}/participants/${code}`;
  const bodyText = await (await fetch(url)).text();
  const root = mkdtempSync(path.join(tmpdir(), 'pf-nginx-'));
  chmodSync(root, 0o755); // nginx's workers drop to another user when started as root
  writeFileSync(path.join(root, 'answer.json'), bodyText);
  const port = await freePort();
  writeFileSync(path.join(root, 'nginx.conf'), `daemon off; worker_processes 1; pid ${root}/nginx.pid; error_log ${root}/error.log;
events { worker_connections 1024; }
http { access_log off; default_type application/json; server { listen 127.0.0.1:${port}; root ${root}; } }\n`);
  const nginx = spawn('nginx', ['-p', root, '-c', path.join(root, 'nginx.conf')], { stdio: 'ignore' });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/answer.json`).catch(() => null))?.status === 200, { timeoutMs: 10000, what: 'nginx' });
    const daemonR = wrk(url);
    const nginxR = wrk(`http://127.0.0.1:${port}/answer.json`);
    return { code, bytes: bodyText.length, daemon: daemonR, nginx: nginxR };
  } finally {
    nginx.kill('SIGTERM');
    rmSync(root, { recursive: true, force: true });
  }
}

// 4. RSS after 100 and after `soak` photos (smaller photos, re-uploaded under new keys).
async function rssSoak() {
  const specs = Array.from({ length: 50 }, (_, i) => ({ file: `s${i}.jpg`, codes: [String(60000 + (i % 25))], seed: 500 + i, width: 3000, height: 2000 }));
  const dir = makePhotos(specs);
  const stack = await startStack();
  try {
    const daemon = await startDaemon(stack.env, { env: { PHOTOFINISH_WORKERS: String(workers), PHOTOFINISH_LOG_LEVEL: 'warn' } });
    try {
      let uploaded = 0;
      const uploader = (async () => {
        for (let round = 0; uploaded < soak; round++) {
          // The same photos again under new keys: new catalog items each round.
          const batch = specs.slice(0, soak - uploaded).map((s) => ({ file: s.file, key: `r${round}/${s.file}` }));
          await uploadPhotos(stack, dir, batch);
          uploaded += batch.length;
          // Keep the queue ahead of the daemon without holding everything at once.
          await waitFor(async () => uploaded - (await finished(daemon)) < 200, { timeoutMs: 600000, intervalMs: 200, what: 'backlog' });
        }
      })();
      // RSS sampled as photos finish.
      const samples = [];
      const sampler = setInterval(async () => {
        const n = await finished(daemon).catch(() => null);
        if (n !== null) samples.push([n, rssMiB(daemon.proc.pid)]);
      }, 250);
      try {
        await uploader;
        await waitFor(async () => (await finished(daemon)) >= soak, { timeoutMs: 1800000, intervalMs: 500, what: `${soak} processed` });
      } finally {
        clearInterval(sampler);
      }
      // The median of the samples taken within 50 photos of the mark: one
      // sample can land while two photos' buffers are alive, another after.
      const near = (mark) => {
        const r = samples.filter(([n]) => Math.abs(n - mark) <= 50).map(([, v]) => v).sort((a, b) => a - b);
        return r[Math.floor(r.length / 2)];
      };
      const at100 = near(100);
      const atEnd = near(soak);
      return { at100, atEnd, drift: (atEnd - at100) / at100 };
    } finally {
      await daemon.stop();
    }
  } finally {
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const pipeIps = pipelineOnly();
log(`pipeline only: ${pipeIps.toFixed(2)} images/s`);
const e2e = await endToEnd();
log(`end to end: ${e2e.ips.toFixed(2)} images/s`);
const soakR = soak > 0 ? await rssSoak() : null;

const f = (x, d = 2) => x.toFixed(d);
const apiRatio = e2e.api.daemon.rps / e2e.api.nginx.rps;
const lines = [
  '<!-- e2e:start -->',
  '## End to end (daemon on the local AWS stack)',
  '',
  `Measured by \`bench/e2e.mjs\` on ${new Date().toISOString().slice(0, 10)}, ${files.length} photos of the corpus above, ${workers} workers, in one run.`,
  'End to end: the photos wait in the queue, the clock runs from the daemon\'s start to its last photo in the catalog; the local stack (Node processes) shares the same 2 cores. '
    + `RSS: ${soak} smaller photos (3000×2000) re-uploaded under new keys, the median of RSS samples within 50 photos of each mark.`,
  '',
  '| measure | photofinishd | baseline | ratio | target |',
  '|---|---|---|---|---|',
  `| photos/s, queue → variants → catalog vs \`photofinish process\` alone | ${f(e2e.ips)} | ${f(pipeIps)} | ${f(e2e.ips / pipeIps)} | ≥ 0.85 ${e2e.ips / pipeIps >= 0.85 ? 'met' : 'NOT met'} |`,
  `| cached \`GET /participants/${e2e.api.code}\` (${e2e.api.bytes} B), req/s vs nginx serving the same file | ${f(e2e.api.daemon.rps, 0)} | ${f(e2e.api.nginx.rps, 0)} | ${f(apiRatio)} | ≥ 0.50 ${apiRatio >= 0.5 ? 'met' : 'NOT met'} |`,
  `| p99 latency of the above, ms | ${f(e2e.api.daemon.p99ms)} | ${f(e2e.api.nginx.p99ms)} | | |`,
];
if (soakR) {
  lines.push(`| daemon RSS after 100 / after ${soak} photos, MiB | ${f(soakR.at100, 1)} / ${f(soakR.atEnd, 1)} | | drift ${f(soakR.drift * 100, 1)} % | within ±10 % ${Math.abs(soakR.drift) <= 0.1 ? 'met' : 'NOT met'} |`);
}
lines.push('', 'wrk: 1 thread, 32 connections, 8 s each, on the same 2 cores; nginx 1 worker process, access log off; the daemon: its one loop thread, log level warn (no per-request log lines, as nginx has none).', '<!-- e2e:end -->');
const section = lines.join('\n');
console.log(section);
let doc = existsSync(docs) ? readFileSync(docs, 'utf8') : '# Benchmarks\n';
doc = doc.includes('<!-- e2e:start -->') ? doc.replace(/<!-- e2e:start -->[\s\S]*<!-- e2e:end -->/, section) : `${doc.trimEnd()}\n\n${section}\n`;
writeFileSync(docs, doc);
