// Shared by the gallery benchmarks (bench/page-weight.mjs, bench/live-latency.mjs):
// photos of one runner, the stack + daemon, the built gallery and Chromium
// (the same helpers the gallery's browser tests use), and writing a marked
// section of docs/benchmarks.md through bench/docsection.py.
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../test/integration/lib/stack.mjs';

export { startStack, waitFor, REPO_ROOT } from '../test/integration/lib/stack.mjs';
export { startDaemon } from '../test/integration/lib/daemon.mjs';
export { imageId, uploadPhotos } from '../test/integration/lib/photos.mjs';
export { openBrowser, startGallery, GALLERY_DIR } from '../gallery/tests/browser/harness.mjs';

const PY = '/usr/bin/python3'; // Debian's, with python3-pil, -numpy, -qrcode

/** Command-line `--name value` pairs. */
export function args() {
  const out = {};
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) if (a[i].startsWith('--')) out[a[i].slice(2)] = a[i + 1];
  return out;
}

/** COUNT photos of CODE in DIR (made once, cached); returns their file names. */
export function bibPhotos(dir, count, code, size = '3000x2000') {
  execFileSync(PY, [path.join(REPO_ROOT, 'bench/bib_photos.py'), dir, String(count), code, size], { stdio: ['ignore', 'ignore', 'inherit'] });
  return JSON.parse(readFileSync(path.join(dir, 'truth.json'), 'utf8')).photos;
}

/** The gallery must be built (npm run build in gallery/). */
export function requireGalleryBuild() {
  if (!existsSync(path.join(REPO_ROOT, 'gallery/build/index.js'))) {
    throw new Error('the gallery is not built: cd gallery && npm ci && npm run build');
  }
}

/** Replace (or add) the section between `begin` and `end` in docs/benchmarks.md. */
export function writeDocSection(begin, end, section) {
  execFileSync(PY, ['-c', `import sys
sys.path.insert(0, sys.argv[1])
import docsection
docsection.write(sys.argv[2], sys.argv[3], sys.argv[4], sys.stdin.read())`,
  path.join(REPO_ROOT, 'bench'), path.join(REPO_ROOT, 'docs/benchmarks.md'), begin, end], { input: section });
}

/** The p-th percentile (0–100) of numbers, nearest rank. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const f = (v, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '—');
