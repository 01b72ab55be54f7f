#!/usr/bin/env node
// make soak: the race-day soak on the local stack (docs/benchmarks.md, "Race day").
//   node test/soak/soak.mjs [--only burst,api,throttling,connections,capacity]
//                           [--photos 1000] [--api-photos 150] [--rate 1000] [--docs]
// --docs rewrites the race-day section of docs/benchmarks.md and the
// capacity section of docs/deploy.md (each between its markers) with this
// run's figures. Exit status 1 when an invariant or a
// target did not hold; everything started is stopped either way.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { REPO_ROOT } from '../integration/lib/stack.mjs';
import { capacitySection } from './capacity.mjs';
import { apiUnderLoad, burst, connections, taskRate, throttling } from './scenarios.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const only = new Set((opt('only', 'burst,api,throttling,connections,capacity')).split(','));
const photos = Number(opt('photos', 1000));
const apiPhotos = Number(opt('api-photos', 150));
const rate = Number(opt('rate', 1000));
const writeDocs = argv.includes('--docs');
const log = (...a) => console.error('soak:', ...a);

const results = {};
const started = Date.now();
const load0 = os.loadavg()[0];
let failed = false;
const run = async (name, fn) => {
  if (!only.has(name)) return;
  log(`${name}: starting`);
  const t = Date.now();
  try {
    results[name] = await fn();
  } catch (e) {
    results[name] = { error: e.stack ?? String(e), problems: [String(e.message ?? e)] };
  }
  const r = results[name];
  r.wallSeconds = (Date.now() - t) / 1000;
  if (r.problems.length) failed = true;
  log(`${name}: ${r.problems.length ? `${r.problems.length} problem(s):\n  ${r.problems.join('\n  ')}` : 'all held'} (${r.wallSeconds.toFixed(0)} s)`);
};

await run('burst', () => burst({ photos, log }));
await run('api', () => apiUnderLoad({ photos: apiPhotos, rate, log }));
await run('throttling', () => throttling({ photos: Math.min(100, photos), log }));
await run('connections', () => connections({ idle: 5000, log }));
await run('capacity', async () => {
  const one = await taskRate({ photos: 60, vcpus: 1, log });
  const two = await taskRate({ photos: 60, vcpus: 2, log });
  return { one, two, problems: [] };
});

const loadEnd = os.loadavg();
const out = path.join(REPO_ROOT, 'test-results/soak.json');
try {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ results, load: { start: load0, end: loadEnd } }, null, 1));
  log(`figures in ${path.relative(REPO_ROOT, out)}`);
} catch { /* figures also printed below */ }

const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const lines = ['<!-- raceday:begin -->', '## Race day', ''];
lines.push(`Measured by \`make soak\` (test/soak/soak.mjs) on ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, `
  + `load average ${f(load0, 2)} at the start and ${f(loadEnd[0], 2)} at the end`
  + (Math.max(load0, loadEnd[0]) > 1.5 ? ' (other work shared the machine: figures are noisy; re-run `make soak` on a quiet machine before relying on them). ' : '. ')
  + 'Everything runs on these cores: the daemons, the local stack (fauxqs + dynalite, Node), the uploader and the clients. '
  + 'Photos: bench/corpus.py at 3000×2000 (0–3 bib codes each).');
