// The upload engine: presigned uploads straight to the ingress bucket. The
// daemon signs (and completes multipart uploads); the bytes go from the
// browser to S3, PARALLEL requests at a time, each retried. A file of one
// part (up to 16 MiB: a camera's photo) is one presigned PutObject of its
// exact size, as photofinish upload sends it; a larger one is a multipart
// upload of 8 MiB parts. The daemon is asked in batches (POST
// /uploads/batch/files for the files ahead, /uploads/batch/complete for
// multipart files whose parts are in), so the page's time goes to the bytes
// and the slots never wait for a round trip to the daemon.
//
// Resume: what the bucket already has (same path and size) is skipped, and a
// file whose multipart upload was under way when the tab closed continues the
// same upload: its upload id, part URLs (until they expire) and finished part
// numbers are kept in localStorage until the file completes, so no finished
// part is sent again. A one-request file is either in the bucket or not.
import { ApiError, get, post } from './api.js';
import { checkPhoto } from './files.js';

export const PARALLEL = 6;
const PART_ATTEMPTS = 6;
const BATCH = 32; // files per batch request (the daemon's limit)
// How far ahead of the files being sent their URLs are asked for.
const LOOKAHEAD = BATCH;
const STATUS_EVERY_MS = 3000;
const STATUS_BATCH = 100; // paths per status request (the daemon's limit)
const STATUS_PATHS_PER_S = 100;
const CHECK_SHOW_MS = 200;
// The largest file the daemon answers with one PutObject URL (its ONE_PART_MAX).
const ONE_REQUEST_MAX = 16 * 1024 * 1024;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Backoff before retry `n` (1-based): 0.5 s, 1 s, 2 s, 4 s, 8 s, with jitter. */
function backoff(n) {
	const base = 500 * 2 ** (n - 1);
	return base / 2 + Math.random() * base;
}

// One localStorage entry per unfinished file (<prefix><path>), so that
// marking a part done rewrites that file's plan alone, not every plan.
// An older page kept them all under the prefix itself: read once, then split.
class Store {
	constructor(photographer) {
		this.prefix = `pf-console.uploads.${photographer ?? ''}`;
		this.data = {};
		try {
			const old = localStorage.getItem(this.prefix);
			if (old !== null) {
				localStorage.removeItem(this.prefix);
				for (const [path, v] of Object.entries(JSON.parse(old) ?? {})) this.set(path, v);
			}
			for (let i = 0; i < localStorage.length; i++) {
				const k = localStorage.key(i);
				if (!k?.startsWith(`${this.prefix}/`)) continue;
				try {
					this.data[k.slice(this.prefix.length + 1)] = JSON.parse(localStorage.getItem(k));
				} catch {
					/* unreadable: that file starts afresh */
				}
			}
		} catch {
			/* storage off: resume then restarts unfinished files */
		}
	}
	get(path) {
		return this.data[path] ?? null;
	}
	set(path, v) {
		this.data[path] = v;
		try {
			localStorage.setItem(`${this.prefix}/${path}`, JSON.stringify(v));
		} catch {
			/* storage full or off: resume then restarts unfinished files */
		}
	}
	delete(path) {
		if (path in this.data) {
			delete this.data[path];
			try {
				localStorage.removeItem(`${this.prefix}/${path}`);
			} catch {
				/* storage off */
			}
		}
	}
	paths() {
		return Object.keys(this.data);
	}
}

/** Unfinished uploads left by an earlier page (for the "pick the folder again" hint). */
export function unfinished(photographer) {
	return new Store(photographer).paths();
}

class PartError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

function putPart(url, blob, type, onProgress, signal) {
	return new Promise((resolve, reject) => {
		const xhr = new XMLHttpRequest();
		xhr.open('PUT', url);
		if (type) xhr.setRequestHeader('Content-Type', type);
		xhr.upload.onprogress = (e) => onProgress(e.loaded);
		xhr.onload = () => resolve(xhr.status);
		xhr.onerror = () => resolve(0);
		xhr.ontimeout = () => resolve(0);
		xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
		// One signal serves the whole upload: a listener left on it per request
		// made each new one slower to add (thousands of files).
		const abort = () => xhr.abort();
		signal?.addEventListener('abort', abort, { once: true });
		xhr.onloadend = () => signal?.removeEventListener('abort', abort);
		xhr.send(blob);
	});
}

