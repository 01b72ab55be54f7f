// Accessibility (axe-core), page weight and layout stability.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
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

const BUDGET_BYTES = 100 * 1024;

let backend;
let gallery;
let code;

before(async () => {
	backend = await startBackend();
	gallery = await startGallery({ apiUrl: backend.apiUrl });
	[code] = busiestParticipant(backend.participants);
});

after(async () => {
	await gallery?.stop();
	await backend?.stop();
});

function assertNoViolations(violations, where) {
	assert.deepEqual(violations, [], `serious/critical axe violations on ${where}:\n${JSON.stringify(violations, null, 2)}`);
}

for (const kind of ['desktop', 'phone']) {
	describe(`quality (${kind})`, () => {
		let browser;
		before(async () => {
			browser = await openBrowser(kind);
		});
		after(async () => browser?.close());

		it('axe-core finds no serious or critical violations', async () => {
			const { page } = browser;
			const pages = {
				landing: '/',
				participant: `/p/${code}`,
				empty: `/p/${backend.unknownCode}`,
				'invalid code': '/p?code=bad%20code',
				'not found': '/no/such/page',
				'photos by time': '/browse?at=2026-05-03T08%3A40',
				'this is me': `/claim/${backend.participants[code][0]}?at=2026-05-03T08%3A40`
			};
			for (const [name, path] of Object.entries(pages)) {
				await page.goto(`${gallery.url}${path}`);
				await waitForHydration(page);
				assertNoViolations(await axeViolations(page), name);
			}

			await page.goto(`${gallery.url}/p/${code}`);
			await waitForHydration(page);
			await page.click('a.thumb >> nth=0');
			await page.waitForSelector('dialog[open]');
			assertNoViolations(await axeViolations(page), 'the photo viewer');

			await page.goto(gallery.url);
			await waitForHydration(page);
			await page.fill('#code', 'bad code!');
			await page.click('button[type=submit]');
			await page.locator('#code-error').waitFor();
			assertNoViolations(await axeViolations(page), 'the form with an error');
		});

		it(`participant page: HTML + JS + CSS ≤ ${BUDGET_BYTES / 1024} KB gzip, no layout shift`, async (t) => {
			const page = await browser.newPage();
			const responses = [];
			page.on('response', (res) => {
				const type = res.request().resourceType();
				if (['document', 'script', 'stylesheet'].includes(type)) responses.push(res);
			});
			await page.goto(`${gallery.url}/p/${code}`, { waitUntil: 'networkidle' });
			await waitForHydration(page);

			let gzipTotal = 0;
			const rows = [];
			for (const res of responses) {
				const body = await res.body();
				const gz = gzipSync(body, { level: 9 }).length;
				gzipTotal += gz;
				rows.push(`${res.request().resourceType().padEnd(10)} ${String(body.length).padStart(7)} B raw ${String(gz).padStart(6)} B gzip  ${new URL(res.url()).pathname}`);
			}
			t.diagnostic(`participant page weight: ${gzipTotal} B gzip (${(gzipTotal / 1024).toFixed(1)} KB) in ${rows.length} responses`);
			for (const row of rows) t.diagnostic(row);
			assert.ok(responses.some((r) => r.request().resourceType() === 'document'));
			assert.ok(gzipTotal <= BUDGET_BYTES, `page weight ${gzipTotal} B gzip exceeds ${BUDGET_BYTES} B`);

			// Let every lazy thumbnail load, then read the layout shift score.
			await page.evaluate(async () => {
				window.scrollTo(0, document.body.scrollHeight);
				await new Promise((r) => setTimeout(r, 300));
				await Promise.all([...document.images].map((i) => i.decode().catch(() => {})));
				window.scrollTo(0, 0);
			});
			await page.waitForTimeout(300);
			const cls = await page.evaluate(() => window.__cls);
			const missing = await page.$$eval('img', (els) =>
				els.filter((e) => !e.getAttribute('width') || !e.getAttribute('height')).map((e) => e.outerHTML)
			);
			t.diagnostic(`cumulative layout shift: ${cls}`);
			assert.deepEqual(missing, [], 'every image has width and height attributes');
			assert.ok(cls >= 0 && cls < 0.01, `layout shift ${cls} ≥ 0.01`);
			await screenshot(page, `participant-loaded-${kind}`);
			await page.close();
		});
	});
}
