// The back end the browser tests run against. ALL knowledge about how the
// back end is started and what data it holds lives in this module.
//
// Contract for startBackend():
//   apiUrl        base URL of the participant API (what PHOTOFINISH_API_URL is set to)
//   participants  { [code]: [imageId, ...] }: every participant with photos, each list
//                 in the order the API returns them (oldest first). At least one
//                 participant must have 3 or more photos.
//   unknownCode   a valid code with no photos
//   stopApi()     stop only the participant API (the gallery must then show its 502 page)
//   stop()        stop everything that startBackend() started
//   addPhotos(specs)  upload more photos (make_photos.py specs: file, codes, takenAt, seed);
//                 resolves with their image ids once uploaded (not yet processed)
//   photos        the specs uploaded at the start, each with its `id`
//
// The daemon trusts X-Forwarded-For (the gallery sends the runner's address),
// so its per-client limits apply per runner, not to the gallery as a whole.
//
// It starts the real thing: the local AWS stack (test/stack), photofinishd
// from the build directory, and uploads generated photos whose codes are
// known; the expected answers are derived from what was uploaded, not from
// the daemon.
import { rmSync } from 'node:fs';
import { startStack, waitFor } from '../../../test/integration/lib/stack.mjs';
import { startDaemon } from '../../../test/integration/lib/daemon.mjs';
import { imageId, makePhotos, uploadPhotos } from '../../../test/integration/lib/photos.mjs';

const PHOTOS = [
	{ file: 'start/IMG_0001.jpg', codes: ['10423'], takenAt: '2026:05:03 08:02:11', seed: 1 },
	{ file: 'course/IMG_0102.jpg', codes: ['10577', 'A-7'], takenAt: '2026:05:03 08:31:45', seed: 2 },
	{ file: 'course/IMG_0150.jpg', codes: ['10423', '10577'], takenAt: '2026:05:03 08:47:02', seed: 3 },
	{ file: 'finish/IMG_0301.jpg', codes: ['10423'], takenAt: '2026:05:03 09:14:07', seed: 4 },
	// No capture time: sorts by upload time, after the others.
	{ file: 'finish/IMG_0399.jpg', codes: ['10423'], seed: 5 }
].map((p) => ({ ...p, width: 1800, height: 1200 }));

export async function startBackend({ daemonEnv = {} } = {}) {
	const stack = await startStack();
	const dirs = [];
	let daemon;
	let dir;
	try {
		daemon = await startDaemon(stack.env, {
			env: { PHOTOFINISH_CACHE_TTL: '2', PHOTOFINISH_TRUST_FORWARDED_FOR: '1', ...daemonEnv }
		});
		dir = makePhotos(PHOTOS);
		const bucket = stack.env.PHOTOFINISH_INGRESS_BUCKET;
		const participants = {};
		await uploadPhotos(stack, dir, PHOTOS);
		for (const p of PHOTOS) for (const code of p.codes) (participants[code] ??= []).push(imageId(bucket, p.file));
		await waitFor(
			async () => {
				for (const [code, ids] of Object.entries(participants)) {
					const r = await fetch(`${daemon.url}/participants/${code}`);
					if (!r.ok || (await r.json()).images.length !== ids.length) return false;
				}
				return true;
			},
			{ timeoutMs: 180000, intervalMs: 200, what: 'photos processed' }
		);
		// The daemon suggests codes from an index it refreshes at most every
		// 15 s: wait until a typo of 10423 is answered with it. Each try comes
		// from another address, so the waiting spends nobody's rate limit.
		let probe = 0;
		await waitFor(
			async () => {
				const r = await fetch(`${daemon.url}/participants/10432`, {
					headers: { 'x-forwarded-for': `192.0.2.${(probe++ % 250) + 1}` }
				});
				return r.ok && (await r.json()).suggestions?.some((s) => s.code === '10423');
			},
			{ timeoutMs: 60000, intervalMs: 1000, what: 'code index with the uploaded codes' }
		);
		return {
			apiUrl: daemon.url,
			participants,
			photos: PHOTOS.map((p) => ({ ...p, id: imageId(bucket, p.file) })),
			unknownCode: '99999',
			async addPhotos(specs) {
				const more = specs.map((p) => ({ width: 1800, height: 1200, ...p }));
				const d = makePhotos(more);
				dirs.push(d);
				await uploadPhotos(stack, d, more);
				return more.map((p) => imageId(bucket, p.file));
			},
			stopApi: () => daemon.stop(),
			stop: async () => {
				await daemon.stop();
				await stack.stop();
				rmSync(dir, { recursive: true, force: true });
				for (const d of dirs) rmSync(d, { recursive: true, force: true });
			}
		};
	} catch (e) {
		await daemon?.stop('SIGKILL');
		await stack.stop();
		if (dir) rmSync(dir, { recursive: true, force: true });
		throw e;
	}
}