class Semaphore {
	constructor(n) {
		this.free = n;
		this.waiting = [];
	}
	async take() {
		if (this.free > 0) {
			this.free--;
			return;
		}
		await new Promise((r) => this.waiting.push(r));
	}
	give() {
		const next = this.waiting.shift();
		if (next) next();
		else this.free++;
	}
}

/** Retries a daemon call on network errors, 5xx and 429: 4 tries in all. */
async function retried(call) {
	for (let attempt = 1; ; attempt++) {
		try {
			return await call();
		} catch (e) {
			const retryable = e instanceof ApiError && (e.status === 0 || e.status >= 500 || e.status === 429);
			if (!retryable || attempt >= 4) throw e;
			await sleep(backoff(attempt));
		}
	}
}

/** A file's answer in a batch: the answer, or its error as an ApiError. */
function itemResult(item) {
	if (!item) return new ApiError(0, 'network', 'The daemon did not answer for this file.');
	if (item.error) return new ApiError(item.error.status ?? 0, item.error.code, item.error.message);
	return item;
}

/**
 * Completes uploads in batches: a file whose parts are in waits at most for
 * the batch in flight, and every file waiting then goes in the next one.
 */
class Completer {
	constructor(signal) {
		this.signal = signal;
		this.waiting = [];
		this.busy = false;
	}
	complete(path, uploadId) {
		return new Promise((resolve, reject) => {
			this.waiting.push({ path, uploadId, resolve, reject });
			if (!this.busy) this.flush();
		});
	}
	async flush() {
		this.busy = true;
		// Files finishing in the same moment go together.
		await Promise.resolve();
		while (this.waiting.length) {
			const batch = this.waiting.splice(0, BATCH);
			try {
				const r = await post('/uploads/batch/complete', { files: batch.map(({ path, uploadId }) => ({ path, uploadId })) }, { signal: this.signal });
				batch.forEach((b, i) => {
					const res = itemResult(r?.files?.[i]);
					if (res instanceof Error) b.reject(res);
					else b.resolve(res);
				});
			} catch (e) {
				for (const b of batch) b.reject(e);
			}
		}
		this.busy = false;
	}
}

export class Uploader {
	/** Every file handed to the page, in order. */
	files = $state([]);
	phase = $state('idle'); // idle | checking | listing | uploading | done
	error = $state(null);
	speed = $state(0); // bytes/s over the last seconds
	sentBytes = $state(0); // bytes of this run that reached the bucket or are in flight
	statusPolling = $state(false);

	constructor(photographer, { parallel = PARALLEL } = {}) {
		this.photographer = photographer;
		this.parallel = parallel;
		this.store = new Store(photographer);
		this.controller = new AbortController();
		this.samples = [];
		// Bytes sent per file as the XHR progress events say, and the files'
		// changes of state (checked, started, finished), outside the page's
		// state: copied into it a few times a second, so that neither
		// thousands of progress events nor every file's change redraws the
		// page (on 2 cores, those redraws took a tenth of the upload's time).
		this.live = new Map();
		this.staged = new Map();
	}

	/** Changes f's fields at the next applyStaged(). */
	stage(f, patch) {
		this.staged.set(f, { ...this.staged.get(f), ...patch });
	}

	get counts() {
		const c = { total: this.files.length, refused: 0, skipped: 0, queued: 0, uploading: 0, done: 0, failed: 0, checking: 0 };
		for (const f of this.files) c[f.state]++;
		return c;
	}

	/** Bytes the current run must move (queued, uploading, done in this run). */
	get totalBytes() {
		let n = 0;
		for (const f of this.files) if (f.state === 'queued' || f.state === 'uploading' || f.state === 'done' || (f.state === 'failed' && f.tried)) n += f.size;
		return n;
	}

	get loadedBytes() {
		let n = 0;
		for (const f of this.files) if (f.state === 'uploading' || f.state === 'done' || (f.state === 'failed' && f.tried)) n += f.loaded;
		return n;
	}

	get secondsLeft() {
		if (!this.speed) return null;
		return (this.totalBytes - this.loadedBytes) / this.speed;
	}

