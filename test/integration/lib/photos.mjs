// Test photos: generation (make_photos.py) and JPEG inspection.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './stack.mjs';

/** Writes photos for specs (see make_photos.py) into a new temp dir; returns the dir. */
export function makePhotos(specs) {
  const dir = mkdtempSync(path.join(tmpdir(), 'pf-photos-'));
  execFileSync(path.join(REPO_ROOT, 'test/integration/lib/make_photos.py'), [dir], {
    input: JSON.stringify(specs),
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  return dir;
}

/** The daemon's stable image id for a source object. */
export function imageId(bucket, key) {
  return createHash('sha256').update(`${bucket}/${key}`).digest('hex').slice(0, 32);
}

/** Parses JPEG markers: { width, height, progressive, exif, xmp, icc, app } or throws. */
export function inspectJpeg(buf) {
  if (buf[0] !== 0xff || buf[1] !== 0xd8) throw new Error('not a JPEG');
  const info = { exif: false, xmp: false, iptc: false, progressive: false, markers: [] };
  let i = 2;
  while (i + 4 <= buf.length) {
    if (buf[i] !== 0xff) throw new Error(`bad marker at ${i}`);
    const marker = buf[i + 1];
    if (marker === 0xd9 || marker === 0xda) break;
    const len = buf.readUInt16BE(i + 2);
    const seg = buf.subarray(i + 4, i + 2 + len);
    info.markers.push(marker);
    if (marker === 0xe1 && seg.subarray(0, 4).toString('latin1') === 'Exif') info.exif = true;
    if (marker === 0xe1 && seg.toString('latin1').startsWith('http://ns.adobe.com/xap')) info.xmp = true;
    if (marker === 0xed) info.iptc = true;
    if (marker === 0xc0 || marker === 0xc1 || marker === 0xc2) {
      info.height = seg.readUInt16BE(1);
      info.width = seg.readUInt16BE(3);
      info.progressive = marker === 0xc2;
    }
    i += 2 + len;
  }
  if (!info.width) throw new Error('no SOF marker');
  return info;
}

/** Uploads dir/<spec.file> to the stack's ingress bucket under spec.key (default spec.file), in order. */
export async function uploadPhotos(stack, dir, specs) {
  for (const s of specs) {
    await stack.s3.send(new PutObjectCommand({
      Bucket: stack.env.PHOTOFINISH_INGRESS_BUCKET, Key: s.key ?? s.file, Body: readFileSync(path.join(dir, s.file)),
    }));
  }
}
