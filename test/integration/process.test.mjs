// `photofinish process`: the image pipeline on local files, with good and bad inputs.
// Fixtures are made at test time with ImageMagick, libvips' CLI and exiftool, or
// taken from test/images/ (tiny committed codes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, copyFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const bin = path.resolve(process.env.PHOTOFINISH_BIN_DIR ?? 'build', 'photofinish');
const images = path.resolve('test/images');
let dir, out;

const sh = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const f = (name) => path.join(dir, name);

// Runs photofinish process; returns { status, lines (parsed JSON), stderr }.
const run = (args, env = {}) => {
  const r = spawnSync(bin, ['process', '-o', out, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
    timeout: 120000,
  });
  const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return { status: r.status, lines, stderr: r.stderr };
};
const one = (file, extra = []) => {
  const r = run([...extra, file]);
  assert.equal(r.lines.length, 1, r.stderr);
  return { ...r, line: r.lines[0] };
};
const header = (file) => ({
  w: Number(sh('vipsheader', ['-f', 'width', file])),
  h: Number(sh('vipsheader', ['-f', 'height', file])),
});

// A PNG whose IHDR declares w x h, with a tiny IDAT and no pixel data to speak of.
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
};
const hugePng = (w, h) => {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x63, 0x60, 0x80, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x01])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
};

