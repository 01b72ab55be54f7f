// "Can't find yourself?": photos by time and place, and "This is me" claims,
// on a desktop and a phone viewport, with and without JavaScript, against the
// real daemon. Pages of 1 photo so the paging links are exercised too.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend } from './backend.mjs';
import { axeViolations, openBrowser, screenshot, startGallery, thumbnailIds, waitForHydration } from './harness.mjs';

let backend;
let gallery;
const byFile = {};

const CLIENT_HEADER = 'x-test-client';
let nextClient = 10;
const newClient = () => ({ [CLIENT_HEADER]: `203.0.113.${nextClient++}` });

// A race with a roster: 20001 is registered but has no photos yet.
const CLAIM_CODES = ['C10', 'C11', 'C20', 'C21', 'OTHER', ...Array.from({ length: 10 }, (_, i) => `R${i}`)];
const ROSTER = ['10423', '10577', 'A-7', '20001', ...CLAIM_CODES];

before(async () => {
	backend = await startBackend({ daemonEnv: { PHOTOFINISH_ROSTER_CODES: ROSTER.join(',') } });
	gallery = await startGallery({
		apiUrl: backend.apiUrl,
		env: { GALLERY_PAGE_SIZE: '1', ADDRESS_HEADER: CLIENT_HEADER }
	});
	for (const p of backend.photos) byFile[p.file] = p.id;
});

after(async () => {
	await gallery?.stop();
	await backend?.stop();
});

function assertNoViolations(violations, where) {
	assert.deepEqual(violations, [], `serious/critical axe violations on ${where}:\n${JSON.stringify(violations, null, 2)}`);
}

