#!/usr/bin/env node
// Browser upload throughput (part of `make bench`): the console in Chromium
// uploading a folder of photos to the local stack through presigned uploads
// (one PutObject per photo of one part, multipart over 16 MiB), against
// `photofinish upload` sending the same photos, the same number of transfers
// at a time; the console's protocol driven from Node's fetch, which shows
// what the flow itself costs without a browser; and Chromium alone, a bare
// loop PUTting the same files, the floor of any page.
// Runs alternate and the best of each counts, so a busy moment of the machine
// hurts no side alone; each run's objects are deleted after it (the local S3
// keeps objects in memory and gets slower as it fills, which would charge
// every run for the ones before it). Writes the "Console upload" section of
// docs/benchmarks.md.
//   node bench/console-upload.mjs [--corpus bench/corpus] [--bin build] [--photos 50] [--rounds 4]
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../test/integration/lib/stack.mjs';
import { makePhotos } from '../test/integration/lib/photos.mjs';
import { deleteKeys, listKeys, startBackend } from '../console/tests/lib/backend.mjs';
import { openUploadPage } from '../console/tests/lib/browser.mjs';

const args = Object.fromEntries(
	process.argv.slice(2).reduce((acc, a, i, all) => {
		if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
		return acc;
	}, [])
);
const corpus = path.resolve(args.corpus ?? 'bench/corpus');
const binDir = path.resolve(args.bin ?? 'build');
const nPhotos = Number(args.photos ?? 50);
const rounds = Number(args.rounds ?? 4);
const PARALLEL = 6; // the console's parallel part uploads (console/src/lib/uploader.svelte.js)
const TARGET = 0.8;
const docs = path.join(REPO_ROOT, 'docs/benchmarks.md');
const BEGIN = '<!-- console-upload:begin -->';
const END = '<!-- console-upload:end -->';
const log = (...a) => console.error('bench console-upload:', ...a);

// The photos: the benchmark corpus when there is one, else generated ones.
const work = mkdtempSync(path.join(tmpdir(), 'pf-console-bench-'));
const folder = path.join(work, 'finish-line');
mkdirSync(folder);
let source = 'generated 3000x2000 photos';
let files = existsSync(corpus) ? readdirSync(corpus).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, nPhotos) : [];
if (files.length === nPhotos) {
	source = existsSync(path.join(corpus, 'truth.json')) ? 'photos of the benchmark corpus, bench/corpus.py' : `photos of ${corpus}`;
	for (const f of files) {
		try {
			linkSync(path.join(corpus, f), path.join(folder, f));
		} catch {
			copyFileSync(path.join(corpus, f), path.join(folder, f));
		}
	}
} else {
	const specs = Array.from({ length: nPhotos }, (_, i) => ({ file: `IMG_${String(i + 1).padStart(4, '0')}.jpg`, codes: [String(40000 + i)], width: 3000, height: 2000, seed: 500 + i }));
	const dir = makePhotos(specs);
	for (const s of specs) copyFileSync(path.join(dir, s.file), path.join(folder, s.file));
	rmSync(dir, { recursive: true, force: true });
	files = specs.map((s) => s.file);
}
const totalBytes = files.reduce((n, f) => n + statSync(path.join(folder, f)).size, 0);
log(`${files.length} photos, ${(totalBytes / 1e6).toFixed(1)} MB (${source})`);

// CPU seconds used so far, from /proc (Linux): the local stack's processes,
// photofinishd, this process's other descendants (Chromium; apart, its
// network service, with the reads it made: /proc/<pid>/io), this process
// itself (the Node line; playwright during the browser's), and its reaped
// children (photofinish upload). Where the machine's time goes when the
// uploader, the stack and the daemon share its cores.
const TICKS = 100; // USER_HZ
function cpuNow(stackPid, daemonPid) {
	const all = new Map();
	for (const d of readdirSync('/proc')) {
		if (!/^\d+$/.test(d)) continue;
		try {
			const s = readFileSync(`/proc/${d}/stat`, 'utf8');
			const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
			all.set(Number(d), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICKS, reaped: (Number(f[13]) + Number(f[14])) / TICKS });
		} catch {
			/* gone meanwhile */
		}
	}
	const under = (pid, root) => {
		for (let q = pid, n = 0; q > 1 && n < 64; q = all.get(q)?.ppid ?? 0, n++) if (q === root) return true;
		return false;
	};
	const me = all.get(process.pid) ?? { cpu: 0, reaped: 0 };
	const out = { stack: 0, daemon: all.get(daemonPid)?.cpu ?? 0, chromium: 0, network: 0, netReads: 0, netReadBytes: 0, self: me.cpu, reaped: me.reaped };
	for (const [pid, p] of all) {
		if (under(pid, stackPid)) out.stack += p.cpu;
		else if (pid !== process.pid && pid !== daemonPid && under(pid, process.pid)) {
			out.chromium += p.cpu;
			try {
				if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--utility-sub-type=network.mojom.NetworkService')) continue;
				const io = Object.fromEntries(
					readFileSync(`/proc/${pid}/io`, 'utf8')
						.trim()
						.split('\n')
						.map((l) => l.split(': '))
				);
				out.network += p.cpu;
				out.netReads += Number(io.syscr);
				out.netReadBytes += Number(io.rchar);
			} catch {
				/* gone meanwhile */
			}
		}
	}
	return out;
}
const cpuSince = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, b[k] - a[k]]));

