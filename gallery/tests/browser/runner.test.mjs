// Runner features on a desktop and a phone viewport, against the real daemon:
// "did you mean" for a mistyped code, the rate limit's polite 429 page (per
// runner, through X-Forwarded-For), WebP through <picture>, live updates of an
// open page, sharing tags and "Download all" as a ZIP.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startBackend } from './backend.mjs';
import {
	axeViolations,
	busiestParticipant,
	openBrowser,
	screenshot,
	startGallery,
	thumbnailIds,
	waitForHydration
} from './harness.mjs';

let backend;
let gallery;
let code;
let ids;

// The tests say which runner they are with this header (adapter-node's
// ADDRESS_HEADER), so each one has its own share of the daemon's limits.
const CLIENT_HEADER = 'x-test-client';
let nextClient = 10;
const newClient = () => ({ [CLIENT_HEADER]: `198.51.100.${nextClient++}` });

before(async () => {
	backend = await startBackend();
	gallery = await startGallery({ apiUrl: backend.apiUrl, env: { ADDRESS_HEADER: CLIENT_HEADER } });
	[code, ids] = busiestParticipant(backend.participants);
});

after(async () => {
	await gallery?.stop();
	await backend?.stop();
});

/** A code one digit swap away from `code` that has no photos. */
function typoOf(c) {
	for (let i = 0; i + 1 < c.length; i++) {
		if (c[i] !== c[i + 1]) {
			const t = c.slice(0, i) + c[i + 1] + c[i] + c.slice(i + 2);
			if (!backend.participants[t]) return t;
		}
	}
	throw new Error(`no swap typo for ${c}`);
}

function assertNoViolations(violations, where) {
	assert.deepEqual(violations, [], `serious/critical axe violations on ${where}:\n${JSON.stringify(violations, null, 2)}`);
}