// The test photos' camera clocks read 08:02, 08:31, 08:47 and 09:14. The
// catalog compares those wall clocks (read as UTC), and so does /browse:
// GALLERY_TIMEZONE (Europe/Berlin here) does not move them.
for (const js of [true, false]) {
	for (const kind of ['desktop', 'phone']) {
		describe(`photos by time and place (${kind}, ${js ? 'with' : 'without'} JavaScript)`, () => {
			let browser;
			let page;
			before(async () => {
				browser = await openBrowser(kind, { javaScriptEnabled: js, extraHTTPHeaders: newClient() });
				page = browser.page;
			});
			after(async () => browser?.close());

			const ready = async () => {
				if (js) await waitForHydration(page);
			};
			// axe-core runs as a script: only with JavaScript (the same pages are checked there).
			const axe = async (where) => {
				if (js) assertNoViolations(await axeViolations(page), `${where} (${kind})`);
			};

			it('from an empty page to the photos around a time, earlier and later, page by page', async () => {
				await page.goto(`${gallery.url}/p/${backend.unknownCode}`);
				await ready();
				await Promise.all([page.waitForURL(/\/browse$/), page.click('a:has-text("Can’t find yourself?")')]);
				await ready();
				await axe('the browse form');
				await page.fill('#at', '2026-05-03T08:30');
				await Promise.all([page.waitForURL(/\/browse\?at=/), page.click('form.browse-form button[type=submit]')]);
				await ready();
				// 08:20–08:40: only the photo of 08:31:45, labelled with that time.
				assert.deepEqual(await thumbnailIds(page), [byFile['course/IMG_0102.jpg']]);
				assert.match((await page.textContent('h2.window')) ?? '', /08:20–08:40/);
				assert.equal((await page.textContent('.item time'))?.trim(), '08:31:45');
				await axe('the photos of a window');
				await screenshot(page, `browse-${kind}-${js ? 'js' : 'nojs'}`);

				await Promise.all([page.waitForURL(/at=2026-05-03T08%3A50/), page.click('a:has-text("20 minutes later")')]);
				assert.deepEqual(await thumbnailIds(page), [byFile['course/IMG_0150.jpg']]);
				await Promise.all([page.waitForURL(/at=2026-05-03T08%3A30/), page.click('a:has-text("20 minutes earlier")')]);
				await Promise.all([page.waitForURL(/at=2026-05-03T08%3A10/), page.click('a:has-text("20 minutes earlier")')]);
				assert.deepEqual(await thumbnailIds(page), [byFile['start/IMG_0001.jpg']]);

				// Two photos in 08:30–08:50, one per page.
				await page.goto(`${gallery.url}/browse?at=2026-05-03T08%3A40`);
				assert.deepEqual(await thumbnailIds(page), [byFile['course/IMG_0102.jpg']]);
				await Promise.all([page.waitForURL(/cursor=/), page.click('a:has-text("More photos from these 20 minutes")')]);
				assert.deepEqual(await thumbnailIds(page), [byFile['course/IMG_0150.jpg']]);
			});

			it('the photographer filter narrows the photos to one place', async () => {
				await page.goto(`${gallery.url}/browse?at=2026-05-03T08%3A10`);
				await ready();
				const options = await page.$$eval('#photographer option', (els) => els.map((e) => e.value));
				for (const name of ['*', 'course', 'finish', 'start']) assert.ok(options.includes(name), `option ${name} in ${options}`);
				await page.selectOption('#photographer', 'course');
				await Promise.all([page.waitForURL(/photographer=course/), page.click('form.browse-form button[type=submit]')]);
				assert.deepEqual(await thumbnailIds(page), []);
				assert.match((await page.textContent('main')) ?? '', /No photos were taken/);
				await page.goto(`${gallery.url}/browse?at=2026-05-03T08%3A10&photographer=start`);
				assert.deepEqual(await thumbnailIds(page), [byFile['start/IMG_0001.jpg']]);
			});

			it('"This is me" sends a claim and says an operator will review it', async () => {
				const code = `C${kind === 'phone' ? 1 : 2}${js ? 1 : 0}`;
				await page.goto(`${gallery.url}/browse?at=2026-05-03T08%3A30&photographer=course`);
				await ready();
				await Promise.all([page.waitForURL(/\/claim\//), page.click('a.claim >> nth=0')]);
				await ready();
				assert.equal(new URL(page.url()).pathname, `/claim/${byFile['course/IMG_0102.jpg']}`);
				assert.ok(await page.locator('.photo img').isVisible(), 'the photo being claimed is shown');
				await axe('the claim form');
				await page.fill('#claim-code', code.toLowerCase());
				await page.click('form.claim-form button[type=submit]');
				await page.waitForSelector('h1:has-text("Thank you")');
				assert.match((await page.textContent('.done')) ?? '', new RegExp(`bib ${code}\\. An operator will review it`));
				await axe('the claim confirmation');
				await screenshot(page, `claim-done-${kind}-${js ? 'js' : 'nojs'}`);
			});
		});
	}
}

// What a browser sends with a plain form post (an HTML answer, not SvelteKit's JSON one).
const FORM = { get origin() { return gallery.url; }, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' };

for (const kind of ['desktop', 'phone']) {
	describe(`a race with a roster (${kind})`, () => {
		let browser;
		before(async () => {
			browser = await openBrowser(kind, { extraHTTPHeaders: newClient() });
		});
		after(async () => browser?.close());

		it('a registered code without photos: "your photos are not in yet"; an unknown one: not a bib of this race', async () => {
			const { page } = browser;
			await page.goto(`${gallery.url}/p/20001`);
			await waitForHydration(page);
			assert.equal((await page.textContent('.empty h2'))?.trim(), 'Your photos are not in yet');
			assert.match((await page.textContent('.empty')) ?? '', /20001 is registered for this race/);
			assertNoViolations(await axeViolations(page), `registered, no photos (${kind})`);
			await screenshot(page, `roster-registered-${kind}`);
			await page.goto(`${gallery.url}/p/99999`);
			await waitForHydration(page);
			assert.equal((await page.textContent('.empty h2'))?.trim(), '99999 is not a bib number of this race');
			// A typo of a registered code with photos still gets its suggestion.
			await page.goto(`${gallery.url}/p/10432`);
			await waitForHydration(page);
			assert.match((await page.textContent('.suggest')) ?? '', /Did you mean\s+10423 \(4 photos\)\?/);
			assertNoViolations(await axeViolations(page), `not registered (${kind})`);
		});
	});
}

describe('claims are rate-limited per runner', () => {
	it('over the burst the runner gets a polite 429 with Retry-After', async () => {
		const runner = newClient();
		const photo = byFile['finish/IMG_0301.jpg'];
		let res;
		for (let i = 0; i < 10; i++) {
			res = await fetch(`${gallery.url}/claim/${photo}`, {
				method: 'POST',
				headers: { ...runner, ...FORM },
				body: `code=R${i}`
			});
			if (res.status === 429) break;
			assert.equal(res.status, 200);
		}
		assert.equal(res.status, 429);
		assert.ok(Number(res.headers.get('retry-after')) >= 1);
		assert.match(await res.text(), /sent several claims in a short time/);
		// Another runner can still claim.
		const other = await fetch(`${gallery.url}/claim/${photo}`, {
			method: 'POST',
			headers: { ...newClient(), ...FORM },
			body: 'code=OTHER'
		});
		assert.equal(other.status, 200);
	});

	it('an unknown photo is a 404 form answer, a malformed id a 404 page', async () => {
		const res = await fetch(`${gallery.url}/claim/${'0'.repeat(32)}`, {
			method: 'POST',
			headers: { ...newClient(), ...FORM },
			body: 'code=10423'
		});
		assert.equal(res.status, 404);
		assert.match(await res.text(), /no longer in the gallery/);
		assert.equal((await fetch(`${gallery.url}/claim/not-an-id`)).status, 404);
	});
});
