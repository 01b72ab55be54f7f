#!/usr/bin/env node
// Live updates (docs/benchmarks.md, "Gallery live updates"): a runner's page
// is open in Chromium while a burst of photos of that runner is uploaded;
// for each photo, the time from its upload finishing to it being visible in
// the page. The page polls with the gallery's real interval (15 s) and the
// runner clicks the "N new photos" notice as soon as it shows. Beside it, the
// time until the daemon's API lists the photo (polled every 250 ms), so the
// processing latency and the wait added by polling are reported apart.
//   node bench/live-latency.mjs [--photos 200] [--workers 2] [--dir bench/corpus-runner200]
import path from 'node:path';
import {
  args, bibPhotos, f, imageId, openBrowser, percentile, REPO_ROOT, requireGalleryBuild, startDaemon,
  startGallery, startStack, uploadPhotos, waitFor, writeDocSection,
} from './gallery-lib.mjs';

const opt = args();
const n = Number(opt.photos ?? 200);
const workers = Number(opt.workers ?? 2);
const dir = path.resolve(opt.dir ?? path.join(REPO_ROOT, `bench/corpus-runner${n}`));
const CODE = '10423';
const log = (...a) => console.error('bench live:', ...a);

requireGalleryBuild();
log(`${n} photos of ${CODE} in ${dir}`);
const files = bibPhotos(dir, n, CODE);
const stack = await startStack();
let daemon;
let gallery;
let browser;
const uploaded = new Map(); // id -> ms when its PUT finished
const inApi = new Map(); // id -> ms when the daemon's API first listed it
const visible = new Map(); // id -> ms when its thumbnail was in the page
let burst = { start: 0, end: 0 };
let polls = [];
try {
  daemon = await startDaemon(stack.env, { env: { PHOTOFINISH_WORKERS: String(workers), PHOTOFINISH_LOG_LEVEL: 'warn' } });
  gallery = await startGallery({ apiUrl: daemon.url });
  browser = await openBrowser('desktop');
  const { page } = browser;
  page.on('response', (r) => {
    if (r.url().includes('/photos?live=1')) polls.push({ at: Date.now(), status: r.status() });
  });
  await page.exposeFunction('__benchSeen', (ids, at) => {
    for (const id of ids) if (!visible.has(id)) visible.set(id, at);
  });
  await page.goto(`${gallery.url}/p/${CODE}`);
  await page.waitForFunction(() => document.documentElement.classList.contains('js'));
  // The runner: clicks the notice as soon as it shows; thumbnails are
  // reported the moment they are in the document.
  await page.evaluate(() => {
    const report = () => {
      const ids = [...document.querySelectorAll('a.thumb')].map((a) => a.getAttribute('data-id'));
      if (ids.length) window.__benchSeen(ids, Date.now());
      const button = document.querySelector('button.new-photos');
      if (button) button.click();
    };
    new MutationObserver(report).observe(document.body, { childList: true, subtree: true });
    report();
  });

  const bucket = stack.env.PHOTOFINISH_INGRESS_BUCKET;
  const ids = files.map((file) => imageId(bucket, file));
  // The daemon's side: when its API lists each photo.
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const r = await fetch(`${daemon.url}/participants/${CODE}?limit=500`).catch(() => null);
      const now = Date.now();
      if (r?.ok) for (const img of (await r.json()).images) if (!inApi.has(img.id)) inApi.set(img.id, now);
      await new Promise((res) => setTimeout(res, 250));
    }
  })();

  burst.start = Date.now();
  // The burst: every photo as fast as the stack takes them, 8 at a time.
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < files.length) {
      const i = next++;
      await uploadPhotos(stack, dir, [{ file: files[i] }]);
      uploaded.set(ids[i], Date.now());
    }
  }));
  burst.end = Date.now();
  log(`uploaded ${files.length} photos in ${f((burst.end - burst.start) / 1000)} s`);
  await waitFor(async () => ids.every((id) => visible.has(id)), {
    timeoutMs: 1800000, intervalMs: 1000, what: `all ${n} photos visible in the page`,
  });
  watching = false;
  await watcher;
  // One more poll with nothing new: it should be a 304.
  const before = polls.length;
  await waitFor(async () => polls.length > before, { timeoutMs: 40000, intervalMs: 200, what: 'one more poll' });
} finally {
  await browser?.close();
  await gallery?.stop();
  await daemon?.stop();
  await stack.stop();
}

const processing = [];
const shown = [];
const pollWait = [];
for (const [id, up] of uploaded) {
  processing.push((inApi.get(id) - up) / 1000);
  shown.push((visible.get(id) - up) / 1000);
  pollWait.push((visible.get(id) - inApi.get(id)) / 1000);
}
const lastVisible = Math.max(...visible.values());
const intervals = polls.slice(1).map((p, i) => (p.at - polls[i].at) / 1000);
const notModified = polls.filter((p) => p.status === 304).length;
const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
const row = (label, v) => `| ${label} | ${f(percentile(v, 50))} s | ${f(percentile(v, 95))} s | ${f(Math.max(...v))} s |`;
const section = [
  '<!-- gallery-live:begin -->',
  '## Gallery live updates',
  '',
  `Measured by \`bench/live-latency.mjs\` on ${new Date().toISOString().slice(0, 10)}: a runner's page open in Chromium`,
  `(through the built gallery, polling with its real interval of 15 s) while a burst of ${n} photos of that runner`,
  `(\`bench/bib_photos.py\`, 3000×2000, JPEG quality 92) is uploaded to the local stack, 8 uploads at a time;`,
  `photofinishd with ${workers} workers (\`PHOTOFINISH_WORKERS=${workers}\`), everything on the same 2 shared cores.`,
  'From the end of each photo\'s upload (its PUT answered) to:',
  '',
  '| measure | p50 | p95 | max |',
  '|---|---|---|---|',
  row('listed by the daemon\'s API (processing, polled every 250 ms)', processing),
  row('**visible in the open page** (the runner clicks the notice at once)', shown),
  row('of which the wait for the page\'s next poll', pollWait),
  '',
  `- Means: processing ${f(mean(processing))} s, visible ${f(mean(shown))} s, poll wait ${f(mean(pollWait))} s.`,
  `- The burst took ${f((burst.end - burst.start) / 1000)} s to upload; the last photo was visible ${f((lastVisible - burst.start) / 1000)} s after the burst began`
    + ` (${f(n / ((lastVisible - burst.start) / 1000), 2)} photos/s end to end). With ${workers} workers most of the latency is the queue:`
    + ' a photo waits behind the burst\'s earlier photos, so p95 is close to the whole burst\'s processing time.',
  `- The page polled ${polls.length} times (answers ${f(Math.min(...intervals))}–${f(Math.max(...intervals, 0))} s apart; the page starts the next poll 15 s after`
    + ` the last one started); answered 304 Not Modified: ${notModified}, the poll after the burst, when nothing was new`
    + ' (during the burst every poll had news).',
  '- The poll wait is at most one interval (15 s), about half of it on average; it is the price of one cheap',
  '  request per open page every 15 s instead of a connection held open per runner.',
  '<!-- gallery-live:end -->',
].join('\n');
writeDocSection('<!-- gallery-live:begin -->', '<!-- gallery-live:end -->', section);
console.log(section);