	/** Adds files (photos are checked here, before any byte is sent). */
	async add(entries) {
		const known = new Set(this.files.map((f) => f.path));
		this.phase = this.phase === 'idle' ? 'checking' : this.phase;
		const fresh = [];
		for (const { file, path } of entries) {
			if (known.has(path)) continue;
			known.add(path);
			fresh.push({ path, size: file.size, file, type: null, state: 'checking', reason: null, loaded: 0, result: null, codes: null, tried: false });
		}
		const from = this.files.length;
		for (let i = 0; i < fresh.length; i += 10_000) this.files.push(...fresh.slice(i, i + 10_000));
		// The page's (reactive) records, as the list now holds them.
		const added = this.files.slice(from);
		// Verdicts are staged and reach the page together, five times a
		// second: each change of a file's state recounts every file, so one
		// redraw per file made a folder of 3,000 photos take 18 s to check
		// instead of 4.
		let shown = performance.now();
		// First bytes of 16 files at a time: thousands of files check in seconds.
		let next = 0;
		const checker = async () => {
			while (next < added.length) {
				const rec = added[next++];
				const verdict = await checkPhoto(rec.file, rec.path);
				this.stage(rec, 'reason' in verdict ? { state: 'refused', reason: verdict.reason } : { state: 'queued', type: verdict.type });
				if (performance.now() - shown >= CHECK_SHOW_MS) {
					this.applyStaged();
					shown = performance.now();
				}
			}
		};
		await Promise.all(Array.from({ length: Math.min(16, added.length) }, checker));
		this.applyStaged();
		if (this.phase === 'checking') this.phase = 'idle';
	}

	/** What the bucket already holds for this photographer: path -> size. */
	async listExisting() {
		const have = new Map();
		let cursor = null;
		for (let page = 0; page < 10000; page++) {
			const q = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
			const r = await get(`/uploads/objects${q}`, { signal: this.controller.signal });
			for (const o of r.objects ?? []) have.set(o.path, o.size);
			cursor = r.nextCursor;
			if (!cursor) break;
		}
		return have;
	}

	async start() {
		if (this.phase === 'uploading' || this.phase === 'listing') return;
		// User Timing marks (read by the upload benchmark, and by any RUM tool):
		// from here to the summary in the page (pf-upload-summary, Upload.svelte).
		performance.clearMarks('pf-upload-start');
		performance.clearMarks('pf-upload-summary');
		performance.mark('pf-upload-start');
		this.error = null;
		this.phase = 'listing';
		this.planned = new Map(); // path -> promise of a fresh plan
		// The first photos' URLs are asked for while the listing runs: a
		// photo's URL is only a signature (nothing is created in the bucket),
		// so one the listing makes unneeded costs nothing. Larger files wait:
		// theirs would start multipart uploads.
		this.queue = this.files.filter((f) => (f.state === 'queued' || f.state === 'failed') && f.size <= ONE_REQUEST_MAX);
		this.planAhead(0);
		let have;
		try {
			have = await this.listExisting();
		} catch (e) {
			this.error = `Could not list what is already uploaded: ${e.message}`;
			this.phase = 'idle';
			return;
		}
		for (const f of this.files) {
			if ((f.state === 'queued' || f.state === 'failed') && have.get(f.path) === f.size) {
				f.state = 'skipped';
				f.reason = 'already in the bucket';
				this.store.delete(f.path);
			} else if (f.state === 'failed') {
				f.state = 'queued';
				f.reason = null;
				f.loaded = 0;
			}
		}
		this.phase = 'uploading';
		const meter = setInterval(() => this.measure(), 250);
		const slots = new Semaphore(this.parallel);
		const queue = this.files.filter((f) => f.state === 'queued');
		this.queue = queue;
		this.completer = new Completer(this.controller.signal);
		let next = 0;
		const finishing = [];
		const worker = async () => {
			while (next < queue.length) {
				const i = next++;
				// Starts the files a batch ahead while this one is sent.
				this.planAhead(i + this.parallel);
				// A worker moves on once the file's parts are in: its completion
				// (a round trip to the daemon, and the bucket assembling the
				// object) goes on beside the next files' parts.
				await new Promise((partsSent) => {
					const finished = this.uploadFile(queue[i], slots, i, partsSent);
					finished.then(partsSent);
					finishing.push(finished);
				});
			}
		};
		// Twice as many files as part slots, so a file's last part and the next
		// file's first share the slots with no gap.
		await Promise.all(Array.from({ length: Math.min(this.parallel * 2, queue.length) }, worker));
		await Promise.all(finishing);
		clearInterval(meter);
		this.measure();
		this.phase = 'done';
		this.pollStatus();
	}

