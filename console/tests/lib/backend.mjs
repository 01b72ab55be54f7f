// The back end the console tests run against: the local AWS stack
// (test/stack), photofinishd from the build directory serving the built
// console (PHOTOFINISH_CONSOLE_DIR=console/dist), an operator token and
// photographer credentials made through the admin API.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, startStack, waitFor } from '../../../test/integration/lib/stack.mjs';
import { startDaemon } from '../../../test/integration/lib/daemon.mjs';

export const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist');
export const PREFIX = 'race/';
export { REPO_ROOT, waitFor };

/**
 * @param {{ env?: Record<string,string>, quietQueue?: boolean }} [opts]
 * @returns {Promise<{ url: string, daemonUrl: string, stack: any, daemon: any, adminSecret: string,
 *   bucket: string, prefix: string, credential(name: string): Promise<string>,
 *   admin(method: string, p: string, body?: unknown): Promise<{status: number, body: any}>, stop(): Promise<void> }>}
 */
export async function startBackend({ env = {}, quietQueue = false } = {}) {
	if (!existsSync(path.join(CONSOLE_DIR, 'index.html'))) throw new Error('console is not built: run `npm run build` in console/');
	const adminSecret = `pfa_${randomBytes(18).toString('hex')}`;
	const stack = await startStack();
	let daemon;
	try {
		daemon = await startDaemon(stack.env, {
			env: {
				PHOTOFINISH_ADMIN_TOKENS: `ops:${adminSecret}`,
				PHOTOFINISH_CONSOLE_DIR: CONSOLE_DIR,
				PHOTOFINISH_INGRESS_PREFIX: PREFIX,
				PHOTOFINISH_CACHE_TTL: '0',
				// quietQueue: the daemon reads the dead-letter queue, which no upload notifies.
				...(quietQueue ? { PHOTOFINISH_QUEUE_URL: stack.env.PHOTOFINISH_DLQ_URL } : {}),
				...env
			}
		});
		const c = await fetch(`${daemon.url}/console/`);
		const s = await fetch(`${daemon.url}/session`);
		if (c.status !== 200 || s.status === 404 || s.status === 405) {
			throw new Error(`photofinishd does not serve the console (GET /console/ ${c.status}, GET /session ${s.status}): it needs the session, upload and console routes`);
		}
		const url = daemon.url;
		const admin = async (method, p, body) => {
			const r = await fetch(`${url}${p}`, {
				method,
				headers: { Authorization: `Bearer ${adminSecret}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
				body: body === undefined ? undefined : JSON.stringify(body)
			});
			const text = await r.text();
			let parsed = null;
			try {
				parsed = text ? JSON.parse(text) : null;
			} catch {
				parsed = text;
			}
			return { status: r.status, body: parsed };
		};
		return {
			url,
			daemonUrl: daemon.url,
			stack,
			daemon,
			adminSecret,
			bucket: stack.env.PHOTOFINISH_INGRESS_BUCKET,
			prefix: PREFIX,
			admin,
			async credential(name, days = 14) {
				const r = await admin('POST', '/admin/credentials', { photographer: name, expiresInDays: days });
				if (r.status !== 201) throw new Error(`POST /admin/credentials: ${r.status} ${JSON.stringify(r.body)}`);
				return r.body.secret;
			},
			async stop() {
				await daemon.stop();
				await stack.stop();
			}
		};
	} catch (e) {
		await daemon?.stop('SIGKILL');
		await stack.stop();
		throw e;
	}
}

const testRequire = createRequire(path.join(REPO_ROOT, 'test/package.json'));
const { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command } = testRequire('@aws-sdk/client-s3');

/** Key -> size of every object under prefix in the ingress bucket. */
export async function listKeys(backend, prefix) {
	const keys = new Map();
	let token;
	do {
		const r = await backend.stack.s3.send(new ListObjectsV2Command({ Bucket: backend.bucket, Prefix: prefix, ContinuationToken: token }));
		for (const o of r.Contents ?? []) keys.set(o.Key, o.Size);
		token = r.NextContinuationToken;
	} while (token);
	return keys;
}

/** An object's bytes, as the AWS SDK reads them. */
export async function objectBytes(backend, key) {
	const r = await backend.stack.s3.send(new GetObjectCommand({ Bucket: backend.bucket, Key: key }));
	return Buffer.from(await r.Body.transformToByteArray());
}

/** Deletes every object under prefix (DeleteObjects, 1000 at a time). */
export async function deleteKeys(backend, prefix) {
	const keys = [...(await listKeys(backend, prefix)).keys()];
	for (let i = 0; i < keys.length; i += 1000) {
		await backend.stack.s3.send(new DeleteObjectsCommand({ Bucket: backend.bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
	}
}
