// A photographer uploads a folder of 50 photos in the browser, closes the
// page half way, opens it again and finishes: every part reaches the bucket
// exactly once and all 50 objects are there. On a phone: dropped files, with
// the ones that are not photos refused before any byte is sent.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { makePhotos } from '../../test/integration/lib/photos.mjs';
import { listKeys, objectBytes, startBackend, waitFor } from './lib/backend.mjs';
import { axeViolations, openBrowser, screenshot, signIn } from './lib/browser.mjs';

test('desktop: a file over 16 MiB goes in 8 MiB parts; the page closed after one part, reopened, sends only the rest', async () => {
	const secret = await backend.credential('carol');
	// A photo padded to 20 MiB: three parts (8, 8 and 4 MiB).
	const bigDir = path.join(photosDir, 'big');
	mkdirSync(bigDir);
	const photo = readFileSync(path.join(folder, 'IMG_0003.jpg'));
	const bytes = Buffer.concat([photo, Buffer.alloc(20 * 1024 * 1024 - photo.length, 0x5a)]);
	writeFileSync(path.join(bigDir, 'panorama.jpg'), bytes);
	const key = `${backend.prefix}carol/big/panorama.jpg`;
	const b = await openBrowser('desktop');
	try {
		const puts = new Map();
		let completes = 0;
		let page = b.page;
		countPuts(page, puts);
		await signIn(page, backend.url, secret);
		await page.waitForSelector('h1:text("Upload photos")');
		// Parts 2 and 3 are held by the network until the page is closed.
		await page.route(
			(u) => u.pathname.includes(`/${backend.bucket}/`) && /^[23]$/.test(u.searchParams.get('partNumber') ?? ''),
			() => new Promise(() => {})
		);
		await page.setInputFiles('#pick-folder', bigDir);
		await page.waitForFunction(() => document.querySelector('[data-testid=counts]')?.textContent.includes('1 to upload'));
		await page.getByTestId('start').click();
		await waitFor(() => puts.get(`${key}#1`) === 1, { timeoutMs: 60_000, intervalMs: 20, what: 'part 1 accepted' });
		await page.close();

		page = await b.context.newPage();
		countPuts(page, puts);
		page.on('response', (r) => countCompletes(r, (n) => (completes += n)));
		await page.goto(`${backend.url}/console/`);
		await page.waitForSelector('[data-testid=leftover]');
		await page.setInputFiles('#pick-folder', bigDir);
		await page.waitForFunction(() => document.querySelector('[data-testid=counts]')?.textContent.includes('1 to upload'));
		await page.getByTestId('start').click();
		await page.waitForSelector('[data-testid=summary]', { timeout: 120_000 });
		assert.match(await page.getByTestId('summary').textContent(), /1 uploaded, 0 already there, 0 failed/);
		assert.deepEqual(Object.fromEntries([...puts].filter(([k]) => k.startsWith(key))), { [`${key}#1`]: 1, [`${key}#2`]: 1, [`${key}#3`]: 1 }, 'each part accepted once');
		assert.equal(completes, 1);
		const keys = await listKeys(backend, `${backend.prefix}carol/`);
		assert.deepEqual([...keys], [[key, bytes.length]]);
		assert.ok((await objectBytes(backend, key)).equals(bytes), 'the parts joined in order');
		assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('pf-console.uploads')).length), 0, 'the finished upload is no longer kept');
	} finally {
		await b.close();
	}
});

const N = 50;
let backend;
let photosDir;
let folder;

before(async () => {
	backend = await startBackend();
	// Half of the photos carry a code, so the summary has codes to count.
	const specs = Array.from({ length: N }, (_, i) => ({
		file: `IMG_${String(i + 1).padStart(4, '0')}.jpg`,
		codes: i % 2 ? [] : [String(20000 + i)],
		width: 1400,
		height: 933,
		seed: 100 + i
	}));
	photosDir = makePhotos(specs);
	folder = path.join(photosDir, 'finish-line');
	mkdirSync(folder);
	for (const s of specs) renameSync(path.join(photosDir, s.file), path.join(folder, s.file));
	// Not photos: refused in the browser, never sent.
	writeFileSync(path.join(folder, 'notes.txt'), 'shot list\n');
	writeFileSync(path.join(folder, 'fake.jpg'), 'this is not a JPEG at all');
});

