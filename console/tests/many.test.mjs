// A photographer picks a folder of a thousand photos: the page checks them
// in a few redraws rather than one per file, asks for their URLs only a
// window ahead of the transfers (a URL expires in an hour, which a big
// folder on a slow uplink outlasts), every one reaches the bucket, and
// the page asks how they were processed at a bounded rate. A folder dropped
// from the file manager is walked whole: sub-folders, and folders of more
// entries than the browser lists at once.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { listKeys, startBackend } from './lib/backend.mjs';
import { openUploadPage } from './lib/browser.mjs';

const N = 1000;
// The page's lookahead (32 files) plus the batch it asks for (32), with
// the files the upload slots hold (12): URLs signed beyond the files taken.
const MAX_SIGNED_AHEAD = 100;
let backend;
let folder;
let tree;
// JPEG's first bytes, which is what the page checks before sending.
const photo = () => Buffer.concat([Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'), randomBytes(1000)]);

before(async () => {
	// The daemon reads the dead-letter queue: these are not real photos and
	// nothing is to be processed.
	backend = await startBackend({ quietQueue: true });
	folder = mkdtempSync(path.join(os.tmpdir(), 'console-many-'));
	for (let i = 1; i <= N; i++) writeFileSync(path.join(folder, `IMG_${String(i).padStart(5, '0')}.jpg`), photo());
	// race-day/cam1: 150 photos (Chromium lists 100 entries at a time);
	// race-day/cam2/finish: 3; race-day/notes.txt, refused.
	tree = mkdtempSync(path.join(os.tmpdir(), 'console-drop-'));
	mkdirSync(path.join(tree, 'race-day/cam1'), { recursive: true });
	mkdirSync(path.join(tree, 'race-day/cam2/finish'), { recursive: true });
	for (let i = 1; i <= 150; i++) writeFileSync(path.join(tree, `race-day/cam1/DSC_${String(i).padStart(4, '0')}.JPG`), photo());
	for (let i = 1; i <= 3; i++) writeFileSync(path.join(tree, `race-day/cam2/finish/P${i}.jpg`), photo());
	writeFileSync(path.join(tree, 'race-day/notes.txt'), 'start 9:00');
});

after(async () => {
	await backend?.stop();
	if (folder) rmSync(folder, { recursive: true, force: true });
	if (tree) rmSync(tree, { recursive: true, force: true });
});

// A browser signed in as a new photographer, on the upload page.
const uploadPage = async (photographer) => openUploadPage(backend.url, await backend.credential(photographer));

test(`desktop: a folder of ${N} photos is checked in a few redraws, signed a window ahead of the transfers, all uploaded, its processing asked about at a bounded rate`, async () => {
	const b = await uploadPage('many');
	try {
		const page = b.page;
		// How often the counts line is redrawn while the files are checked.
		await page.evaluate(() => {
			window.countsRedraws = 0;
			let last = null;
			new MutationObserver(() => {
				const text = document.querySelector('[data-testid=counts]')?.textContent ?? null;
				if (text !== null && text !== last) window.countsRedraws++;
				last = text;
			}).observe(document.body, { subtree: true, childList: true, characterData: true });
		});
		await page.setInputFiles('#pick-folder', folder);
		await page.waitForFunction((n) => document.querySelector('[data-testid=counts]')?.textContent.includes(`${n} to upload`), N, { timeout: 120_000 });
		const redraws = await page.evaluate(() => window.countsRedraws);
		assert.ok(redraws >= 1 && redraws <= 50, `the counts were redrawn ${redraws} times while ${N} files were checked (in batches: at most 50)`);

		// URLs asked for (files named in POST /uploads/batch/files) against PUTs sent.
		let signed = 0;
		let puts = 0;
		let aheadMax = 0;
		const statusAsks = []; // [ms, paths] per POST /uploads/status
		page.on('request', (req) => {
			if (req.method() === 'PUT') puts++;
			else if (new URL(req.url()).pathname === '/uploads/status') statusAsks.push([performance.now(), JSON.parse(req.postData()).paths.length]);
			else if (new URL(req.url()).pathname === '/uploads/batch/files') {
				signed += JSON.parse(req.postData()).files.length;
				aheadMax = Math.max(aheadMax, signed - puts);
			}
		});
		await page.getByTestId('start').click();
		await page.waitForSelector('[data-testid=summary]', { timeout: 300_000 });
		const summary = await page.getByTestId('summary').textContent();
		assert.match(summary, new RegExp(`${N} uploaded, 0 already there, 0 failed`), summary.slice(0, 300));
		assert.equal(puts, N, 'one PUT per photo');
		assert.ok(signed >= N && signed <= N + 32, `each photo signed about once (${signed} for ${N})`);
		assert.ok(aheadMax <= MAX_SIGNED_AHEAD, `URLs were asked for at most ${MAX_SIGNED_AHEAD} files ahead of the PUTs sent (${aheadMax})`);

		// Nothing is processed here, so the page keeps asking about all of
		// them: at most about 100 paths a second (each one catalog read).
		await new Promise((r) => setTimeout(r, 4500));
		assert.ok(statusAsks.length >= 2, `the page asks how its photos were processed (${statusAsks.length} requests)`);
		const busiest = Math.max(...statusAsks.map(([t]) => statusAsks.filter(([u]) => u >= t && u <= t + 2000).reduce((n, [, k]) => n + k, 0)));
		assert.ok(busiest <= 300, `at most 300 paths asked about in any 2 s (${busiest})`);

		const keys = await listKeys(backend, `${backend.prefix}many/`);
		assert.equal(keys.size, N);
		for (const size of keys.values()) assert.equal(size, 1020);
	} finally {
		await b.close();
	}
});

test('desktop: a folder dropped from the file manager is walked whole, sub-folders and all', async () => {
	const b = await uploadPage('dropper');
	try {
		const page = b.page;
		// A drag from outside the browser, as the file manager starts it.
		const cdp = await b.context.newCDPSession(page);
		const box = await page.getByTestId('drop').boundingBox();
		const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
		const data = { items: [], files: [path.join(tree, 'race-day')], dragOperationsMask: 1 };
		for (const type of ['dragEnter', 'dragOver', 'drop']) await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
		await page.waitForFunction(() => document.querySelector('[data-testid=counts]')?.textContent.includes('153 to upload'), null, { timeout: 60_000 });
		const refused = await page.locator('[data-testid=refused] li').allTextContents();
		assert.equal(refused.length, 1, refused.join(' | '));
		assert.match(refused[0], /race-day\/notes\.txt.*not a photo/);
		await page.getByTestId('start').click();
		await page.waitForSelector('[data-testid=summary]', { timeout: 120_000 });
		assert.match(await page.getByTestId('summary').textContent(), /153 uploaded, 0 already there, 0 failed, 1 refused/);
		const keys = [...(await listKeys(backend, `${backend.prefix}dropper/`)).keys()].map((k) => k.slice(`${backend.prefix}dropper/`.length)).sort();
		const expected = [...Array.from({ length: 150 }, (_, i) => `race-day/cam1/DSC_${String(i + 1).padStart(4, '0')}.JPG`), 'race-day/cam2/finish/P1.jpg', 'race-day/cam2/finish/P2.jpg', 'race-day/cam2/finish/P3.jpg'].sort();
		assert.deepEqual(keys, expected);
	} finally {
		await b.close();
	}
});
