// Runner flows on a desktop and a phone viewport: find photos by code,
// browse them in the viewer, download, share, empty and invalid codes.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { startBackend } from './backend.mjs';
import {
	busiestParticipant,
	closeViewerWithEscape,
	isJpeg,
	openBrowser,
	screenshot,
	startGallery,
	TEST_THEME,
	thumbnailIds,
	waitForHydration,
	waitForThumbnailFocus
} from './harness.mjs';

let backend;
let gallery;

before(async () => {
	backend = await startBackend();
	gallery = await startGallery({ apiUrl: backend.apiUrl });
});

after(async () => {
	await gallery?.stop();
	await backend?.stop();
});

for (const kind of ['desktop', 'phone']) {
	describe(`participant gallery (${kind})`, () => {
		let browser;
		let page;
		let code;
		let ids;

		before(async () => {
			[code, ids] = busiestParticipant(backend.participants);
			assert.ok(ids.length >= 3, 'the back end must give one participant at least 3 photos');
			browser = await openBrowser(kind, { permissions: ['clipboard-read', 'clipboard-write'] });
			page = browser.page;
			if (kind === 'phone') {
				// Headless chromium on Linux has no Web Share; record calls instead.
				await browser.context.addInitScript(() => {
					window.__shared = [];
					navigator.share = async (data) => {
						window.__shared.push(data);
					};
				});
			}
		});

		after(async () => {
			await browser?.close();
		});

		it('entering a code shows exactly that participant’s photos, in API order', async () => {
			await page.goto(gallery.url);
			await waitForHydration(page);
			await screenshot(page, `landing-${kind}`);
			await page.fill('#code', `  ${code.toLowerCase()} `);
			await page.click('button[type=submit]');
			await page.waitForURL(`${gallery.url}/p/${encodeURIComponent(code)}`);
			await page.waitForSelector('a.thumb');
			assert.deepEqual(await thumbnailIds(page), ids);

			const imgs = await page.$$eval('a.thumb img', (els) =>
				els.map((e) => ({
					width: e.getAttribute('width'),
					height: e.getAttribute('height'),
					loading: e.getAttribute('loading'),
					alt: e.getAttribute('alt')
				}))
			);
			for (const img of imgs) {
				assert.match(img.width ?? '', /^\d+$/);
				assert.match(img.height ?? '', /^\d+$/);
				assert.equal(img.loading, 'lazy');
				assert.ok(img.alt && img.alt.includes(code), `alt text mentions the code: ${img.alt}`);
			}
			assert.equal(await page.textContent('h1'), `Photos for bib ${code}`);
			assert.match(await page.title(), new RegExp(code));
			await page.evaluate(() => Promise.all([...document.images].map((i) => i.decode().catch(() => {}))));
			await screenshot(page, `participant-${kind}`);
		});

		it('shows the race theme from the environment', async () => {
			await page.goto(`${gallery.url}/p/${code}`);
			assert.equal((await page.textContent('.race-name'))?.trim(), TEST_THEME.GALLERY_RACE_NAME);
			assert.equal((await page.textContent('.race-date'))?.trim(), '3 May 2026');
			assert.match((await page.textContent('footer')) ?? '', /Finish Line Studio/);
			const bg = await page.$eval('.masthead', (e) => getComputedStyle(e).backgroundColor);
			assert.equal(bg, 'rgb(11, 92, 173)');
		});

		it('viewer: arrows navigate, Esc closes, focus stays inside and returns to the thumbnail', async () => {
			await page.goto(`${gallery.url}/p/${code}`);
			await waitForHydration(page);
			const shown = () => page.getAttribute('dialog[open] img.full', 'data-id');
			const focusInDialog = () =>
				page.evaluate(() => !!document.activeElement?.closest('dialog[open]'));

			if (kind === 'phone') await page.tap('a.thumb >> nth=0');
			else {
				await page.focus('a.thumb >> nth=0');
				await page.keyboard.press('Enter');
			}
			await page.waitForSelector('dialog[open]');
			assert.equal(await shown(), ids[0]);
			assert.ok(await focusInDialog(), 'focus moves into the viewer');
			await page.waitForFunction(() => document.querySelector('dialog[open] img.full')?.complete);
			await screenshot(page, `viewer-${kind}`, { fullPage: false });

			await page.keyboard.press('ArrowLeft');
			assert.equal(await shown(), ids[0], 'no wrap-around before the first photo');
			await page.keyboard.press('ArrowRight');
			assert.equal(await shown(), ids[1]);
			await page.keyboard.press('ArrowRight');
			assert.equal(await shown(), ids[2]);
			await page.keyboard.press('ArrowLeft');
			assert.equal(await shown(), ids[1]);

			for (let i = 0; i < 8; i++) {
				await page.keyboard.press(i % 3 === 2 ? 'Shift+Tab' : 'Tab');
				assert.ok(await focusInDialog(), `focus stays in the viewer after Tab #${i + 1}`);
			}

			await page.keyboard.press('Escape');
			await page.waitForSelector('dialog', { state: 'detached' });
			// Focus returns to the thumbnail of the photo last shown.
			await waitForThumbnailFocus(page, ids[1]);
		});

		if (kind === 'phone') {
			it('viewer: swipe left and right navigates', async () => {
				await page.goto(`${gallery.url}/p/${code}`);
				await waitForHydration(page);
				await page.tap('a.thumb >> nth=0');
				await page.waitForSelector('dialog[open]');
				const cdp = await browser.context.newCDPSession(page);
				const swipe = async (fromX, toX) => {
					const y = 420;
					await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: fromX, y }] });
					for (let s = 1; s <= 5; s++) {
						const x = fromX + ((toX - fromX) * s) / 5;
						await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: [{ x, y }] });
						await page.waitForTimeout(16);
					}
					// Rest before lifting the finger: a fling would swallow the next tap.
					await page.waitForTimeout(150);
					await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
				};
				const shown = () => page.getAttribute('dialog[open] img.full', 'data-id');
				await swipe(320, 80);
				await page.waitForFunction((id) => document.querySelector('dialog[open] img.full')?.getAttribute('data-id') === id, ids[1]);
				await swipe(320, 80);
				await page.waitForFunction((id) => document.querySelector('dialog[open] img.full')?.getAttribute('data-id') === id, ids[2]);
				await swipe(80, 320);
				await page.waitForFunction((id) => document.querySelector('dialog[open] img.full')?.getAttribute('data-id') === id, ids[1]);
				assert.equal(await shown(), ids[1]);
				await page.tap('dialog[open] button.close');
				await page.waitForSelector('dialog', { state: 'detached' });
				await waitForThumbnailFocus(page, ids[1]);
				await cdp.detach();
			});

			it('viewer: the Back button closes it and stays on the gallery', async () => {
				await page.goto(`${gallery.url}/p/${code}`);
				await waitForHydration(page);
				await page.tap('a.thumb >> nth=2');
				await page.waitForSelector('dialog[open]');
				await page.evaluate(() => history.back());
				await page.waitForSelector('dialog', { state: 'detached' });
				assert.equal(page.url(), `${gallery.url}/p/${code}`);
				await waitForThumbnailFocus(page, ids[2]);
				// The viewer still opens again afterwards.
				await page.tap('a.thumb >> nth=0');
				await page.waitForSelector('dialog[open]');
				await closeViewerWithEscape(page);
			});
		}

		it('download gives a JPEG attachment for each photo', async () => {
			await page.goto(`${gallery.url}/p/${code}`);
			await waitForHydration(page);
			const link = page.locator('a.download').nth(1);
			const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
			assert.match(download.suggestedFilename(), /^lakeside-city-marathon-2026-.+\.jpg$/);
			const bytes = await readFile(await download.path());
			assert.ok(isJpeg(bytes), 'downloaded file starts with the JPEG magic bytes');

			// The same from the viewer's button.
			await page.locator('a.thumb').nth(2).click();
			await page.waitForSelector('dialog[open]');
			const [download2] = await Promise.all([
				page.waitForEvent('download'),
				page.click('dialog[open] a[download]')
			]);
			assert.ok(isJpeg(await readFile(await download2.path())));
			assert.match(download2.suggestedFilename(), /-003\.jpg$/);
			await closeViewerWithEscape(page);

			for (const id of ids) {
				const res = await page.request.get(`${gallery.url}/p/${code}/download/${id}`);
				assert.equal(res.status(), 200);
				assert.equal(res.headers()['content-type'], 'image/jpeg');
				assert.match(res.headers()['content-disposition'], /^attachment; filename="[^"]+\.jpg"$/);
				assert.ok(isJpeg(await res.body()));
			}
		});

		if (kind === 'desktop') {
			it('download only serves photos the API lists for that code', async () => {
				const others = Object.entries(backend.participants)
					.filter(([c]) => c !== code)
					.flatMap(([, list]) => list)
					.filter((id) => !ids.includes(id));
				assert.ok(others.length > 0, 'the back end has a photo of someone else');
				const foreign = await page.request.get(`${gallery.url}/p/${code}/download/${others[0]}`);
				assert.equal(foreign.status(), 404);
				const unknown = await page.request.get(`${gallery.url}/p/${code}/download/not-a-photo`);
				assert.equal(unknown.status(), 404);
				// A URL in the query string is ignored: the photo still comes from the API's URL.
				const res = await page.request.get(
					`${gallery.url}/p/${code}/download/${ids[0]}?url=${encodeURIComponent('http://127.0.0.1:9/evil')}`
				);
				assert.equal(res.status(), 200);
				assert.ok(isJpeg(await res.body()));
				const bad = await page.request.get(`${gallery.url}/p/bad%20code/download/${ids[0]}`);
				assert.equal(bad.status(), 400);
			});
		}

		it('share link uses Web Share or copies the link', async () => {
			await page.goto(`${gallery.url}/p/${code}`);
			await waitForHydration(page);
			await page.click('.share a');
			const expected = `${gallery.url}/p/${code}`;
			if (kind === 'phone') {
				const shared = await page.evaluate(() => window.__shared);
				assert.equal(shared.length, 1);
				assert.equal(shared[0].url, expected);
			} else {
				await page.waitForSelector('.share [role=status]:has-text("Link copied")');
				assert.equal(await page.evaluate(() => navigator.clipboard.readText()), expected);
			}
			assert.equal(page.url(), expected);
		});

		it('an unknown code shows the empty state', async () => {
			await page.goto(gallery.url);
			await waitForHydration(page);
			await page.fill('#code', backend.unknownCode);
			await page.press('#code', 'Enter');
			await page.waitForURL(`${gallery.url}/p/${backend.unknownCode}`);
			await page.waitForSelector('.empty');
			assert.equal(
				(await page.textContent('.empty p'))?.trim(),
				`No photos for ${backend.unknownCode} yet — photos appear as the photographers upload them.`
			);
			assert.equal(await page.$$eval('a.thumb', (e) => e.length), 0);
			await screenshot(page, `empty-${kind}`);
		});

		it('a malformed code is rejected with a message', async () => {
			await page.goto(gallery.url);
			await waitForHydration(page);
			await page.fill('#code', 'bad code!');
			await page.click('button[type=submit]');
			const error = page.locator('#code-error');
			await error.waitFor();
			assert.match((await error.textContent()) ?? '', /can’t be part of a bib number/);
			assert.equal(await page.getAttribute('#code', 'aria-invalid'), 'true');
			assert.equal(page.url(), `${gallery.url}/`);
			assert.equal(await page.getAttribute('#code', 'pattern'), '\\s*[A-Za-z0-9_.\\-]{1,64}\\s*');
			await screenshot(page, `invalid-code-form-${kind}`);

			const res = await page.goto(`${gallery.url}/p/${encodeURIComponent('bad code!')}`);
			assert.equal(res?.status(), 400);
			assert.match((await page.textContent('.problem .message')) ?? '', /can’t be part of a bib number/);
			await screenshot(page, `invalid-code-page-${kind}`);

			const tooLong = await page.goto(`${gallery.url}/p/${'9'.repeat(65)}`);
			assert.equal(tooLong?.status(), 400);
		});
	});
}