	/**
	 * Keeps the queued files from index i on planned ahead: when one of the
	 * next LOOKAHEAD has no plan (none kept from an earlier page, none asked
	 * for), starts up to BATCH files from it in one request. Only that far
	 * ahead: a photo's URL expires in an hour, which a big folder on a slow
	 * uplink outlasts, and a larger file's plan starts a multipart upload.
	 */
	planAhead(i) {
		const unplanned = (f) => !this.planned.has(f.path) && !this.store.get(f.path);
		const end = Math.min(i + LOOKAHEAD, this.queue.length);
		let j = i;
		while (j < end && !unplanned(this.queue[j])) j++;
		if (j >= end) return;
		const files = [];
		for (; j < this.queue.length && files.length < BATCH; j++) if (unplanned(this.queue[j])) files.push(this.queue[j]);
		this.startBatch(files);
	}

	/** Starts the uploads of files together; each file's promise of its plan is kept in this.planned. */
	startBatch(files) {
		const answer = retried(() => post('/uploads/batch/files', { files: files.map((f) => ({ path: f.path, size: f.size, type: f.type, single: true })) }, { signal: this.controller.signal }));
		files.forEach((f, i) => {
			const plan = answer.then((r) => {
				const res = itemResult(r?.files?.[i]);
				if (res instanceof Error) throw res;
				// One PutObject: the whole file as its one "part"; nothing to keep.
				if (!res.uploadId) return { size: f.size, single: true, partSize: f.size, parts: [{ partNumber: 1, url: res.url }], expiresAt: res.expiresAt, done: [] };
				const p = { size: f.size, uploadId: res.uploadId, partSize: res.partSize, parts: res.parts, expiresAt: res.expiresAt, done: [] };
				this.store.set(f.path, p);
				return p;
			});
			plan.catch(() => {}); // the file's own worker sees the error
			this.planned.set(f.path, plan);
		});
	}

	/** A fresh plan for f (started ahead, else now, with the files after it). */
	freshPlan(f, i) {
		if (!this.planned.has(f.path)) {
			if (i === undefined) this.startBatch([f]);
			else this.planAhead(i);
			if (!this.planned.has(f.path)) this.startBatch([f]);
		}
		const plan = this.planned.get(f.path);
		this.planned.delete(f.path);
		return plan;
	}

	/** Puts the staged changes in the page's state, all in one redraw. */
	applyStaged() {
		for (const [f, patch] of this.staged) Object.assign(f, patch);
		this.staged.clear();
	}

	measure() {
		this.applyStaged();
		for (const [f, v] of this.live) f.loaded = v;
		const now = performance.now();
		const loaded = this.loadedBytes;
		this.samples.push([now, loaded]);
		while (this.samples.length > 2 && now - this.samples[0][0] > 5000) this.samples.shift();
		const [t0, b0] = this.samples[0];
		this.speed = now > t0 ? ((loaded - b0) * 1000) / (now - t0) : 0;
	}

	stop() {
		this.controller.abort();
	}

	/** Uploads f; partsSent() is called once its parts are in, before it is completed. */
	async uploadFile(f, slots, i, partsSent = () => {}) {
		this.stage(f, { state: 'uploading', tried: true, loaded: 0 });
		try {
			let plan = this.planned.has(f.path) ? null : this.resumable(f);
			let resumed = !!plan;
			for (let attempt = 0; attempt < 2; attempt++) {
				if (!plan) plan = await this.freshPlan(f, attempt === 0 ? i : undefined);
				try {
					await this.sendParts(f, plan, slots);
					partsSent();
					if (!plan.single) await this.complete(f, plan);
					this.store.delete(f.path);
					this.live.delete(f);
					this.stage(f, { state: 'done', loaded: f.size });
					return;
				} catch (e) {
					// A kept upload the bucket no longer knows (expired, aborted), or
					// a photo's URL refused (it expired while the computer slept, or
					// its signing credentials were rotated since): start this file
					// once more from scratch, with new URLs.
					const stale = resumed ? e.status === 403 || e.status === 404 || e.status === 400 : plan.single && attempt === 0 && e.status === 403;
					if (e instanceof PartError && stale) {
						this.store.delete(f.path);
						plan = null;
						resumed = false;
						this.live.set(f, 0);
						continue;
					}
					throw e;
				}
			}
		} catch (e) {
			this.live.delete(f);
			if (e?.name === 'AbortError') return;
			this.stage(f, { state: 'failed', reason: e.message });
			const plan = this.store.get(f.path);
			if (plan && !(e instanceof PartError && e.status === 0)) {
				// Given up for good: free the parts in the bucket.
				this.store.delete(f.path);
				post('/uploads/files/abort', { path: f.path, uploadId: plan.uploadId }).catch(() => {});
			}
		}
	}

