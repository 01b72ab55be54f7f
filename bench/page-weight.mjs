#!/usr/bin/env node
// Gallery page weight (docs/benchmarks.md, "Gallery page weight"): one
// participant page with 48 photos opened in Chromium, every thumbnail
// loaded, the image bytes transferred summed: once with the JPEG variants
// only (GALLERY_WEBP=0, the gallery before WebP) and once with <picture>
// offering the WebP variants, on a desktop and a phone viewport.
//   node bench/page-weight.mjs [--photos 48] [--dir bench/corpus-runner48]
import path from 'node:path';
import {
  args, bibPhotos, f, imageId, openBrowser, REPO_ROOT, requireGalleryBuild, startDaemon, startGallery,
  startStack, uploadPhotos, waitFor, writeDocSection,
} from './gallery-lib.mjs';

const opt = args();
const n = Number(opt.photos ?? 48);
const dir = path.resolve(opt.dir ?? path.join(REPO_ROOT, `bench/corpus-runner${n}`));
const CODE = '10423';
const log = (...a) => console.error('bench page weight:', ...a);

/** Bytes the page transferred, by kind, once every image has loaded. */
async function measure(galleryUrl, kind) {
  const browser = await openBrowser(kind);
  try {
    const page = await browser.newPage();
    const responses = [];
    page.on('requestfinished', (req) => responses.push(req));
    await page.goto(`${galleryUrl}/p/${CODE}`, { waitUntil: 'networkidle' });
    // Scroll through so that every lazy thumbnail loads, then wait for them.
    await page.evaluate(async () => {
      for (let y = 0; y < document.body.scrollHeight; y += 400) {
        window.scrollTo(0, y);
        await new Promise((r) => setTimeout(r, 50));
      }
      await Promise.all([...document.images].map((i) => i.decode().catch(() => {})));
    });
    await page.waitForLoadState('networkidle');
    const shown = await page.$$eval('a.thumb img', (els) => els.filter((e) => e.complete && e.naturalWidth > 0).length);
    const types = await page.$$eval('a.thumb img', (els) => [...new Set(els.map((e) => e.currentSrc.split('?')[0].split('.').pop()))]);
    const out = { images: 0, imageCount: 0, doc: 0, assets: 0, shown, types };
    for (const req of responses) {
      const sizes = await req.sizes();
      const bytes = sizes.responseBodySize + sizes.responseHeadersSize;
      const type = req.resourceType();
      if (type === 'image') {
        out.images += bytes;
        out.imageCount += 1;
      } else if (type === 'document') out.doc += bytes;
      else if (type === 'script' || type === 'stylesheet') out.assets += bytes;
    }
    await page.close();
    return out;
  } finally {
    await browser.close();
  }
}

requireGalleryBuild();
log(`${n} photos of ${CODE} in ${dir}`);
const files = bibPhotos(dir, n, CODE);
const stack = await startStack();
let daemon;
const results = {};
try {
  daemon = await startDaemon(stack.env, { env: { PHOTOFINISH_LOG_LEVEL: 'warn' } });
  await uploadPhotos(stack, dir, files.map((file) => ({ file })));
  const ids = new Set(files.map((file) => imageId(stack.env.PHOTOFINISH_INGRESS_BUCKET, file)));
  await waitFor(async () => {
    const r = await fetch(`${daemon.url}/participants/${CODE}?limit=500`);
    const body = r.ok ? await r.json() : { images: [] };
    return body.images.filter((i) => ids.has(i.id)).length === files.length;
  }, { timeoutMs: 900000, intervalMs: 1000, what: `${files.length} photos processed` });
  for (const [label, env] of [['JPEG only (before)', { GALLERY_WEBP: '0' }], ['WebP with JPEG fallback (after)', {}]]) {
    const gallery = await startGallery({ apiUrl: daemon.url, env: { GALLERY_PAGE_SIZE: String(n), ...env } });
    try {
      for (const kind of ['desktop', 'phone']) {
        results[`${label}|${kind}`] = await measure(gallery.url, kind);
        log(label, kind, JSON.stringify(results[`${label}|${kind}`]));
      }
    } finally {
      await gallery.stop();
    }
  }
} finally {
  await daemon?.stop();
  await stack.stop();
}

const kb = (b) => f(b / 1024, 0);
const rows = [];
for (const kind of ['desktop', 'phone']) {
  const before = results[`JPEG only (before)|${kind}`];
  const after = results[`WebP with JPEG fallback (after)|${kind}`];
  for (const [label, r] of [['JPEG only (before)', before], ['WebP, JPEG fallback (after)', after]]) {
    rows.push(`| ${kind} | ${label} | ${r.shown} / ${n} | ${r.types.join(', ')} | ${r.imageCount} | ${kb(r.images)} KB | ${f(r.images / Math.max(1, r.imageCount) / 1024, 1)} KB | ${kb(r.doc + r.assets)} KB |`);
  }
  rows.push(`| ${kind} | **saved by WebP** | | | | **${f(100 * (1 - after.images / before.images), 0)} %** (${kb(before.images - after.images)} KB) | | |`);
}
const section = [
  '<!-- gallery-weight:begin -->',
  '## Gallery page weight',
  '',
  `Measured by \`bench/page-weight.mjs\` on ${new Date().toISOString().slice(0, 10)}: one participant page with ${n} photos`,
  `(\`bench/bib_photos.py\`: 3000×2000 photos in the corpus's style, JPEG quality 92), processed by photofinishd on the`,
  'local stack, opened in Chromium (Debian) through the built gallery; every thumbnail loaded (scrolled through),',
  'bytes transferred summed per resource type (body as sent + headers; the gallery gzips HTML, its JS and CSS are precompressed). Before: the gallery',
  'with `GALLERY_WEBP=0` (only the JPEG variants, as before WebP); after: `<picture>` with the WebP variant',
  '(quality 80) and the JPEG as fallback. Desktop 1280×800 at 1×, phone 390×844 at 2×: both get the same',
  '500 px thumbnails (the daemon makes one thumbnail size, so `srcset` has nothing to choose between).',
  '',
  '| viewport | variants | thumbnails shown | format shown | image requests | image bytes | per thumbnail | HTML + JS + CSS |',
  '|---|---|---|---|---|---|---|---|',
  ...rows,
  '<!-- gallery-weight:end -->',
].join('\n');
writeDocSection('<!-- gallery-weight:begin -->', '<!-- gallery-weight:end -->', section);
console.log(section);
