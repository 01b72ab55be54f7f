// A stand-in for the daemon's console surface (/session, /uploads, /console/,
// /admin/credentials) in front of a real photofinishd, for working on the
// console before a daemon that serves it is at hand. Only used when
// CONSOLE_STANDIN=1; the tests otherwise run against photofinishd alone.
//
// Everything else (/admin/*, /participants/*) is passed to the daemon, with the
// admin token added for an operator session.
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon' };

export async function startStandin({ daemonUrl, stackEnv, adminSecret, consoleDir, prefix = '', repoRoot }) {
	const req = createRequire(path.join(repoRoot, 'test/package.json'));
	const s3mod = await import(req.resolve('@aws-sdk/client-s3'));
	const { getSignedUrl } = await import(req.resolve('@aws-sdk/s3-request-presigner'));
	const s3 = new s3mod.S3Client({
		region: stackEnv.AWS_REGION,
		endpoint: stackEnv.AWS_ENDPOINT_URL_S3,
		forcePathStyle: true,
		credentials: { accessKeyId: stackEnv.AWS_ACCESS_KEY_ID, secretAccessKey: stackEnv.AWS_SECRET_ACCESS_KEY }
	});
	const bucket = stackEnv.PHOTOFINISH_INGRESS_BUCKET;
	const s3url = new URL(stackEnv.AWS_ENDPOINT_URL_S3);
	const sessions = new Map(); // id -> session
	const credentials = new Map(); // photographer -> {secret, createdAt, expiresAt, by}
	const PART = 8 * 1024 * 1024;

	const json = (res, status, body, headers = {}) => {
		res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
		res.end(body === undefined ? '' : JSON.stringify(body));
	};
	const error = (res, status, code, message) => json(res, status, { error: { code, message } });
	const readBody = (rq) =>
		new Promise((resolve, reject) => {
			const chunks = [];
			rq.on('data', (c) => chunks.push(c));
			rq.on('end', () => resolve(Buffer.concat(chunks)));
			rq.on('error', reject);
		});
	const cookie = (rq) => /(?:^|;\s*)pf_session=([^;]+)/.exec(rq.headers.cookie ?? '')?.[1];
	const sessionOf = (rq) => {
		const s = sessions.get(cookie(rq) ?? '');
		return s && s.expires > Date.now() ? s : null;
	};
	const answer = (s) => ({ who: s.who, role: s.role, photographer: s.photographer, csrf: s.csrf, expiresAt: new Date(s.expires).toISOString() });
	const adminCall = (p, init = {}) => fetch(`${daemonUrl}${p}`, { ...init, headers: { ...(init.headers ?? {}), Authorization: `Bearer ${adminSecret}` } });

	const presign = (key, uploadId, n) => getSignedUrl(s3, new s3mod.UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: n }), { expiresIn: 3600 });

	async function listObjects(ph) {
		const out = [];
		let token;
		do {
			const r = await s3.send(new s3mod.ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}${ph}/`, ContinuationToken: token }));
			for (const o of r.Contents ?? []) out.push({ path: o.Key.slice(`${prefix}${ph}/`.length), size: o.Size });
			token = r.NextContinuationToken;
		} while (token);
		return out;
	}

	async function handle(rq, res) {
		const url = new URL(rq.url, 'http://x');
		const p = url.pathname;
		if (p === '/console' || p.startsWith('/console/')) {
			let rel = p === '/console' || p === '/console/' ? 'index.html' : p.slice('/console/'.length);
			const file = path.join(consoleDir, rel);
			if (!file.startsWith(consoleDir) || !existsSync(file) || !statSync(file).isFile()) return error(res, 404, 'not_found', 'no such file');
			res.writeHead(200, {
				'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
				'Content-Security-Policy': `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' ${s3url.origin} data: blob:; connect-src 'self' ${s3url.origin}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`,
				'X-Content-Type-Options': 'nosniff',
				'Cache-Control': rel === 'index.html' ? 'no-cache' : 'public, max-age=31536000, immutable'
			});
			return createReadStream(file).pipe(res);
		}
		const s = sessionOf(rq);
		const bearer = /^Bearer (.+)$/.exec(rq.headers.authorization ?? '')?.[1];
		const unsafe = rq.method !== 'GET' && rq.method !== 'HEAD';
		if (p === '/session') {
			if (rq.method === 'POST') {
				const { credential } = JSON.parse((await readBody(rq)).toString() || '{}');
				let who = null;
				let role = null;
				let photographer = null;
				if (credential === adminSecret) [who, role] = ['ops', 'admin'];
				for (const [name, c] of credentials) if (c.secret === credential && c.expires > Date.now()) [who, role, photographer] = [name, 'upload', name];
				if (!role) return error(res, 401, 'unauthorized', 'wrong credential');
				const id = randomBytes(24).toString('base64url');
				const ns = { who, role, photographer, csrf: randomBytes(16).toString('hex'), expires: Date.now() + 43200_000 };
				sessions.set(id, ns);
				return json(res, 200, answer(ns), { 'Set-Cookie': `pf_session=${id}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=43200` });
			}
			if (!s) return error(res, 401, 'unauthorized', 'no session');
			if (rq.method === 'GET') return json(res, 200, answer(s));
			if (rq.method === 'DELETE') {
				if (rq.headers['x-csrf-token'] !== s.csrf) return error(res, 403, 'csrf_required', 'csrf');
				sessions.delete(cookie(rq));
				return json(res, 204, undefined, { 'Set-Cookie': 'pf_session=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0' });
			}
		}
		if (s && unsafe && rq.headers['x-csrf-token'] !== s.csrf) return error(res, 403, 'csrf_required', 'X-CSRF-Token is required');
		if (p.startsWith('/admin/')) {
			if (!s && !bearer) return error(res, 401, 'unauthorized', 'sign in');
			if (s && s.role !== 'admin') return error(res, 403, 'forbidden', 'operators only');
			if (p.startsWith('/admin/credentials')) {
				const name = decodeURIComponent(p.split('/')[3] ?? '');
				if (rq.method === 'POST') {
					const b = JSON.parse((await readBody(rq)).toString());
					const c = { secret: `pfu_${randomBytes(18).toString('base64url')}`, createdAt: new Date().toISOString(), expires: Date.now() + b.expiresInDays * 86400_000, by: s?.who ?? 'token' };
					credentials.set(b.photographer, c);
					return json(res, 201, { photographer: b.photographer, secret: c.secret, expiresAt: new Date(c.expires).toISOString() });
				}
				if (rq.method === 'DELETE') {
					credentials.delete(name);
					for (const [id, x] of sessions) if (x.photographer === name) sessions.delete(id);
					return json(res, 200, { photographer: name });
				}
				return json(res, 200, { credentials: [...credentials].map(([photographer, c]) => ({ photographer, createdAt: c.createdAt, expiresAt: new Date(c.expires).toISOString(), by: c.by })) });
			}
			const body = unsafe ? await readBody(rq) : undefined;
			const r = await adminCall(`${p}${url.search}`, { method: rq.method, body, headers: body?.length ? { 'Content-Type': 'application/json' } : {} });
			res.writeHead(r.status, { 'Content-Type': r.headers.get('content-type') ?? 'application/json', 'Cache-Control': 'no-store' });
			return res.end(Buffer.from(await r.arrayBuffer()));
		}
		if (p.startsWith('/participants/')) {
			const r = await fetch(`${daemonUrl}${p}${url.search}`);
			res.writeHead(r.status, { 'Content-Type': 'application/json' });
			return res.end(Buffer.from(await r.arrayBuffer()));
		}
		if (p.startsWith('/uploads/')) {
			if (!s) return error(res, 401, 'unauthorized', 'sign in');
			if (s.role !== 'upload') return error(res, 403, 'forbidden', 'photographers only');
			const ph = s.photographer;
			if (p === '/uploads/objects') return json(res, 200, { objects: await listObjects(ph), nextCursor: null });
			const b = JSON.parse((await readBody(rq)).toString() || '{}');
			const key = `${prefix}${ph}/${b.path}`;
			if (p === '/uploads/files') {
				const c = await s3.send(new s3mod.CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: b.type }));
				const n = Math.max(1, Math.ceil(b.size / PART));
				const list = [];
				for (let i = 1; i <= n; i++) list.push({ partNumber: i, url: await presign(key, c.UploadId, i) });
				return json(res, 201, { path: b.path, key, uploadId: c.UploadId, partSize: PART, parts: list, expiresAt: new Date(Date.now() + 3600_000).toISOString() });
			}
			if (p === '/uploads/files/complete') {
				const listed = await s3.send(new s3mod.ListPartsCommand({ Bucket: bucket, Key: key, UploadId: b.uploadId }));
				const Parts = (listed.Parts ?? []).map((x) => ({ PartNumber: x.PartNumber, ETag: x.ETag }));
				await s3.send(new s3mod.CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: b.uploadId, MultipartUpload: { Parts } }));
				const h = await s3.send(new s3mod.HeadObjectCommand({ Bucket: bucket, Key: key }));
				return json(res, 200, { path: b.path, size: h.ContentLength });
			}
			if (p === '/uploads/files/abort') {
				await s3.send(new s3mod.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: b.uploadId })).catch(() => {});
				return json(res, 204);
			}
			if (p === '/uploads/status') {
				const files = [];
				for (const path_ of b.paths ?? []) {
					const r = await adminCall(`/admin/images?key=${encodeURIComponent(`${prefix}${ph}/${path_}`)}`);
					const img = r.ok ? (await r.json()).images?.find((i) => i.key === `${prefix}${ph}/${path_}`) : null;
					const state = !img ? 'waiting' : img.status === 'failed' ? 'failed' : img.codes.length ? 'processed' : 'unmatched';
					files.push({ path: path_, state, codes: img?.codes?.length ?? 0 });
				}
				return json(res, 200, { files });
			}
		}
		return error(res, 404, 'not_found', 'no such route');
	}

	const server = http.createServer((rq, res) => {
		handle(rq, res).catch((e) => {
			if (!res.headersSent) error(res, 500, 'internal', String(e?.message ?? e));
			else res.end();
		});
	});
	await new Promise((r) => server.listen(0, '127.0.0.1', r));
	const origin = `http://127.0.0.1:${server.address().port}`;
	return {
		url: origin,
		async stop() {
			s3.destroy();
			server.closeAllConnections?.();
			await new Promise((r) => server.close(r));
		}
	};
}