for (const kind of ['desktop', 'phone']) {
	describe(`runner features (${kind})`, () => {
		let browser;
		let page;
		before(async () => {
			browser = await openBrowser(kind, { extraHTTPHeaders: newClient() });
			page = browser.page;
		});
		after(async () => browser?.close());

		it('a mistyped code suggests the code with photos, as a link', async () => {
			const typo = typoOf(code);
			await page.goto(`${gallery.url}/p/${typo}`);
			await waitForHydration(page);
			const text = (await page.textContent('.suggest'))?.replace(/\s+/g, ' ').trim();
			assert.equal(text, `No photos for ${typo}. Did you mean ${code} (${ids.length} photos)?`);
			assertNoViolations(await axeViolations(page), 'the suggestion');
			await screenshot(page, `did-you-mean-${kind}`);
			await page.click(`.suggest a:has-text("${code}")`);
			await page.waitForURL(`${gallery.url}/p/${code}`);
			assert.deepEqual(await thumbnailIds(page), ids);
		});

		it('thumbnails and the viewer use the WebP variants, with the JPEG as fallback', async () => {
			await page.goto(`${gallery.url}/p/${code}`);
			await waitForHydration(page);
			const pics = await page.$$eval('a.thumb picture', (els) =>
				els.map((p) => ({
					webp: p.querySelector('source[type="image/webp"]')?.getAttribute('srcset') ?? null,
					jpeg: p.querySelector('img')?.getAttribute('src') ?? null
				}))
			);
			assert.equal(pics.length, ids.length);
			for (const p of pics) {
				assert.match(p.webp ?? '', /^https?:\/\/.+\.webp/, 'a WebP source');
				assert.match(p.jpeg ?? '', /^https?:\/\/.+\.jpe?g/, 'a JPEG fallback');
			}
			await page.evaluate(() => Promise.all([...document.images].map((i) => i.decode().catch(() => {}))));
			const current = await page.$eval('a.thumb img', (img) => img.currentSrc);
			assert.equal(current, pics[0].webp, 'chromium shows the WebP');
			await page.click('a.thumb >> nth=0');
			await page.waitForFunction(() => document.querySelector('dialog[open] img.full')?.complete);
			const full = await page.$eval('dialog[open] img.full', (img) => img.currentSrc);
			assert.match(full, /\.webp/);
			await page.keyboard.press('Escape');
		});

		it('sharing tags: Open Graph and Twitter card with one of the photos', async () => {
			const res = await fetch(`${gallery.url}/p/${code}`);
			const html = await res.text();
			const meta = (attr, name) =>
				new RegExp(`<meta ${attr}="${name}" content="([^"]*)"`).exec(html)?.[1]?.replaceAll('&amp;', '&');
			assert.equal(meta('property', 'og:url'), `${gallery.url}/p/${code}`);
			assert.match(meta('property', 'og:title') ?? '', new RegExp(`bib ${code}`));
			assert.ok(meta('property', 'og:description'));
			assert.equal(meta('name', 'twitter:card'), 'summary_large_image');
			const image = meta('property', 'og:image') ?? '';
			assert.match(image, /^https?:\/\//, 'og:image is an absolute URL');
			const img = await fetch(image);
			assert.equal(img.status, 200, 'og:image can be fetched');
			const bytes = new Uint8Array(await img.arrayBuffer());
			assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff], 'og:image is a JPEG');
		});

		it('"Download all" gives a ZIP with every photo', async () => {
			await page.goto(`${gallery.url}/p/${code}`);
			await waitForHydration(page);
			const [download] = await Promise.all([page.waitForEvent('download'), page.click('a:has-text("Download all")')]);
			assert.match(download.suggestedFilename(), new RegExp(`^lakeside-city-marathon-2026-${code}\\.zip$`));
			const out = execFileSync(
				'python3',
				[
					'-c',
					`import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps([[i.filename, z.read(i)[:3].hex()] for i in z.infolist()]))`,
					await download.path()
				],
				{ encoding: 'utf8' }
			);
			const entries = JSON.parse(out);
			assert.equal(entries.length, ids.length);
			entries.forEach(([name, magic], i) => {
				assert.equal(name, `lakeside-city-marathon-2026-${code}-${String(i + 1).padStart(3, '0')}.jpg`);
				assert.equal(magic, 'ffd8ff');
			});
		});
	});
}