// The daemon consumes the dead-letter queue, which no upload notifies, so no
// photo is processed while the uploads are timed.
let backend;
const results = { cli: [], node: [], browser: [], bare: [] };
const cpu = { cli: [], node: [], browser: [], bare: [] };
const browserCalls = []; // per browser run: requests to the daemon and PUTs to the bucket
const driven = []; // per browser run: click to summary as the DevTools client saw it
const load = loadavg()[0];
try {
	backend = await startBackend({ env: { PHOTOFINISH_WORKERS: '1' }, quietQueue: true });
	const cpuMark = () => cpuNow(backend.stack.pid, backend.daemon.proc.pid);
	// Waits until Chromium is idle (a 100 ms window with under 10 ms of its
	// CPU, at most 5 s): picking 50 files leaves the page reading their first
	// bytes and drawing the list for a moment, which a photographer's click
	// on Upload never overlaps and which is not the upload's.
	const settle = async () => {
		for (const end = performance.now() + 5000; performance.now() < end; ) {
			const c0 = cpuMark().chromium;
			await new Promise((r) => setTimeout(r, 100));
			if (cpuMark().chromium - c0 < 0.01) return;
		}
	};
	// Every photo of a run is in the bucket; then they go, so that the next
	// run starts from the same bucket.
	const landedThenCleared = async (prefix, who) => {
		const n = (await listKeys(backend, prefix)).size;
		if (n !== files.length) throw new Error(`${who} left ${n} of ${files.length} objects`);
		await deleteKeys(backend, prefix);
	};
	const env = { ...process.env, ...Object.fromEntries(Object.entries(backend.stack.env).filter(([k]) => k.startsWith('AWS_'))), AWS_EC2_METADATA_DISABLED: 'true' };
	// A photo as POST /uploads/batch/files takes it, asked as one PutObject.
	const fileSpec = (f) => ({ path: `finish-line/${f}`, size: statSync(path.join(folder, f)).size, type: 'image/jpeg', single: true });

	const cli = async (round) => {
		const prefix = `${backend.prefix}cli-${round}/`;
		const c0 = cpuMark();
		const t0 = performance.now();
		await new Promise((resolve, reject) => {
			const p = spawn(path.join(binDir, 'photofinish'), ['upload', '--ingress-bucket', backend.bucket, '--prefix', prefix, '--parallel', String(PARALLEL), '--json', folder], { env, stdio: ['ignore', 'ignore', 'pipe'] });
			let err = '';
			p.stderr.on('data', (d) => (err += d));
			p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`photofinish upload exited ${code}: ${err.slice(-2000)}`))));
		});
		const seconds = (performance.now() - t0) / 1000;
		cpu.cli.push(cpuSince(c0, cpuMark()));
		await landedThenCleared(prefix, 'photofinish upload');
		return seconds;
	};

	const browser = async (round) => {
		const name = `bench-${round}`;
		const b = await openUploadPage(backend.url, await backend.credential(name));
		try {
			await b.page.setInputFiles('#pick-folder', folder);
			await b.page.waitForFunction((n) => document.querySelector('[data-testid=counts]')?.textContent.includes(`${n} to upload`), files.length, { timeout: 120_000 });
			await settle();
			const calls = { daemon: 0, puts: 0 };
			b.page.on('request', (req) => {
				if (new URL(req.url()).pathname.startsWith('/uploads/')) calls.daemon++;
				else if (req.method() === 'PUT') calls.puts++;
			});
			const c0 = cpuMark();
			const t0 = performance.now();
			await b.page.getByTestId('start').click();
			await b.page.waitForSelector('[data-testid=summary]', { timeout: 1_800_000 });
			driven.push((performance.now() - t0) / 1000);
			cpu.browser.push(cpuSince(c0, cpuMark()));
			// The page's own clock, from the Upload button's handler to the
			// summary in the page (User Timing marks the console sets): the DevTools
			// client's click and its polling for the summary (which backs off to
			// 0.5 s between looks) are not the browser's upload.
			const seconds = await b.page.evaluate(() => {
				const [start] = performance.getEntriesByName('pf-upload-start');
				const [summary] = performance.getEntriesByName('pf-upload-summary');
				return start && summary ? (summary.startTime - start.startTime) / 1000 : null;
			});
			if (!(seconds > 0)) throw new Error('the console set no pf-upload-start / pf-upload-summary marks');
			browserCalls.push({ ...calls });
			const summary = await b.page.getByTestId('summary').textContent();
			if (!summary.includes(`${files.length} uploaded, 0 already there, 0 failed`)) throw new Error(`browser upload: ${summary.slice(0, 300)}`);
			await landedThenCleared(`${backend.prefix}${name}/`, 'the browser');
			return seconds;
		} finally {
			await b.close();
		}
	};

	// Chromium alone: the same files PUT to presigned URLs (signed beforehand)
	// from a bare XMLHttpRequest loop in the same page, 6 at a time, with an
	// upload progress listener and nothing else: no listing, no daemon, no
	// page to update. What the browser itself costs, the console's floor.
	const bare = async (round) => {
		const name = `bare-${round}`;
		const secret = await backend.credential(name);
		const urls = [];
		for (let i = 0; i < files.length; i += 32) {
			const batch = files.slice(i, i + 32);
			const r = await fetch(`${backend.url}/uploads/batch/files`, {
				method: 'POST',
				headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' },
				body: JSON.stringify({ files: batch.map(fileSpec) })
			});
			if (!r.ok) throw new Error(`/uploads/batch/files: ${r.status}`);
			urls.push(...(await r.json()).files.map((x) => x.url));
		}
		const b = await openUploadPage(backend.url, secret);
		try {
			// The files as the folder picker gives them (the page then clears the input).
			await b.page.evaluate(() => document.querySelector('#pick-folder').addEventListener('change', (e) => (window.benchFiles = [...e.target.files]), { capture: true }));
			await b.page.setInputFiles('#pick-folder', folder);
			await b.page.waitForFunction((n) => window.benchFiles?.length === n, files.length);
			await settle();
			const c0 = cpuMark();
			const seconds = await b.page.evaluate(
				async ({ urls, parallel }) => {
					const picked = [...window.benchFiles].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
					const t = performance.now();
					let next = 0;
					const put = (url, file) =>
						new Promise((resolve) => {
							const x = new XMLHttpRequest();
							x.open('PUT', url);
							x.upload.onprogress = () => {};
							x.onload = () => resolve(x.status);
							x.onerror = () => resolve(0);
							x.send(file);
						});
					await Promise.all(
						Array.from({ length: parallel }, async () => {
							while (next < picked.length) {
								const i = next++;
								const status = await put(urls[i], picked[i]);
								if (status !== 200) throw new Error(`PUT ${picked[i].name}: ${status}`);
							}
						})
					);
					return (performance.now() - t) / 1000;
				},
				{ urls, parallel: PARALLEL }
			);
			cpu.bare.push(cpuSince(c0, cpuMark()));
			await landedThenCleared(`${backend.prefix}${name}/`, 'the bare page');
			return seconds;
		} finally {
			await b.close();
		}
	};

	// The same protocol as the console (files started in batches ahead,
	// POST /uploads/batch/files; PUT each photo, or a larger file's parts, to
	// the presigned URLs; multipart files completed in batches, POST
	// /uploads/batch/complete) from Node's fetch:
	// what the flow costs without a browser.
	const node = async (round) => {
		const name = `node-${round}`;
		const secret = await backend.credential(name);
		const h = { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' };
		const call = async (p, body) => {
			const r = await fetch(`${backend.url}${p}`, { method: 'POST', headers: h, body: JSON.stringify(body) });
			if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
			return r.json();
		};
		const item = (x) => {
			if (x.error) throw new Error(`${x.path}: ${x.error.status} ${x.error.message}`);
			return x;
		};
		const c0 = cpuMark();
		const t0 = performance.now();
		const plans = new Map();
		const planAhead = (i) => {
			const batch = files.slice(i, i + 32).filter((f) => !plans.has(f));
			if (!batch.length) return;
			const answer = call('/uploads/batch/files', { files: batch.map(fileSpec) });
			batch.forEach((f, k) => {
				const p = answer.then((r) => item(r.files[k]));
				p.catch(() => {});
				plans.set(f, p);
			});
		};
		let waiting = [];
		let busy = false;
		const complete = (path_, uploadId) =>
			new Promise((resolve, reject) => {
				waiting.push({ path: path_, uploadId, resolve, reject });
				if (busy) return;
				busy = true;
				(async () => {
					await Promise.resolve();
					while (waiting.length) {
						const batch = waiting.splice(0, 32);
						try {
							const r = await call('/uploads/batch/complete', { files: batch.map(({ path: p, uploadId: u }) => ({ path: p, uploadId: u })) });
							batch.forEach((b, k) => {
								try {
									b.resolve(item(r.files[k]));
								} catch (e) {
									b.reject(e);
								}
							});
						} catch (e) {
							for (const b of batch) b.reject(e);
						}
					}
					busy = false;
				})();
			});
		// As the console: PARALLEL parts in flight, twice as many files under way.
		let free = PARALLEL;
		const queued = [];
		const take = () => (free > 0 ? (free--, Promise.resolve()) : new Promise((r) => queued.push(r)));
		const give = () => (queued.length ? queued.shift()() : free++);
		let next = 0;
		await Promise.all(
			Array.from({ length: 2 * PARALLEL }, async () => {
				while (next < files.length) {
					const i = next++;
					const f = files[i];
					planAhead(i + PARALLEL);
					if (!plans.has(f)) planAhead(i);
					const up = await plans.get(f);
					const bytes = readFileSync(path.join(folder, f));
					// A photo of one part is one PutObject; a larger file, parts.
					const parts = up.uploadId ? up.parts : [{ partNumber: 1, url: up.url }];
					const partSize = up.uploadId ? up.partSize : bytes.length;
					await Promise.all(
						parts.map(async (part) => {
							await take();
							try {
								const from = (part.partNumber - 1) * partSize;
								const r = await fetch(part.url, { method: 'PUT', body: bytes.subarray(from, from + partSize) });
								if (!r.ok) throw new Error(`PUT part: ${r.status}`);
								await r.arrayBuffer();
							} finally {
								give();
							}
						})
					);
					if (up.uploadId) await complete(`finish-line/${f}`, up.uploadId);
				}
			})
		);
		const seconds = (performance.now() - t0) / 1000;
		cpu.node.push(cpuSince(c0, cpuMark()));
		await landedThenCleared(`${backend.prefix}${name}/`, 'node');
		return seconds;
	};

	for (let r = 1; r <= rounds; r++) {
		results.cli.push(await cli(r));
		log(`round ${r}: photofinish upload ${results.cli.at(-1).toFixed(2)} s`);
		results.node.push(await node(r));
		log(`round ${r}: node fetch ${results.node.at(-1).toFixed(2)} s`);
		results.browser.push(await browser(r));
		log(`round ${r}: browser ${results.browser.at(-1).toFixed(2)} s`);
		results.bare.push(await bare(r));
		log(`round ${r}: Chromium alone ${results.bare.at(-1).toFixed(2)} s`);
	}
} finally {
	await backend?.stop();
	rmSync(work, { recursive: true, force: true });
}

