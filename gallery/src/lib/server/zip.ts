/**
 * A ZIP archive written as a stream: entries are stored (photos are already
 * compressed), each entry's CRC-32 and size are computed while its bytes pass
 * through and written after them in a data descriptor, so nothing is held in
 * memory or on disk beyond the current chunk and the central directory.
 * No ZIP64: the caller bounds the archive below 4 GiB and 65535 entries.
 */

const CRC_TABLE = (() => {
	const t = new Uint32Array(256);
	for (let n = 0; n < 256; n++) {
		let c = n;
		for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
		t[n] = c >>> 0;
	}
	return t;
})();

/** CRC-32 (ISO 3309, as ZIP uses it); pass the previous value to continue. */
export function crc32(bytes: Uint8Array, previous = 0): number {
	let c = ~previous >>> 0;
	for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
	return ~c >>> 0;
}

/** The largest archive written: the 32-bit offsets of a ZIP without ZIP64. */
export const ZIP32_LIMIT = 0xffffffff;

export interface ZipEntry {
	/** File name inside the archive ("/" separated, no leading "/"). */
	name: string;
	/** Modification time stored in the archive (its UTC fields, as ZIP has no zones). */
	modified: Date;
	/** Size when known in advance (to stop before an entry that would not fit). */
	sizeHint?: number | null;
	data: AsyncIterable<Uint8Array>;
}

export interface ZipOptions {
	/** Stop before an entry when this many entries are written (default and most 65535). */
	maxEntries?: number;
	/** Largest archive in bytes (default and most 4 GiB − 1). */
	maxBytes?: number;
}

/** DOS time and date fields: 2-second resolution, years 1980–2107. */
export function dosDateTime(d: Date): { time: number; date: number } {
	let year = d.getUTCFullYear();
	if (!Number.isFinite(year) || year < 1980) return { time: 0, date: (0 << 9) | (1 << 5) | 1 };
	if (year > 2107) year = 2107;
	const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
	const date = ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
	return { time, date };
}

const UTF8_FLAG = 0x0800;
const DESCRIPTOR_FLAG = 0x0008;

interface Written {
	nameBytes: Uint8Array;
	flags: number;
	time: number;
	date: number;
	crc: number;
	size: number;
	offset: number;
}

function localHeader(e: Written): Uint8Array {
	const b = new Uint8Array(30 + e.nameBytes.length);
	const v = new DataView(b.buffer);
	v.setUint32(0, 0x04034b50, true);
	v.setUint16(4, 20, true); // version needed: 2.0 (data descriptor)
	v.setUint16(6, e.flags, true);
	v.setUint16(8, 0, true); // stored
	v.setUint16(10, e.time, true);
	v.setUint16(12, e.date, true);
	// CRC and sizes are 0 here: they follow the data in the descriptor.
	v.setUint16(26, e.nameBytes.length, true);
	b.set(e.nameBytes, 30);
	return b;
}

function dataDescriptor(e: Written): Uint8Array {
	const b = new Uint8Array(16);
	const v = new DataView(b.buffer);
	v.setUint32(0, 0x08074b50, true);
	v.setUint32(4, e.crc, true);
	v.setUint32(8, e.size, true);
	v.setUint32(12, e.size, true);
	return b;
}

function centralHeader(e: Written): Uint8Array {
	const b = new Uint8Array(46 + e.nameBytes.length);
	const v = new DataView(b.buffer);
	v.setUint32(0, 0x02014b50, true);
	v.setUint16(4, (3 << 8) | 20, true); // made by: Unix, 2.0
	v.setUint16(6, 20, true);
	v.setUint16(8, e.flags, true);
	v.setUint16(10, 0, true);
	v.setUint16(12, e.time, true);
	v.setUint16(14, e.date, true);
	v.setUint32(16, e.crc, true);
	v.setUint32(20, e.size, true);
	v.setUint32(24, e.size, true);
	v.setUint16(28, e.nameBytes.length, true);
	v.setUint32(38, (0o100644 << 16) >>> 0, true); // a regular file, rw-r--r--
	v.setUint32(42, e.offset, true);
	b.set(e.nameBytes, 46);
	return b;
}

function endOfCentralDirectory(count: number, size: number, offset: number): Uint8Array {
	const b = new Uint8Array(22);
	const v = new DataView(b.buffer);
	v.setUint32(0, 0x06054b50, true);
	v.setUint16(8, count, true);
	v.setUint16(10, count, true);
	v.setUint32(12, size, true);
	v.setUint32(16, offset, true);
	return b;
}

export class ZipLimitError extends Error {}

/**
 * The archive's bytes, entry by entry: the next entry's data is pulled only
 * when the consumer asks for more. Entries past `maxEntries`, or one whose
 * `sizeHint` would not fit in `maxBytes`, end the archive cleanly (the
 * archive holds the entries before it). Data beyond `maxBytes` without a
 * hint throws ZipLimitError (the archive is then incomplete).
 */
export async function* zipStream(
	entries: AsyncIterable<ZipEntry> | Iterable<ZipEntry>,
	opts: ZipOptions = {}
): AsyncGenerator<Uint8Array> {
	const maxEntries = Math.min(opts.maxEntries ?? 65535, 65535);
	const maxBytes = Math.min(opts.maxBytes ?? ZIP32_LIMIT, ZIP32_LIMIT);
	const written: Written[] = [];
	const encoder = new TextEncoder();
	let offset = 0;
	// Room the central directory and its end need for the entries so far.
	const tail = (extraName: number) => written.reduce((n, e) => n + 46 + e.nameBytes.length, 22) + 46 + extraName;

	for await (const entry of entries) {
		if (written.length >= maxEntries) break;
		const nameBytes = encoder.encode(entry.name.replace(/^\/+/, ''));
		if (nameBytes.length === 0 || nameBytes.length > 0xffff) throw new Error('bad entry name');
		const overhead = 30 + nameBytes.length + 16 + tail(nameBytes.length);
		if (entry.sizeHint != null && offset + overhead + entry.sizeHint > maxBytes) break;
		const ascii = /^[\x20-\x7e]*$/.test(entry.name);
		const { time, date } = dosDateTime(entry.modified);
		const e: Written = { nameBytes, flags: DESCRIPTOR_FLAG | (ascii ? 0 : UTF8_FLAG), time, date, crc: 0, size: 0, offset };
		const header = localHeader(e);
		yield header;
		offset += header.length;
		for await (const chunk of entry.data) {
			if (chunk.length === 0) continue;
			if (offset + chunk.length + 16 + tail(nameBytes.length) > maxBytes) {
				throw new ZipLimitError('the archive would exceed its size limit');
			}
			e.crc = crc32(chunk, e.crc);
			e.size += chunk.length;
			offset += chunk.length;
			yield chunk;
		}
		const descriptor = dataDescriptor(e);
		yield descriptor;
		offset += descriptor.length;
		written.push(e);
	}

	const cdOffset = offset;
	let cdSize = 0;
	for (const e of written) {
		const h = centralHeader(e);
		cdSize += h.length;
		yield h;
	}
	yield endOfCentralDirectory(written.length, cdSize, cdOffset);
}
