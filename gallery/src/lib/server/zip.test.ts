import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32, dosDateTime, zipStream, ZipLimitError, type ZipEntry } from './zip';

const dir = mkdtempSync(path.join(tmpdir(), 'gallery-zip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(gen: AsyncIterable<Uint8Array>): Promise<Buffer> {
	const parts: Buffer[] = [];
	for await (const c of gen) parts.push(Buffer.from(c));
	return Buffer.concat(parts);
}

/** Bytes in several chunks, produced lazily. */
async function* chunks(bytes: Uint8Array, size = 1000): AsyncIterable<Uint8Array> {
	for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

function randomBytes(n: number, seed: number): Uint8Array {
	const b = new Uint8Array(n);
	let x = seed;
	for (let i = 0; i < n; i++) {
		x = (x * 1103515245 + 12345) >>> 0;
		b[i] = x >>> 24;
	}
	return b;
}

/** Python's zipfile reads the archive and checks every CRC; returns name → (size, sha) JSON. */
function pythonRead(file: string): Record<string, [number, string]> {
	const out = execFileSync(
		'python3',
		[
			'-c',
			`import hashlib, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps({i.filename: [i.file_size, hashlib.sha256(z.read(i)).hexdigest()] for i in z.infolist()}))`,
			file
		],
		{ encoding: 'utf8' }
	);
	return JSON.parse(out);
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('crc32', () => {
	it('matches the standard check value and continues across chunks', () => {
		const data = new TextEncoder().encode('123456789');
		expect(crc32(data)).toBe(0xcbf43926);
		expect(crc32(data.subarray(4), crc32(data.subarray(0, 4)))).toBe(0xcbf43926);
		expect(crc32(new Uint8Array())).toBe(0);
	});
});

describe('dosDateTime', () => {
	it('packs the UTC fields with 2-second resolution, clamping old dates', () => {
		expect(dosDateTime(new Date('2026-05-03T09:14:07Z'))).toEqual({
			time: (9 << 11) | (14 << 5) | 3,
			date: ((2026 - 1980) << 9) | (5 << 5) | 3
		});
		expect(dosDateTime(new Date('1970-01-01T00:00:00Z')).date).toBe(33);
		expect(dosDateTime(new Date(NaN)).time).toBe(0);
	});
});

describe('zipStream', () => {
	const files = [
		{ name: 'race-10423-001.jpg', bytes: randomBytes(150_000, 1) },
		{ name: 'race-10423-002.jpg', bytes: randomBytes(1, 2) },
		{ name: 'Città/ü-003.jpg', bytes: randomBytes(70_001, 3) },
		{ name: 'empty.txt', bytes: new Uint8Array() }
	];
	const entries = (list = files): ZipEntry[] =>
		list.map((f) => ({ name: f.name, modified: new Date('2026-05-03T09:14:07Z'), data: chunks(f.bytes) }));

	it('writes an archive that unzip -t and Python zipfile accept, with the exact bytes', async () => {
		const zip = await collect(zipStream(entries()));
		const file = path.join(dir, 'a.zip');
		writeFileSync(file, zip);
		const unzip = execFileSync('unzip', ['-t', file], { encoding: 'utf8' });
		expect(unzip).toMatch(/No errors detected/);
		const read = pythonRead(file);
		expect(Object.keys(read)).toEqual(files.map((f) => f.name));
		for (const f of files) expect(read[f.name]).toEqual([f.bytes.length, sha(f.bytes)]);
		// Stored: the archive is the data plus headers, nothing compressed.
		const overhead = files.reduce((n, f) => n + 30 + 16 + 46 + 2 * Buffer.byteLength(f.name), 22);
		expect(zip.length).toBe(files.reduce((n, f) => n + f.bytes.length, 0) + overhead);
	});

	it('an archive without entries is valid', async () => {
		const file = path.join(dir, 'empty.zip');
		writeFileSync(file, await collect(zipStream([])));
		expect(pythonRead(file)).toEqual({});
	});

	it('stops cleanly at the entry limit, pulling no more entries than needed', async () => {
		let pulled = 0;
		async function* many(): AsyncIterable<ZipEntry> {
			for (let i = 0; i < 10; i++) {
				pulled++;
				yield { name: `${i}.bin`, modified: new Date(0), data: chunks(randomBytes(10, i)) };
			}
		}
		const file = path.join(dir, 'limit.zip');
		writeFileSync(file, await collect(zipStream(many(), { maxEntries: 3 })));
		expect(Object.keys(pythonRead(file))).toEqual(['0.bin', '1.bin', '2.bin']);
		expect(pulled).toBe(4);
	});

	it('stops before an entry whose size would not fit, and throws when one grows past the limit', async () => {
		const big = { name: 'big.bin', modified: new Date(0), sizeHint: 5000, data: chunks(randomBytes(5000, 9)) };
		const small = { name: 'small.bin', modified: new Date(0), sizeHint: 10, data: chunks(randomBytes(10, 8)) };
		const file = path.join(dir, 'bytes.zip');
		writeFileSync(file, await collect(zipStream([small, big], { maxBytes: 2000 })));
		expect(Object.keys(pythonRead(file))).toEqual(['small.bin']);
		const unhinted = { name: 'big.bin', modified: new Date(0), data: chunks(randomBytes(5000, 9)) };
		await expect(collect(zipStream([unhinted], { maxBytes: 2000 }))).rejects.toBeInstanceOf(ZipLimitError);
	});
});