describe('live updates of an open page (desktop and phone)', () => {
	const browsers = [];
	after(async () => {
		for (const b of browsers) await b.close();
	});

	it('a new photo is offered as "1 new photo" and inserted when asked, polling at most every 15 s', async () => {
		const live = [];
		for (const kind of ['desktop', 'phone']) {
			const b = await openBrowser(kind, { extraHTTPHeaders: newClient() });
			browsers.push(b);
			const polls = [];
			b.page.on('response', (r) => {
				if (r.url().includes('/photos?live=1')) polls.push({ at: Date.now(), status: r.status() });
			});
			await b.page.goto(`${gallery.url}/p/${code}`);
			await waitForHydration(b.page);
			live.push({ kind, page: b.page, polls });
		}
		// A page in a background tab (Page Visibility API says hidden) does not poll.
		const hidden = await openBrowser('desktop', { extraHTTPHeaders: newClient() });
		browsers.push(hidden);
		const hiddenPolls = [];
		hidden.page.on('response', (r) => {
			if (r.url().includes('/photos?live=1')) hiddenPolls.push(Date.now());
		});
		await hidden.page.goto(`${gallery.url}/p/${code}`);
		await waitForHydration(hidden.page);
		const setVisibility = (state) =>
			hidden.page.evaluate((state) => {
				Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
				document.dispatchEvent(new Event('visibilitychange'));
			}, state);
		await setVisibility('hidden');
		const hiddenSince = Date.now();
		// Taken between the first two photos: it belongs in the middle of the grid.
		const [added] = await backend.addPhotos([
			{ file: 'start/IMG_0050.jpg', codes: [code], takenAt: '2026:05:03 08:10:00', seed: 50 }
		]);
		for (const { kind, page, polls } of live) {
			await page.waitForSelector('button.new-photos', { timeout: 90_000 });
			assert.equal((await page.textContent('button.new-photos'))?.trim(), '1 new photo — show');
			assert.deepEqual(await thumbnailIds(page), ids, 'the grid does not change by itself');
			assert.equal(await page.getAttribute('.live', 'aria-live'), 'polite');
			assertNoViolations(await axeViolations(page), `the new-photos notice (${kind})`);
			await screenshot(page, `live-notice-${kind}`, { fullPage: false });
			await page.click('button.new-photos');
			await page.waitForFunction((n) => document.querySelectorAll('a.thumb').length === n, ids.length + 1);
			assert.deepEqual(await thumbnailIds(page), [ids[0], added, ...ids.slice(1)]);
			await page.waitForFunction((id) => document.activeElement?.getAttribute('data-id') === id, added);
			assert.equal(await page.locator('button.new-photos').count(), 0);
			// At most one poll per 15 s, and unchanged answers are 304s.
			for (let i = 1; i < polls.length; i++) {
				assert.ok(polls[i].at - polls[i - 1].at >= 14_500, `polls ${polls[i].at - polls[i - 1].at} ms apart`);
			}
			assert.ok(polls.length >= 1);
		}
		// Another round with nothing new: the next poll is answered 304.
		const { page, polls } = live[0];
		const before = polls.length;
		await new Promise((r) => setTimeout(r, 16_000));
		assert.ok(polls.length > before, 'it keeps polling');
		assert.equal(polls.at(-1).status, 304);

		assert.ok(Date.now() - hiddenSince > 20_000);
		assert.deepEqual(hiddenPolls, [], 'a hidden page does not poll');
		// Shown again after more than an interval: it polls at once and offers the photo.
		await setVisibility('visible');
		await hidden.page.waitForSelector('button.new-photos', { timeout: 5000 });
		assert.equal(hiddenPolls.length, 1);
	});
});

describe('rate limit (per runner, through the gallery)', () => {
	it('too many lookups that find nothing give a polite 429 page with Retry-After; another runner is not slowed', async () => {
		const runner = newClient();
		let res;
		for (let i = 0; i < 30; i++) {
			res = await fetch(`${gallery.url}/p/NOPE${i}`, { headers: runner });
			if (res.status === 429) break;
			assert.equal(res.status, 200);
		}
		assert.equal(res.status, 429, 'the daemon limits lookups that find nothing');
		const wait = Number(res.headers.get('retry-after'));
		assert.ok(wait >= 1 && wait <= 3600, `Retry-After ${res.headers.get('retry-after')}`);
		const html = await res.text();
		assert.match(html, /Please wait a moment/);
		assert.match(html, new RegExp(`wait ${wait} seconds?|wait \\d+ minutes?`));

		// The same runner typing a code with photos is not blocked.
		assert.equal((await fetch(`${gallery.url}/p/${code}`, { headers: runner })).status, 200);
		// Another runner behind the same gallery still gets answers.
		assert.equal((await fetch(`${gallery.url}/p/NOPE-OTHER`, { headers: newClient() })).status, 200);

		for (const kind of ['desktop', 'phone']) {
			const b = await openBrowser(kind, { extraHTTPHeaders: runner });
			try {
				const r = await b.page.goto(`${gallery.url}/p/NOPE-AGAIN`);
				assert.equal(r?.status(), 429);
				await waitForHydration(b.page);
				assert.equal((await b.page.textContent('h1'))?.trim(), 'Please wait a moment');
				assertNoViolations(await axeViolations(b.page), `the 429 page (${kind})`);
				await screenshot(b.page, `rate-limited-${kind}`);
			} finally {
				await b.close();
			}
		}
	});
});