after(async () => {
	await backend?.stop();
	if (photosDir) rmSync(photosDir, { recursive: true, force: true });
});

/** Files completed by a response of POST /uploads/batch/complete (or the single route). */
function countCompletes(res, add) {
	if (res.status() !== 200) return;
	if (res.url().endsWith('/uploads/files/complete')) add(1);
	else if (res.url().endsWith('/uploads/batch/complete')) {
		res
			.json()
			.then((b) => add((b.files ?? []).filter((f) => !f.error).length))
			.catch(() => {});
	}
}

/**
 * Counts the PUTs the bucket accepted, per "key#part" (a whole-file
 * PutObject counts as part 1), from a page's network events: an answer the
 * browser received is a part the page knows is there (and must never send
 * again). onWholeFile(1) for each accepted PutObject: that file is done.
 */
function countPuts(page, counts, onWholeFile = () => {}) {
	const marker = `/${backend.bucket}/`;
	page.on('response', (res) => {
		const req = res.request();
		if (req.method() !== 'PUT' || res.status() < 200 || res.status() >= 300) return;
		const u = new URL(req.url());
		const i = u.pathname.indexOf(marker);
		if (i < 0) return;
		const part = u.searchParams.get('partNumber');
		const id = `${decodeURIComponent(u.pathname.slice(i + marker.length))}#${part ?? 1}`;
		counts.set(id, (counts.get(id) ?? 0) + 1);
		if (part === null) onWholeFile(1);
	});
}

async function throttle(page, bytesPerSecond) {
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Network.enable');
	await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
}

