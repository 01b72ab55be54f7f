// When the daemon is down the gallery answers 502 with a friendly page.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackend } from './backend.mjs';
import {
	axeViolations,
	busiestParticipant,
	openBrowser,
	screenshot,
	startGallery,
	waitForHydration
} from './harness.mjs';

let backend;
let gallery;
let code;
let ids;

before(async () => {
	backend = await startBackend();
	gallery = await startGallery({ apiUrl: backend.apiUrl });
	[code, ids] = busiestParticipant(backend.participants);
});

after(async () => {
	await gallery?.stop();
	await backend?.stop();
});

describe('photo API stopped', () => {
	before(async () => {
		const res = await fetch(`${gallery.url}/p/${code}`);
		assert.equal(res.status, 200, 'the gallery works before the API is stopped');
		await backend.stopApi();
	});

	for (const kind of ['desktop', 'phone']) {
		it(`the participant page is a friendly 502 page (${kind})`, async () => {
			const browser = await openBrowser(kind);
			try {
				const { page } = browser;
				const res = await page.goto(`${gallery.url}/p/${code}`);
				assert.equal(res?.status(), 502);
				await waitForHydration(page);
				assert.equal((await page.textContent('h1'))?.trim(), 'Photos can’t be loaded right now');
				const text = (await page.textContent('main')) ?? '';
				assert.match(text, /try again/i);
				assert.doesNotMatch(text, /ECONNREFUSED|fetch failed|\bat .+:\d+:\d+|Error: /);
				assert.ok(await page.locator('a:has-text("Try again")').isVisible());
				assertNoSeriousViolations(await axeViolations(page));
				await screenshot(page, `api-down-${kind}`);

				// Entering a code from the landing page ends on the same page.
				await page.goto(gallery.url);
				await waitForHydration(page);
				await page.fill('#code', code);
				await page.click('button[type=submit]');
				await page.waitForSelector('h1:has-text("Photos can’t be loaded right now")');
			} finally {
				await browser.close();
			}
		});
	}

	it('download and load-more answer 502 too, the landing page and health check still work', async () => {
		const dl = await fetch(`${gallery.url}/p/${code}/download/${ids[0]}`);
		assert.equal(dl.status, 502);
		const more = await fetch(`${gallery.url}/p/${code}/photos?cursor=abc`);
		assert.equal(more.status, 502);
		assert.equal((await more.json()).error.code, 'upstream_error');
		assert.equal((await fetch(gallery.url)).status, 200);
		assert.equal((await fetch(`${gallery.url}/healthz`)).status, 200);
	});
});

function assertNoSeriousViolations(violations) {
	assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
}