const mbps = (s) => totalBytes / 1e6 / s;
const best = Object.fromEntries(Object.entries(results).map(([k, runs]) => [k, Math.min(...runs)]));
const ratio = mbps(best.browser) / mbps(best.cli);
const chromium = (() => {
	try {
		return execFileSync(process.env.CHROMIUM_PATH || '/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).trim();
	} catch {
		return 'chromium';
	}
})();
const at = (k) => cpu[k][results[k].indexOf(best[k])];
const f2 = (v) => v.toFixed(2);
// The uploader's own CPU: photofinish upload; Chromium's processes (and, apart,
// playwright driving it in this process); this process for the Node line.
const calls = browserCalls[results.browser.indexOf(best.browser)];
const uploaderCpu = { cli: (c) => f2(c.reaped), browser: (c) => `${f2(c.chromium)} (+ ${f2(c.self)} playwright)`, bare: (c) => `${f2(c.chromium)} (+ ${f2(c.self)} playwright)`, node: (c) => f2(c.self) };
const row = (label, k) => {
	const c = at(k);
	return `| ${label} | ${results[k].map(f2).join(', ')} | ${f2(best[k])} | ${mbps(best[k]).toFixed(1)} | ${uploaderCpu[k](c)} | ${f2(c.stack)} | ${f2(c.daemon)} |`;
};
const section = [
	BEGIN,
	'## Console upload',
	'',
	`The console uploading ${files.length} photos (${(totalBytes / 1e6).toFixed(1)} MB, ${source}) from Chromium to the local stack's ingress bucket,`,
	`presigned uploads ${PARALLEL} at a time (each photo one PutObject of its signed length, as \`photofinish upload\` sends a file up to 16 MiB; multipart over that), against \`photofinish upload --parallel ${PARALLEL}\` sending the same photos.`,
	`Runs alternate, best of ${rounds} each. The browser's time runs from the Upload button, clicked once Chromium is idle after the folder was picked, to the summary in the page, before it is painted (listing what is there included), by the page's clock (User Timing marks the console sets); seen from the DevTools client driving it, the same runs took ${driven.map(f2).join(', ')} s, which adds its click and its polling for the summary (backing off to 0.5 s between looks). Each run's objects are deleted after it, so every run starts from the same bucket: the local S3 keeps objects in memory and slows as it fills.`,
	'The third line sends the same photos through the same daemon routes and presigned URLs from Node, without a browser: the cost of the flow itself.',
	'The fourth PUTs the same files to URLs signed beforehand from a bare XMLHttpRequest loop in the same Chromium, 6 at a time, timed by the page: no listing, no daemon, no page to update, what the browser itself costs (the floor of any page).',
	'The CPU columns are the seconds of CPU each side used during the best run (from /proc): the uploader itself, the local stack (the S3, SQS and DynamoDB emulators, one Node process) and photofinishd.',
	'',
	'| uploader | runs (s) | best (s) | MB/s | CPU s: uploader | CPU s: local stack | CPU s: photofinishd |',
	'|---|---|---|---|---|---|---|',
	row('photofinish upload', 'cli'),
	row('console in Chromium', 'browser'),
	row('the same /uploads flow from Node fetch', 'node'),
	row('Chromium alone: bare XHR PUTs, URLs signed beforehand', 'bare'),
	'',
	`**Browser / CLI throughput: ${ratio.toFixed(2)}** (target ≥ ${TARGET.toFixed(2)}: ${ratio >= TARGET ? 'met' : 'NOT met'}); Chromium alone / CLI: ${(mbps(best.bare) / mbps(best.cli)).toFixed(2)}, the console / Chromium alone: ${(mbps(best.browser) / mbps(best.bare)).toFixed(2)}. ${chromium}, headless; the daemon processed nothing meanwhile; load average ${load.toFixed(1)} on ${availableParallelism()} cores at the start.`,
	'',
	`Where the browser's time goes: the page asked the daemon ${calls.daemon} times in its best run (the listing, the URLs signed in batches ahead of the transfers, the first status poll) for ${calls.puts} PUTs, so the upload slots do not wait on the daemon; what is left is CPU.`,
	`The bytes cost Chromium ${f2(at('browser').chromium)} s of CPU against ${f2(at('cli').reaped)} s for \`photofinish upload\`, of which its network service used ${f2(at('browser').network)} s (${f2(at('bare').network)} s of Chromium alone's ${f2(at('bare').chromium)} s).`,
	`It read the files in ${at('browser').netReads} reads of ${(at('browser').netReadBytes / Math.max(1, at('browser').netReads) / 1024).toFixed(1)} KiB on average (/proc/<pid>/io): Chromium sends an HTTP/1.1 request body through a fixed 16 KiB buffer (kRequestBodyBufferSize, net/http/http_stream_parser.cc), each piece read from the file on a worker thread and handed to the socket's thread, while \`photofinish upload\` hands libcurl each photo whole.`,
	'A page cannot choose that buffer: a Blob slice of the file instead of the File itself moves the reading into the browser process, which then spent 1.1 to 1.5 CPU-s more on these photos (measured by hand on 2026-12-03); fetch() and ArrayBuffer bodies cost more still.',
	`The rest is the page, browser and GPU processes handling every request and its CORS preflight and redrawing the progress four times a second; the DevTools client driving Chromium adds ${f2(at('browser').self)} s more.`,
	`The local stack spent ${f2(at('browser').stack)} s against ${f2(at('cli').stack)} s; on ${availableParallelism()} cores shared by the uploader, the stack and the daemon, that CPU is the time.`,
	END
].join('\n');
let doc = existsSync(docs) ? readFileSync(docs, 'utf8') : '# Benchmarks\n';
if (doc.includes(BEGIN) && doc.includes(END)) doc = doc.slice(0, doc.indexOf(BEGIN)) + section + doc.slice(doc.indexOf(END) + END.length);
else if (doc.includes('<!-- e2e:end -->')) doc = doc.replace('<!-- e2e:end -->', `<!-- e2e:end -->\n\n${section}`);
else doc = `${doc.trimEnd()}\n\n${section}\n`;
writeFileSync(docs, doc);
console.log(section);
console.log(`console upload: browser/CLI throughput ratio ${ratio.toFixed(2)} (target >= ${TARGET})`);