test('desktop: a folder of 50 photos, the page closed half way, reopened, finished; nothing sent twice', async () => {
	const secret = await backend.credential('alice');
	const b = await openBrowser('desktop');
	try {
		const puts = new Map();
		// Files done: a photo (one part) is one PutObject; a multipart file is done when completed.
		let completes = 0;
		let multipartCompletes = 0;
		let page = b.page;
		countPuts(page, puts, (n) => (completes += n));
		page.on('response', (r) => {
			countCompletes(r, (n) => ((completes += n), (multipartCompletes += n)));
		});
		await signIn(page, backend.url, secret);
		await page.waitForSelector('h1:text("Upload photos")');
		assert.deepEqual(await axeViolations(page), [], 'axe: upload page');

		// About 5 s for the whole folder, so the page can be closed half way.
		await throttle(page, 150_000);
		await page.setInputFiles('#pick-folder', folder);
		await page.waitForFunction(() => document.querySelector('[data-testid=counts]')?.textContent.includes('50 to upload'));
		const refused = await page.locator('[data-testid=refused] li').allTextContents();
		assert.equal(refused.length, 2, `two files refused: ${refused.join(' | ')}`);
		assert.ok(refused.some((t) => t.includes('notes.txt') && /not a photo/.test(t)), refused.join(' | '));
		assert.ok(refused.some((t) => t.includes('fake.jpg') && /first bytes/.test(t)), refused.join(' | '));
		await page.getByTestId('start').click();
		await waitFor(() => completes >= N / 2, { timeoutMs: 120_000, intervalMs: 20, what: 'half the photos uploaded' });
		const speedText = await page.getByTestId('overall').textContent();
		assert.match(speedText, /Speed .+\/s · time left/, 'speed and time left shown');
		await page.close();
		const firstRun = completes;
		const stored = await listKeys(backend, `${backend.prefix}alice/`);
		const inBucket = stored.size;
		assert.ok(inBucket >= N / 2 && inBucket < N, `about half in the bucket when the page closed (${inBucket})`);

		page = await b.context.newPage();
		// Every PUT the reopened page sends, accepted or not.
		const resent = [];
		page.on('request', (req) => {
			if (req.method() === 'PUT') resent.push(decodeURIComponent(new URL(req.url()).pathname).replace(`/${backend.bucket}/`, ''));
		});
		countPuts(page, puts, (n) => (completes += n));
		page.on('response', (r) => {
			countCompletes(r, (n) => ((completes += n), (multipartCompletes += n)));
		});
		await page.goto(`${backend.url}/console/`);
		// Still signed in: the cookie, and GET /session for the rest.
		await page.waitForSelector('h1:text("Upload photos")');
		await page.setInputFiles('#pick-folder', folder);
		await page.waitForFunction(() => /to upload/.test(document.querySelector('[data-testid=counts]')?.textContent ?? ''));
		await page.getByTestId('start').click();
		await page.waitForSelector('[data-testid=summary]', { timeout: 120_000 });
		const summary = await page.getByTestId('summary').textContent();
		await screenshot(page, 'upload-desktop-summary');
		const m = /(\d+) uploaded, (\d+) already there, (\d+) failed/.exec(summary);
		assert.ok(m, summary);
		const [uploaded, skipped, failed] = m.slice(1).map(Number);
		assert.equal(failed, 0, summary);
		assert.equal(uploaded + skipped, N, summary);
		assert.ok(skipped >= inBucket, `what was in the bucket was skipped (${skipped} >= ${inBucket})`);
		assert.ok(firstRun + uploaded <= N, `no photo completed twice (${firstRun} + ${uploaded})`);

		const keys = await listKeys(backend, `${backend.prefix}alice/`);
		assert.equal(keys.size, N, [...keys.keys()].join(', '));
		for (let i = 1; i <= N; i++) {
			const key = `${backend.prefix}alice/finish-line/IMG_${String(i).padStart(4, '0')}.jpg`;
			assert.equal(keys.get(key), readFileSync(path.join(folder, path.basename(key))).length, key);
			// A PUT stored as the page closed may never have been answered to it: at most once, then.
			assert.ok((puts.get(`${key}#1`) ?? 0) <= 1, `${key}: accepted ${puts.get(`${key}#1`)} times`);
		}
		assert.deepEqual(resent.filter((k) => stored.has(k)), [], 'nothing in the bucket when the page closed is sent again');
		assert.equal(new Set(resent).size, resent.length, 'the reopened page sent each photo once');
		assert.ok(resent.length <= N - inBucket, `only what was missing was sent (${resent.length} for ${N - inBucket})`);
		assert.equal(multipartCompletes, 0, 'photos of one part go as one PutObject, with nothing to complete');
		assert.ok(![...puts.keys()].some((k) => /notes\.txt|fake\.jpg/.test(k)), 'refused files never sent');

		// The summary follows processing live: codes appear as photos are processed.
		await page.waitForFunction(() => /Processed so far: [1-9]/.test(document.querySelector('[data-testid=summary]')?.textContent ?? ''), null, { timeout: 120_000 });
		assert.deepEqual(await axeViolations(page), [], 'axe: upload summary');
		assert.deepEqual(b.cspViolations, [], 'no CSP violations');
	} finally {
		await b.close();
	}
});

test('phone: dropped and picked photos upload, parts retried, files that are not photos refused with the reason', async () => {
	const secret = await backend.credential('bob');
	const b = await openBrowser('phone');
	try {
		const page = b.page;
		const sent = [];
		page.on('request', (r) => {
			if (r.method() === 'PUT') sent.push(r.url());
		});
		await signIn(page, backend.url, secret);
		await page.waitForSelector('h1:text("Upload photos")');
		const jpeg = [...readFileSync(path.join(folder, 'IMG_0001.jpg'))];
		const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
		await page.evaluate(
			({ jpeg, png }) => {
				const dt = new DataTransfer();
				dt.items.add(new File([new Uint8Array(jpeg)], 'start.jpg', { type: 'image/jpeg' }));
				dt.items.add(new File([new Uint8Array(jpeg)], 'finish.JPEG', { type: 'image/jpeg' }));
				dt.items.add(new File(['%PDF-1.7'], 'entry-list.pdf', { type: 'application/pdf' }));
				dt.items.add(new File([new Uint8Array(png)], 'renamed.jpg', { type: 'image/jpeg' }));
				dt.items.add(new File(['hello'], 'video.mov', { type: '' }));
				const zone = document.querySelector('[data-testid=drop]');
				zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
				zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
			},
			{ jpeg, png }
		);
		await page
			.waitForFunction(() => document.querySelector('[data-testid=counts]')?.textContent.includes('2 refused'), null, { timeout: 10_000 })
			.catch(async (e) => {
				throw new Error(`${e.message}: ${await page.locator('main').textContent()}`);
			});
		const refused = await page.locator('[data-testid=refused] li').allTextContents();
		assert.ok(refused.some((t) => t.includes('entry-list.pdf') && /not a photo/.test(t)), refused.join(' | '));
		assert.ok(refused.some((t) => t.includes('video.mov') && /\.mov/.test(t)), refused.join(' | '));
		// A PNG named .jpg is still a photo: its bytes say so. Only a non-photo is refused.
		assert.ok(!refused.some((t) => t.includes('renamed.jpg')), refused.join(' | '));
		assert.equal(sent.length, 0, 'nothing sent before Upload');
		assert.deepEqual(await axeViolations(page), [], 'axe: upload page on a phone');
		await screenshot(page, 'upload-phone-refused');
		// And one more from the phone's picker.
		await page.setInputFiles('#pick-files', path.join(folder, 'IMG_0002.jpg'));
		await page.waitForFunction(() => document.querySelector('[data-testid=counts]')?.textContent.includes('4 to upload'));
		// The bucket fails the first try of two photos (a 503, a dropped
		// connection): each is retried after a pause and gets through. It
		// refuses a third one's URL (403, as for a URL expired while the phone
		// slept): the page asks the daemon for a new one, once.
		const tries = new Map();
		const signed = [];
		page.on('request', (r) => {
			if (r.url().endsWith('/uploads/batch/files')) signed.push(...JSON.parse(r.postData()).files.map((f) => f.path));
		});
		await b.context.route(
			(u) => u.pathname.includes(`/${backend.bucket}/`),
			async (route) => {
				const req = route.request();
				const name = path.basename(decodeURIComponent(new URL(req.url()).pathname));
				const n = (tries.get(name) ?? 0) + 1;
				tries.set(name, n);
				if (req.method() === 'PUT' && n === 1 && name === 'start.jpg') {
					return route.fulfill({ status: 503, headers: { 'Access-Control-Allow-Origin': '*' }, body: 'SlowDown' });
				}
				if (req.method() === 'PUT' && n === 1 && name === 'finish.JPEG') return route.abort('connectionreset');
				if (req.method() === 'PUT' && n === 1 && name === 'renamed.jpg') {
					return route.fulfill({ status: 403, headers: { 'Access-Control-Allow-Origin': '*' }, body: '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>' });
				}
				return route.continue();
			}
		);
		await page.getByTestId('start').click();
		await page.waitForSelector('[data-testid=summary]', { timeout: 60_000 });
		assert.match(await page.getByTestId('summary').textContent(), /4 uploaded, 0 already there, 0 failed, 2 refused/);
		assert.equal(tries.get('start.jpg'), 2, 'a part answered 503 is sent again');
		assert.equal(tries.get('finish.JPEG'), 2, 'a part whose connection dropped is sent again');
		assert.equal(tries.get('renamed.jpg'), 2, 'a photo whose URL was refused is sent again');
		assert.deepEqual(signed.filter((p) => p === 'renamed.jpg').length, 2, 'with a URL signed again');
		const keys = await listKeys(backend, `${backend.prefix}bob/`);
		assert.deepEqual([...keys.keys()].sort(), [`${backend.prefix}bob/IMG_0002.jpg`, `${backend.prefix}bob/finish.JPEG`, `${backend.prefix}bob/renamed.jpg`, `${backend.prefix}bob/start.jpg`]);
		assert.ok(!sent.some((u) => /entry-list|video\.mov/.test(u)));
		assert.deepEqual(b.cspViolations, [], 'no CSP violations');
	} finally {
		await b.close();
	}
});