const b = results.burst;
if (b && !b.error) {
  lines.push('', `### Burst: ${b.photos} photos, ${b.daemons} daemons on one queue (${b.workers} worker each)`, '',
    `Uploaded in ${f(b.uploadSecs)} s (8 uploads at a time); all handled after ${f(b.doneSecs)} s (${f(b.throughput, 2)} photos/s for the three). Faults, by photos done:`, '');
  for (const e of b.events) lines.push(`- ${f(e.at / 1000)} s, ${e.done} done: ${e.what}`);
  lines.push('', '| invariant | result |', '|---|---|',
    `| every photo in the catalog exactly once, listed once under each code | ${b.invariants.images} image items, ${b.invariants.entries} listing entries; ${b.problems.filter((p) => /listed|catalog|image item/.test(p)).length ? 'NOT met' : 'met'} |`,
    `| no orphan variant objects (bucket listed and compared) | ${b.invariants.variants} objects, ${b.invariants.orphans} orphans |`,
    `| no message invisible past its timeout | queue ${b.invariants.queue.visible} visible / ${b.invariants.queue.invisible} invisible after the run |`,
    `| DLQ empty | ${b.invariants.dlq.visible + b.invariants.dlq.invisible} messages |`);
  for (const r of b.rss) {
    lines.push(Number.isFinite(r.drift)
      ? `| RSS ${r.daemon} (${r.processed} photos), photo ${r.fromPhoto} → end (±10 %) | ${f(r.atMark)} → ${f(r.atEnd)} MiB, ${f(r.drift * 100)} % |`
      : `| RSS ${r.daemon} (${r.processed} photos) | not alive from the mark to the end (killed or stopped) |`);
  }
  lines.push('', '| latency | p50 | p95 | p99 | max |', '|---|---|---|---|---|',
    `| upload finished → listed by \`/participants/{code}\`, s (${b.latency.n} photos with codes) | ${f(b.latency.p50)} | ${f(b.latency.p95)} | ${f(b.latency.p99)} | ${f(b.latency.max)} |`,
    `| upload finished → handled (in the catalog), s | ${f(b.toCatalog.p50)} | ${f(b.toCatalog.p95)} | ${f(b.toCatalog.p99)} | ${f(b.toCatalog.max)} |`,
    '', `Latency is measured under the first code the catalog lists each photo under; ${b.undetected ?? '–'} of the corpus's ${b.codes ?? '–'} codes were not detected on these 3000×2000 photos (recall is the pipeline benchmark's subject).`,
    'A runner asks the daemons round-robin (as through the load balancer); a daemon that did not process the photo answers from its cache until the cache TTL (10 s) ends, which the first row includes. During a burst the latency is the queue\'s wait: the backlog divided by the processing rate.');
}
const a = results.api;
if (a && !a.error) {
  const [p1, p2, p3] = a.phases;
  lines.push('', `### API under load while photos process (1 daemon, ${a.workers} workers, log level ${a.logLevel})`, '',
    `A fixed-rate client offers ${a.rate} requests/s to \`/participants/{code}\` (${Math.round(a.hotShare * 100)} % for 20 codes that stay cached, the rest for codes asked once: a catalog Query each) while ${p2.photos} photos process; the same daemon processes ${p1.photos} photos before and ${p3.photos} after without API load.`, '',
    '| phase | photos/s | daemon CPU s (loop thread) | offered req/s | p50 ms | p95 ms | p99 ms | p99 cached / uncached ms |', '|---|---|---|---|---|---|---|---|',
    `| without API load | ${f(p1.rate, 2)} | ${f(p1.daemonCpu)} (${f(p1.loopCpu)}) | | | | | |`,
    `| with API load | ${f(p2.rate, 2)} | ${f(p2.daemonCpu)} (${f(p2.loopCpu)}) | ${f(p2.api.offeredRate, 0)} | ${f(p2.api.latency.p50, 2)} | ${f(p2.api.latency.p95, 2)} | ${f(p2.api.latency.p99, 2)} | ${f(p2.api.byClass.cached?.p99, 2)} / ${f(p2.api.byClass.uncached?.p99, 2)} |`,
    `| without API load, again | ${f(p3.rate, 2)} | ${f(p3.daemonCpu)} (${f(p3.loopCpu)}) | | | | | |`,
    '', `Throughput under load / without: **${f(a.ratio, 2)}** (target ≥ 0.85: ${a.ratio >= 0.85 ? 'met' : 'NOT met'}); p99 **${f(p2.api.latency.p99, 1)} ms** (target < 25 ms: ${p2.api.latency.p99 < 25 ? 'met' : 'NOT met'}). `
    + `Latency runs from when a request was due, not when it was sent. ${p2.api.completed} of ${p2.api.offered} answered, ${p2.api.errors} errors.`);
}
const t = results.throttling;
if (t && !t.error) {
  const inj = Object.entries(t.injected).map(([k, v]) => `${k} ${v.injected} of ${v.injected + v.forwarded}`).join(', ');
  lines.push('', `### Throttling (${t.photos} photos, 1 daemon, a fault-injecting proxy in front of the stack)`, '',
    `${Math.round(t.share * 100)} % of calls answered 503 SlowDown (S3), ProvisionedThroughputExceededException (DynamoDB), 500 InternalError (SQS), and for ${t.windowMs / 1000} s every call, while ${t.lookups} participant lookups were asked. Injected: ${inj}.`, '',
    '| check | result |', '|---|---|',
    `| retry quota (\`photofinish_aws_retry_quota\`) before / at the end of the window / after the run | ${t.quotaBefore} / ${t.quotaAfter} / ${t.quotaEnd} tokens |`,
    `| retries counted in the window (5 tokens each; counted when a call ends) / calls that failed | ${t.retriesInWindow} / ${t.failedInWindow} |`,
    `| lookups in the window, by status; the later half answered in (p50/p99 ms) | ${JSON.stringify(t.lookupStatuses)}; ${f(t.lateLookupMs.p50, 0)} / ${f(t.lateLookupMs.p99, 0)} |`,
    `| retries after the window (the quota refills with successes) | ${t.retriesAfter} |`,
    `| photos in the catalog exactly once, no orphans, DLQ empty | ${t.invariants.images} image items, ${t.invariants.orphans} orphans, DLQ ${t.invariants.dlq.visible + t.invariants.dlq.invisible}; ${t.problems.length ? 'NOT met' : 'met'} |`,
    `| photo attempts given back to the queue (\`outcome="retry"\`) | ${t.retryOutcomes} |`);
}
const c = results.connections;
if (c && !c.error) {
  lines.push('', `### Connection pressure (1 daemon, started with an open-files limit of soft 1024 / hard ${c.hardLimit}; Fargate's is 1024 / 65535)`, '',
    `${c.idle} connections that never send a byte and ${c.slow} clients sending a header line every 3 s, while a fixed-rate client asks ${c.rate} requests/s on keep-alive connections.`, '',
    '| measure | result |', '|---|---|',
    `| idle connections held / refused (answers) | ${c.held} / ${c.refused} ${JSON.stringify(c.answers)} |`,
    `| a new connection during the flood | ${c.probe.status} ${c.probe.status === 503 ? c.probe.body.replace(/\|/g, '\\|') : ''} |`,
    `| daemon descriptors: before / highest / after (limit) | ${c.fdBase} / ${c.fdMax} / ${c.fdAfter} (${c.softLimit}) |`,
    `| normal requests answered, p50 / p99 ms | ${c.normal.completed} of ${c.normal.offered}, ${f(c.normal.latency.p50, 2)} / ${f(c.normal.latency.p99, 2)} |`);
}
const cap = results.capacity;
if (cap && !cap.error) {
  lines.push('', '### Per-task rate (for the capacity plan in deploy.md)', '',
    '| task | photos | photos/s | daemon CPU s per photo |', '|---|---|---|---|',
    `| 1 vCPU (pinned to one core), 1 worker | ${cap.one.photos} | ${f(cap.one.rate, 2)} | ${f(cap.one.cpuPerPhoto, 3)} |`,
    `| 2 vCPU, 2 workers | ${cap.two.photos} | ${f(cap.two.rate, 2)} | ${f(cap.two.cpuPerPhoto, 3)} |`,
    '', 'Queue filled first, clock from the daemon\'s start to its last photo; the local stack shares the cores.');
}
for (const [name, r] of Object.entries(results)) {
  if (r.problems.length) lines.push('', `**${name}: not met** — ${r.problems.slice(0, 5).join('; ')}`);
}
lines.push('<!-- raceday:end -->');
const section = lines.join('\n');
console.log(section);
if (writeDocs) {
  const docs = path.join(REPO_ROOT, 'docs/benchmarks.md');
  let doc = existsSync(docs) ? readFileSync(docs, 'utf8') : '# Benchmarks\n';
  doc = doc.includes('<!-- raceday:begin -->')
    ? doc.replace(/<!-- raceday:begin -->[\s\S]*<!-- raceday:end -->/, section)
    : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(docs, doc);
  log('docs/benchmarks.md: race-day section written');
  if (cap && !cap.error) {
    const section2 = capacitySection({
      rates: { 1: cap.one.rate, 2: cap.two.rate },
      how: `measured by \`make soak\` on ${new Date().toISOString().slice(0, 10)} (3000×2000 photos, ${os.cpus().length} shared cores, load average ${f(load0, 2)}; see benchmarks.md, "Race day")`,
    });
    const deploy = path.join(REPO_ROOT, 'docs/deploy.md');
    let text = readFileSync(deploy, 'utf8');
    text = text.includes('<!-- capacity:begin -->')
      ? text.replace(/<!-- capacity:begin -->[\s\S]*<!-- capacity:end -->/, section2)
      : text.replace('\n## Testing the stack', `\n${section2}\n\n## Testing the stack`);
    writeFileSync(deploy, text);
    console.log(section2);
    log('docs/deploy.md: capacity section written');
  }
}
log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(failed ? 1 : 0);
