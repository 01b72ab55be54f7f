// A stand-in for the photofinish daemon's participant API, serving the
// contract from a handful of JPEG files. Used only by the browser tests while
// the real daemon and storage stack are not available to them.
//
//   GET /participants/{code}?limit=N&cursor=C
//   GET /media/{id}/full.jpg   GET /media/{id}/thumb.jpg
import { readFile } from 'node:fs/promises';
import http from 'node:http';

const CODE_RE = /^[A-Z0-9_.-]{1,64}$/;

/** Width and height from a baseline/progressive JPEG's SOF marker. */
export function jpegSize(buf) {
	if (buf[0] !== 0xff || buf[1] !== 0xd8) throw new Error('not a JPEG');
	let i = 2;
	while (i + 9 < buf.length) {
		if (buf[i] !== 0xff) throw new Error('bad JPEG marker');
		const marker = buf[i + 1];
		const len = buf.readUInt16BE(i + 2);
		if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
			return { height: buf.readUInt16BE(i + 5), width: buf.readUInt16BE(i + 7) };
		}
		i += 2 + len;
	}
	throw new Error('no SOF marker');
}

function sendJson(res, status, body) {
	const data = Buffer.from(JSON.stringify(body));
	res.writeHead(status, { 'content-type': 'application/json', 'content-length': data.length });
	res.end(data);
}

function apiError(res, status, code, message) {
	sendJson(res, status, { error: { code, message } });
}

const encodeCursor = (offset) => Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
function decodeCursor(cursor) {
	try {
		const { o } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
		return Number.isInteger(o) && o >= 0 ? o : null;
	} catch {
		return null;
	}
}

/**
 * @param {{ photos: { id: string, file: string, takenAt: string | null, codes: string[] }[],
 *           host?: string, port?: number }} options
 * @returns {Promise<{ url: string, requests: string[], stop(): Promise<void> }>}
 */
export async function startContractServer({ photos, host = '127.0.0.1', port = 0 }) {
	const media = new Map();
	for (const p of photos) {
		const bytes = await readFile(p.file);
		media.set(p.id, { ...p, bytes, ...jpegSize(bytes) });
	}
	// Oldest first by capture time; unknown capture times last, then by id.
	const ordered = [...media.values()].sort((a, b) => {
		if (a.takenAt === b.takenAt) return a.id.localeCompare(b.id);
		if (a.takenAt === null) return 1;
		if (b.takenAt === null) return -1;
		return Date.parse(a.takenAt) - Date.parse(b.takenAt);
	});

	const requests = [];
	let base = '';

	const server = http.createServer((req, res) => {
		requests.push(`${req.method} ${req.url}`);
		const url = new URL(req.url, 'http://x');
		if (req.method !== 'GET' && req.method !== 'HEAD') return apiError(res, 405, 'method_not_allowed', 'GET only');

		let m = /^\/participants\/([^/]+)$/.exec(url.pathname);
		if (m) {
			let code;
			try {
				code = decodeURIComponent(m[1]).trim().toUpperCase();
			} catch {
				return apiError(res, 400, 'invalid_code', 'participant code is not valid');
			}
			if (!CODE_RE.test(code)) return apiError(res, 400, 'invalid_code', 'participant code must match ^[A-Z0-9_.-]{1,64}$');
			let limit = 100;
			if (url.searchParams.has('limit')) {
				const raw = url.searchParams.get('limit');
				limit = /^\d+$/.test(raw) ? Number(raw) : NaN;
				if (!(limit >= 1 && limit <= 500)) return apiError(res, 400, 'invalid_limit', 'limit must be 1..500');
			}
			let offset = 0;
			if (url.searchParams.has('cursor')) {
				offset = decodeCursor(url.searchParams.get('cursor'));
				if (offset === null) return apiError(res, 400, 'invalid_cursor', 'cursor is not valid');
			}
			const all = ordered.filter((p) => p.codes.includes(code));
			const slice = all.slice(offset, offset + limit);
			return sendJson(res, 200, {
				participant: code,
				images: slice.map((p) => ({
					id: p.id,
					takenAt: p.takenAt,
					thumbnailUrl: `${base}/media/${p.id}/thumb.jpg`,
					fullsizeUrl: `${base}/media/${p.id}/full.jpg`,
					width: p.width,
					height: p.height,
					// The stand-in serves the same file as thumbnail, so the
					// thumbnail dimensions equal the full-size ones.
					thumbnailWidth: p.width,
					thumbnailHeight: p.height,
					codes: p.codes
				})),
				nextCursor: offset + limit < all.length ? encodeCursor(offset + limit) : null
			});
		}

		m = /^\/media\/([^/]+)\/(full|thumb)\.jpg$/.exec(url.pathname);
		if (m && media.has(m[1])) {
			const { bytes } = media.get(m[1]);
			res.writeHead(200, {
				'content-type': 'image/jpeg',
				'content-length': bytes.length,
				'cache-control': 'public, max-age=3600'
			});
			return res.end(req.method === 'HEAD' ? undefined : bytes);
		}
		return apiError(res, 404, 'not_found', 'no such resource');
	});

	await new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, host, resolve);
	});
	const addr = server.address();
	base = `http://${host}:${addr.port}`;

	let stopped = false;
	return {
		url: base,
		requests,
		async stop() {
			if (stopped) return;
			stopped = true;
			server.closeAllConnections();
			await new Promise((resolve) => server.close(() => resolve()));
		}
	};
}