	/** A kept plan for this file that is still usable, else null. */
	resumable(f) {
		const plan = this.store.get(f.path);
		if (!plan) return null;
		const left = Date.parse(plan.expiresAt) - Date.now();
		if (plan.size !== f.size || !(left > 60_000) || !Array.isArray(plan.parts)) {
			this.store.delete(f.path);
			if (plan.uploadId) post('/uploads/files/abort', { path: f.path, uploadId: plan.uploadId }).catch(() => {});
			return null;
		}
		return plan;
	}

	async sendParts(f, plan, slots) {
		const progress = new Map();
		const partBytes = (n) => Math.min(plan.partSize, f.size - (n - 1) * plan.partSize);
		const doneBytes = () => plan.done.reduce((s, n) => s + partBytes(n), 0);
		const update = () => {
			let v = doneBytes();
			for (const b of progress.values()) v += b;
			this.live.set(f, Math.min(v, f.size));
		};
		update();
		const todo = plan.parts.filter((p) => !plan.done.includes(p.partNumber));
		let failure = null;
		await Promise.all(
			todo.map(async (p) => {
				await slots.take();
				try {
					if (failure) return;
					const start = (p.partNumber - 1) * plan.partSize;
					// A one-part file goes as the File itself: a slice would be one
					// more blob for the browser to register and read through.
					const blob = start === 0 && partBytes(p.partNumber) === f.size ? f.file : f.file.slice(start, start + partBytes(p.partNumber));
					for (let attempt = 1; ; attempt++) {
						progress.set(p.partNumber, 0);
						const status = await putPart(
							p.url,
							blob,
							plan.single ? f.type : null,
							(n) => {
								progress.set(p.partNumber, n);
								update();
							},
							this.controller.signal
						);
						if (status >= 200 && status < 300) break;
						progress.delete(p.partNumber);
						update();
						const retryable = status === 0 || status === 408 || status === 429 || status >= 500;
						if (!retryable || attempt >= PART_ATTEMPTS) {
							const what = plan.single ? 'the file' : `part ${p.partNumber}`;
							throw new PartError(status, status ? `${what} refused by the bucket (HTTP ${status})` : `${what} could not be sent after ${attempt} tries`);
						}
						await sleep(backoff(attempt));
					}
					progress.delete(p.partNumber);
					plan.done.push(p.partNumber);
					if (!plan.single) this.store.set(f.path, plan);
					update();
				} catch (e) {
					failure ??= e;
				} finally {
					slots.give();
				}
			})
		);
		if (failure) throw failure;
	}

	async complete(f, plan) {
		for (let attempt = 1; ; attempt++) {
			try {
				await this.completer.complete(f.path, plan.uploadId);
				return;
			} catch (e) {
				const retryable = e instanceof ApiError && (e.status === 0 || e.status >= 500 || e.status === 429);
				if (!retryable || attempt >= 4) {
					if (e instanceof ApiError && e.status >= 400 && e.status < 500) throw new PartError(e.status, e.message);
					throw e;
				}
				await sleep(backoff(attempt));
			}
		}
	}

	/** Live outcome of the uploaded photos (codes found), until each is final. */
	async pollStatus() {
		if (this.statusPolling) return;
		this.statusPolling = true;
		const deadline = Date.now() + 30 * 60_000;
		try {
			while (!this.controller.signal.aborted && Date.now() < deadline) {
				const open = this.files.filter((f) => (f.state === 'done' || f.state === 'skipped') && (!f.result || f.result === 'waiting'));
				if (!open.length) break;
				for (let i = 0; i < open.length; i += STATUS_BATCH) {
					// Each path costs the catalog an item read: a folder of thousands is asked
					// about STATUS_PATHS_PER_S a second, not all at once every 3 s,
					// while the race's photos are being processed.
					if (i) await sleep((STATUS_BATCH * 1000) / STATUS_PATHS_PER_S);
					const chunk = open.slice(i, i + STATUS_BATCH);
					try {
						const r = await post('/uploads/status', { paths: chunk.map((f) => f.path) }, { signal: this.controller.signal });
						const by = new Map((r.files ?? []).map((x) => [x.path, x]));
						for (const f of chunk) {
							const s = by.get(f.path);
							if (s) {
								f.result = s.state;
								f.codes = s.codes ?? null;
							}
						}
					} catch (e) {
						if (e?.name === 'AbortError') return;
					}
				}
				await sleep(STATUS_EVERY_MS);
			}
		} finally {
			this.statusPolling = false;
		}
	}
}