before(() => {
  assert.ok(existsSync(bin), `${bin} is missing; run make first`);
  for (const tool of ['convert', 'vips', 'vipsheader', 'exiftool'])
    assert.ok(have(tool), `${tool} is missing; run make deps`);
  dir = mkdtempSync(path.join(tmpdir(), 'pf-process-'));
  out = path.join(dir, 'out');
  sh('mkdir', ['-p', out]);
  // A photo-like picture: a gradient with a known red patch top-left.
  sh('convert', ['-size', '1200x800', 'gradient:#336699-#ffcc00', '-fill', '#ff0000', '-draw', 'rectangle 0,0 199,199', '-quality', '92', f('photo.jpg')]);
  sh('convert', [f('photo.jpg'), '-colorspace', 'CMYK', '-quality', '95', f('cmyk.jpg')]);
  // Truncated and garbage inputs.
  const jpg = readFileSync(f('photo.jpg'));
  writeFileSync(f('truncated.jpg'), jpg.subarray(0, Math.floor(jpg.length / 2)));
  writeFileSync(f('empty.jpg'), Buffer.alloc(0));
  writeFileSync(f('text.jpg'), 'not a photo, just some text in a file with a .jpg name\n');
  writeFileSync(f('drawing.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect width="100" height="100" fill="red"/></svg>');
  writeFileSync(f('huge.png'), hugePng(50000, 50000));
  sh('convert', ['-size', '64x64', 'xc:blue', f('anim.gif')]);
  writeFileSync(f('doc.pdf'), '%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
  // 16-bit PNG.
  sh('convert', ['-size', '640x480', 'gradient:white-black', '-depth', '16', f('deep.png')]);
  assert.match(sh('vipsheader', ['-f', 'format', f('deep.png')]), /USHORT/);
  // EXIF orientation 6 (stored 600x400, displayed 400x600), GPS and a capture time.
  sh('convert', ['-size', '600x400', 'xc:gray', '-fill', 'black', '-draw', 'rectangle 0,0 99,49', f('rotated.jpg')]);
  sh('exiftool', ['-q', '-overwrite_original', '-n', '-Orientation=6', '-DateTimeOriginal=2024:04:14 09:31:07', '-OffsetTimeOriginal=+02:00', f('rotated.jpg')]);
  copyFileSync(f('photo.jpg'), f('gps.jpg'));
  sh('exiftool', ['-q', '-overwrite_original', '-GPSLatitude=48.8584', '-GPSLatitudeRef=N', '-GPSLongitude=2.2945', '-GPSLongitudeRef=E', '-Artist=Someone', f('gps.jpg')]);
  // A QR code on a photo: the fixture pasted onto a big picture.
  sh('convert', ['-size', '3000x2000', 'plasma:', '-blur', '0x3', f('bg.jpg')]);
  sh('convert', [f('bg.jpg'), path.join(images, 'qr_10423.png'), '-geometry', '+1700+900', '-composite', path.join(images, 'code128_a7-19.png'), '-geometry', '+300+300', '-composite', '-quality', '90', f('bib.jpg')]);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a photo with a QR code and a barcode: codes, variants, JSON line', () => {
  const r = one(f('bib.jpg'), ['--code-pattern', '([0-9]{3,6})$|^ *([A-Za-z0-9-]+) *$']);
  assert.equal(r.status, 0, r.stderr);
  // The pattern's first group, else the whole match: the barcode's payload
  // matches the second alternative, whose first group is empty.
  assert.deepEqual(r.line.codes, ['10423', 'A7-19']);
  assert.equal(r.line.width, 2000);
  assert.equal(r.line.height, 1333);
  assert.equal(r.line.thumbnailWidth, 500);
  assert.equal(r.line.thumbnailHeight, 333);
  assert.equal(r.line.takenAt, null);
  for (const k of ['decode', 'scan', 'variants', 'total']) assert.equal(typeof r.line.ms[k], 'number');
  assert.deepEqual(header(path.join(out, 'bib.full.jpg')), { w: 2000, h: 1333 });
  assert.deepEqual(header(path.join(out, 'bib.thumb.jpg')), { w: 500, h: 333 });
  assert.equal(sh('vipsheader', ['-f', 'interlaced', path.join(out, 'bib.full.jpg')]).trim(), '1');
});

test('codes: normalised, pattern applied, non-matching payloads dropped', () => {
  let r = one(path.join(images, 'code128_a7-19.png'));
  assert.deepEqual(r.line.codes, ['A7-19']);
  r = one(path.join(images, 'qr_10423.png'));
  assert.deepEqual(r.line.codes, [], 'a URL is not a code without a pattern');
  r = one(path.join(images, 'qr_10423.png'), ['--code-pattern', '^https://race\\.example/p/([0-9]+)$']);
  assert.deepEqual(r.line.codes, ['10423']);
  r = one(path.join(images, 'code128_a7-19.png'), ['--code-pattern', '^https://race\\.example/p/([0-9]+)$']);
  assert.deepEqual(r.line.codes, []);
  r = one(path.join(images, 'qr_10423.png'), ['--symbologies', 'code128', '--code-pattern', '([0-9]+)$']);
  assert.deepEqual(r.line.codes, []);
});

const refusals = [
  ['truncated.jpg', 'corrupt'],
  ['empty.jpg', 'empty'],
  ['text.jpg', 'unsupported_format'],
  ['drawing.svg', 'unsupported_format'],
  ['doc.pdf', 'unsupported_format'],
  ['anim.gif', 'unsupported_format'],
  ['huge.png', 'too_many_pixels'],
];
for (const [name, code] of refusals) {
  test(`${name} is refused as ${code}`, () => {
    const r = one(f(name));
    assert.equal(r.status, 1);
    assert.equal(r.line.file, f(name));
    assert.equal(r.line.error.code, code, JSON.stringify(r.line));
    assert.ok(r.line.error.message.length > 10);
    assert.ok(!existsSync(path.join(out, `${path.parse(name).name}.full.jpg`)));
  });
}

test('the 50000 x 50000 PNG is refused from its header, without allocating', () => {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', bin, 'process', '-o', out, f('huge.png')], { encoding: 'utf8' });
  const maxKb = Number(r.stderr.trim().split('\n').pop());
  assert.ok(maxKb < 200 * 1024, `peak RSS ${maxKb} KB`);
});

test('the byte limit refuses big files', () => {
  const r = one(f('photo.jpg'), ['--max-input-bytes', '1024']);
  assert.equal(r.line.error.code, 'too_many_bytes');
});

test('a CMYK JPEG comes out sRGB with the right colours', () => {
  assert.match(sh('vipsheader', ['-f', 'interpretation', f('cmyk.jpg')]), /CMYK/);
  const r = one(f('cmyk.jpg'));
  assert.equal(r.status, 0, JSON.stringify(r.line));
  const full = path.join(out, 'cmyk.full.jpg');
  assert.equal(sh('vipsheader', ['-f', 'bands', full]).trim(), '3');
  assert.match(sh('vipsheader', ['-f', 'interpretation', full]), /sRGB/);
  // The red patch: the top-left 200 px (1200 px wide, so not resized).
  const [red, green, blue] = sh('vips', ['getpoint', full, '40', '40']).trim().split(/\s+/).map(Number);
  assert.ok(red > 200 && green < 70 && blue < 70, `patch is ${red},${green},${blue}`);
});

test('a 16-bit PNG is processed', () => {
  const r = one(f('deep.png'));
  assert.equal(r.status, 0, JSON.stringify(r.line));
  assert.equal(r.line.width, 640);
  assert.match(sh('vipsheader', ['-f', 'format', path.join(out, 'deep.full.jpg')]), /UCHAR/);
});

test('EXIF orientation is applied and the capture time read', () => {
  const r = one(f('rotated.jpg'));
  assert.equal(r.status, 0, JSON.stringify(r.line));
  assert.equal(r.line.width, 400);
  assert.equal(r.line.height, 600);
  assert.equal(r.line.takenAt, '2024-04-14T09:31:07+02:00');
  const full = path.join(out, 'rotated.full.jpg');
  assert.deepEqual(header(full), { w: 400, h: 600 });
  // The black block at the stored top-left is at the displayed top-right.
  const tr = Number(sh('vips', ['getpoint', full, '370', '20']).trim().split(/\s+/)[0]);
  const tl = Number(sh('vips', ['getpoint', full, '20', '20']).trim().split(/\s+/)[0]);
  assert.ok(tr < 40 && tl > 90, `top-right ${tr}, top-left ${tl}`);
  // No orientation tag left to rotate it twice.
  assert.equal(sh('exiftool', ['-s3', '-Orientation', full]).trim(), '');
});

test('outputs carry no metadata: GPS, EXIF, XMP, ICC all stripped', () => {
  assert.notEqual(sh('exiftool', ['-s3', '-GPSLatitude', f('gps.jpg')]).trim(), '');
  const r = one(f('gps.jpg'));
  assert.equal(r.status, 0);
  for (const file of ['gps.full.jpg', 'gps.thumb.jpg']) {
    const tags = sh('exiftool', ['-s', '-G1', '-a', '-EXIF:all', '-GPS:all', '-XMP:all', '-IPTC:all', '-ICC_Profile:all', path.join(out, file)]).trim();
    assert.equal(tags, '', `${file} still has: ${tags}`);
  }
});

test('an overlay is stamped on both variants', () => {
  sh('convert', ['-size', '300x100', 'xc:#00ff00', '-alpha', 'set', '-channel', 'A', '-evaluate', 'set', '100%', f('logo.png')]);
  const r = one(f('photo.jpg'), ['--overlay', f('logo.png'), '--overlay-gravity', 'south-east', '--overlay-width', '0.25', '--overlay-margin', '0.02']);
  assert.equal(r.status, 0, JSON.stringify(r.line));
  // photo.jpg is 1200x800 (never upscaled): the logo is 300x100 at (876, 676).
  const inside = sh('vips', ['getpoint', path.join(out, 'photo.full.jpg'), '1000', '720']).trim().split(/\s+/).map(Number);
  assert.ok(inside[1] > 200 && inside[0] < 60, `logo pixel ${inside}`);
  const thumb = sh('vips', ['getpoint', path.join(out, 'photo.thumb.jpg'), '420', '300']).trim().split(/\s+/).map(Number);
  assert.ok(thumb[1] > 200 && thumb[0] < 60, `thumbnail logo pixel ${thumb}`);
});

test('WebP variants are written only when asked, with no metadata', () => {
  copyFileSync(f('gps.jpg'), f('webp.jpg'));
  let r = one(f('webp.jpg'));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(existsSync(path.join(out, 'webp.full.webp')), false, 'not asked: JPEG only');
  assert.equal(existsSync(path.join(out, 'webp.thumb.webp')), false);
  assert.equal(r.line.bytes, undefined);
  assert.equal(r.line.ms.webp, undefined);
  for (const [extra, env] of [[['--webp', '1'], {}], [[], { PHOTOFINISH_WEBP: '1' }]]) {
    rmSync(path.join(out, 'webp.full.webp'), { force: true });
    const w = run([...extra, f('webp.jpg')], env);
    assert.equal(w.status, 0, w.stderr);
    const line = w.lines[0];
    assert.equal(typeof line.ms.webp, 'number');
    assert.ok(line.ms.webp > 0 && line.ms.webp <= line.ms.variants);
    for (const [file, size, w0, h0] of [['webp.full.webp', line.bytes.fullWebp, line.width, line.height], ['webp.thumb.webp', line.bytes.thumbWebp, line.thumbnailWidth, line.thumbnailHeight]]) {
      const p = path.join(out, file);
      const buf = readFileSync(p);
      assert.equal(buf.subarray(0, 4).toString('latin1'), 'RIFF');
      assert.equal(buf.subarray(8, 12).toString('latin1'), 'WEBP');
      assert.equal(buf.length, size);
      assert.deepEqual(header(p), { w: w0, h: h0 });
      const tags = sh('exiftool', ['-s', '-G1', '-a', '-EXIF:all', '-GPS:all', '-XMP:all', '-ICC_Profile:all', p]).trim();
      assert.equal(tags, '', `${file} still has: ${tags}`);
    }
    assert.equal(readFileSync(path.join(out, 'webp.full.jpg')).length, line.bytes.full);
  }
  r = run(['--webp', 'yes', f('webp.jpg')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /PHOTOFINISH_WEBP/);
});

test('several files in parallel: one line each, in input order; exit 1 if any failed', () => {
  const files = [f('photo.jpg'), f('empty.jpg'), f('bib.jpg'), f('rotated.jpg'), f('nothere.jpg')];
  const r = run(['--workers', '2', ...files]);
  assert.equal(r.status, 1);
  assert.deepEqual(r.lines.map((l) => l.file), files);
  assert.equal(r.lines[1].error.code, 'empty');
  assert.ok(r.lines[4].error);
  assert.ok(r.lines[2].codes);
});

test('usage errors exit 2; --help exits 0', () => {
  assert.equal(run([]).status, 2);
  assert.equal(run(['--bogus', f('photo.jpg')]).status, 2);
  assert.equal(run(['--workers', 'lots', f('photo.jpg')]).status, 2);
  const h = spawnSync(bin, ['process', '--help'], { encoding: 'utf8' });
  assert.equal(h.status, 0);
  assert.match(h.stdout, /--overlay/);
  assert.match(h.stdout, /--output/);
});
