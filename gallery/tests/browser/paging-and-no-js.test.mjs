// Small pages (GALLERY_PAGE_SIZE=2) so every participant with 3+ photos needs
// "load more": with JavaScript it appends in place, without JavaScript it is a
// plain link with ?cursor=. Also the whole no-JavaScript flow from the form.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend } from './backend.mjs';
import {
	busiestParticipant,
	closeViewerWithEscape,
	isJpeg,
	openBrowser,
	screenshot,
	startGallery,
	thumbnailIds,
	waitForHydration,
	waitForThumbnailFocus
} from './harness.mjs';

const PAGE_SIZE = 2;
let backend;
let gallery;
let code;
let ids;

before(async () => {
	backend = await startBackend();
	gallery = await startGallery({ apiUrl: backend.apiUrl, env: { GALLERY_PAGE_SIZE: String(PAGE_SIZE) } });
	[code, ids] = busiestParticipant(backend.participants);
	assert.ok(ids.length > PAGE_SIZE);
});

after(async () => {
	await gallery?.stop();
	await backend?.stop();
});

describe('load more with JavaScript (desktop)', () => {
	let browser;
	before(async () => {
		browser = await openBrowser('desktop');
	});
	after(async () => browser?.close());

	it('appends the next pages in order and moves focus to the first new photo', async () => {
		const { page } = browser;
		await page.goto(`${gallery.url}/p/${code}`);
		await waitForHydration(page);
		assert.deepEqual(await thumbnailIds(page), ids.slice(0, PAGE_SIZE));
		const more = page.locator('.more a');
		let shown = PAGE_SIZE;
		while (await more.count()) {
			await more.click();
			const expected = Math.min(ids.length, shown + PAGE_SIZE);
			await page.waitForFunction((n) => document.querySelectorAll('a.thumb').length === n, expected);
			// Focus moves to the first newly loaded photo.
			await waitForThumbnailFocus(page, ids[shown]);
			shown = expected;
		}
		assert.deepEqual(await thumbnailIds(page), ids);
		assert.equal(page.url(), `${gallery.url}/p/${code}`, 'the address stays on the gallery');
		await screenshot(page, 'load-more-desktop');

		// The viewer walks through appended photos too.
		await page.locator('a.thumb').nth(PAGE_SIZE - 1).click();
		await page.waitForSelector('dialog[open]');
		await page.keyboard.press('ArrowRight');
		assert.equal(await page.getAttribute('dialog[open] img.full', 'data-id'), ids[PAGE_SIZE]);
		await closeViewerWithEscape(page);
	});

	it('a stale cursor in the address gives a 400 page with a way back', async () => {
		const { page } = browser;
		const res = await page.goto(`${gallery.url}/p/${code}?cursor=${encodeURIComponent('not a cursor')}`);
		assert.equal(res?.status(), 400);
		assert.ok(await page.locator('.problem').isVisible());
	});
});

for (const kind of ['phone', 'desktop']) {
	describe(`without JavaScript (${kind})`, () => {
		let browser;
		before(async () => {
			browser = await openBrowser(kind, { javaScriptEnabled: false });
		});
		after(async () => browser?.close());

		it('the form lands on the participant page and "load more" links page through all photos', async () => {
			const { page } = browser;
			await page.goto(gallery.url);
			await page.fill('#code', ` ${code.toLowerCase()} `);
			await page.click('button[type=submit]');
			await page.waitForURL(`${gallery.url}/p/${encodeURIComponent(code)}`);
			const seen = await thumbnailIds(page);
			assert.deepEqual(seen, ids.slice(0, PAGE_SIZE));
			await screenshot(page, `no-js-participant-${kind}`);

			// Thumbnails link to the full-size photo, downloads are plain links.
			const hrefs = await page.$$eval('a.thumb', (els) => els.map((e) => e.getAttribute('href')));
			for (const href of hrefs) assert.match(href ?? '', /^https?:\/\//);
			const dl = await page.getAttribute('a.download >> nth=0', 'href');
			const res = await page.request.get(new URL(dl ?? '', gallery.url).href);
			assert.equal(res.headers()['content-type'], 'image/jpeg');
			assert.ok(isJpeg(await res.body()));

			let guard = 0;
			while ((await page.locator('.more a').count()) && guard++ < 20) {
				await Promise.all([page.waitForURL(/\?cursor=/), page.click('.more a')]);
				seen.push(...(await thumbnailIds(page)));
			}
			assert.deepEqual(seen, ids);
			await screenshot(page, `no-js-last-page-${kind}`);
			assert.ok(await page.locator('a:has-text("Back to the first photos")').isVisible());
		});

		it('a malformed code gets a 400 page with the message and the form again', async () => {
			const { page } = browser;
			await page.goto(gallery.url);
			// Without JavaScript the browser's own validation uses the pattern attribute;
			// a browser that does not check it still gets the server's answer.
			await page.$eval('form', (f) => f.setAttribute('novalidate', ''));
			await page.fill('#code', 'no/slashes');
			await page.click('button[type=submit]');
			await page.waitForURL(/\/p\?code=/);
			assert.match((await page.textContent('.problem .message')) ?? '', /can’t be part of a bib number/);
			assert.equal(await page.inputValue('#code'), 'no/slashes');
			await screenshot(page, `no-js-invalid-${kind}`);
			const res = await page.request.get(`${gallery.url}/p?code=${encodeURIComponent('no/slashes')}`);
			assert.equal(res.status(), 400);
		});

		it('the browser blocks a malformed code with the pattern message', async () => {
			const { page } = browser;
			await page.goto(gallery.url);
			await page.fill('#code', 'bad code!');
			await page.click('button[type=submit]');
			assert.equal(page.url(), `${gallery.url}/`);
			const validity = await page.$eval('#code', (el) => ({
				mismatch: el.validity.patternMismatch,
				message: el.validationMessage,
				title: el.title
			}));
			assert.ok(validity.mismatch);
			assert.ok(validity.message.length > 0);
			// Browsers show the title next to their "match the format" message.
			assert.match(validity.title, /letters, digits, dots, dashes or underscores/);
		});
	});
}
