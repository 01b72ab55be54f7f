// An operator runs the race from the console: the dashboard, tagging an
// untagged photo with the keyboard alone (and the runner finds it), failed
// photos and deleting one, a runner's claim approved, a camera clock offset,
// reprocess and clear with live progress, photographer credentials, the audit
// trail. A photographer's session reaches none of it.
// Every page is checked with axe on a desktop and a phone.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { imageId, makePhotos, uploadPhotos } from '../../test/integration/lib/photos.mjs';
import { REPO_ROOT, listKeys, startBackend, waitFor } from './lib/backend.mjs';
import { axeViolations, openBrowser, screenshot, signIn } from './lib/browser.mjs';

const TAGGING_JS_LIMIT = 100 * 1024;
let backend;
let dir;
const PHOTOS = [
	{ file: 'IMG_0001.jpg', codes: [], seed: 11 },
	{ file: 'IMG_0002.jpg', codes: [], seed: 12 },
	{ file: 'IMG_0003.jpg', codes: ['31000'], seed: 13 },
	{ file: 'IMG_0004.jpg', codes: ['31001'], seed: 14 }
].map((p) => ({ ...p, width: 1200, height: 800, takenAt: '2026:05:03 09:00:00', key: `race/cam1/${p.file}` }));
const BROKEN = 'race/cam1/IMG_9999.jpg';
const id = (key) => imageId(backend.bucket, key);

before(async () => {
	// A roster without 31001: the dashboard lists it among the codes on no roster.
	backend = await startBackend({ env: { PHOTOFINISH_ROSTER_CODES: '31000,31777,42424' } });
	dir = makePhotos(PHOTOS);
	await uploadPhotos(backend.stack, dir, PHOTOS);
	const { PutObjectCommand } = await import(path.join(REPO_ROOT, 'test/node_modules/@aws-sdk/client-s3/dist-cjs/index.js'));
	await backend.stack.s3.send(new PutObjectCommand({ Bucket: backend.bucket, Key: BROKEN, Body: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(500, 7)]) }));
	await waitFor(
		async () => {
			const s = (await backend.admin('GET', '/admin/status')).body;
			return s.counts.processed + s.counts.unmatched >= 4 && s.counts.failed >= 1;
		},
		{ timeoutMs: 180_000, intervalMs: 250, what: 'photos processed' }
	);
});

after(async () => {
	await backend?.stop();
	if (dir) rmSync(dir, { recursive: true, force: true });
});

async function participant(code) {
	const r = await fetch(`${backend.daemonUrl}/participants/${code}`);
	return (await r.json()).images.map((i) => i.id);
}

describe('operator on a desktop', () => {
	let b;
	let page;
	before(async () => {
		b = await openBrowser('desktop');
		page = b.page;
		await signIn(page, backend.url, backend.adminSecret);
	});
	after(async () => {
		assert.deepEqual(b?.cspViolations ?? [], [], 'no CSP violations');
		await b?.close();
	});

	test('the dashboard shows the race live', async () => {
		await page.waitForSelector('[data-testid=race]');
		const status = (await backend.admin('GET', '/admin/status')).body;
		assert.equal(await page.getByTestId('race').textContent(), status.race);
		assert.equal(await page.getByTestId('unmatched').textContent(), String(status.counts.unmatched));
		assert.equal(await page.getByTestId('failed').textContent(), String(status.counts.failed));
		assert.deepEqual(await axeViolations(page), [], 'axe: dashboard');
		await screenshot(page, 'operator-dashboard-desktop');
	});

	test('codes on no roster are listed and open in the tagging search', async () => {
		const link = page.getByTestId('unregistered').getByRole('link', { name: '31001' });
		await link.waitFor({ timeout: 30_000 });
		assert.equal(await page.getByTestId('unregistered').getByRole('link', { name: '31000' }).count(), 0, 'a roster code is not listed');
		assert.deepEqual(await axeViolations(page), [], 'axe: dashboard with the codes on no roster');
		await link.click();
		await page.getByRole('status').filter({ hasText: '1 photo for “31001”' }).waitFor();
		assert.equal(await page.getByLabel('Codes on this photo').inputValue(), '31001');
	});

	test('the tagging page loads at most 100 KB of JavaScript (gzip)', async () => {
		const fresh = await b.context.newPage();
		const scripts = new Map();
		fresh.on('response', async (r) => {
			if (r.request().resourceType() === 'script') scripts.set(r.url(), await r.body().catch(() => Buffer.alloc(0)));
		});
		await fresh.goto(`${backend.url}/console/#/tagging`);
		await fresh.waitForSelector('#codes');
		await fresh.waitForLoadState('networkidle');
		const total = [...scripts.values()].reduce((n, body) => n + gzipSync(body, { level: 9 }).length, 0);
		console.log(`tagging page: ${scripts.size} scripts, ${(total / 1024).toFixed(1)} KB gzip`);
		assert.ok(scripts.size > 0);
		assert.ok(total <= TAGGING_JS_LIMIT, `tagging page JS is ${total} bytes gzip`);
		await fresh.close();
	});

	test('an untagged photo is tagged with the keyboard alone, and the runner finds it', async () => {
		await page.goto(`${backend.url}/console/#/tagging`);
		await page.waitForSelector('#codes:focus');
		const first = await page.locator('[data-testid=stage] img').getAttribute('data-id');
		assert.ok([id(PHOTOS[0].key), id(PHOTOS[1].key)].includes(first), first);
		assert.deepEqual(await axeViolations(page), [], 'axe: tagging');
		// Zoom on the bib with keys, then back.
		await page.keyboard.press('+');
		await page.waitForSelector('figcaption:has-text("zoom 2×")');
		await page.keyboard.press('/');
		// Esc skips, ← comes back.
		await page.keyboard.press('Escape');
		await page.waitForFunction((f) => document.querySelector('[data-testid=stage] img')?.dataset.id !== f, first);
		await page.keyboard.press('ArrowLeft');
		await page.waitForFunction((f) => document.querySelector('[data-testid=stage] img')?.dataset.id === f, first);
		await page.keyboard.type('30001 a-7');
		const saved = page.waitForResponse((r) => r.url().endsWith(`/admin/images/${first}/codes`) && r.request().method() === 'PUT');
		await page.keyboard.press('Enter');
		assert.equal((await saved).status(), 200);
		await page.waitForFunction((f) => document.querySelector('[data-testid=stage] img')?.dataset.id !== f, first);
		assert.match(await page.getByTestId('status').textContent(), /Saved 30001, A-7/);
		await screenshot(page, 'operator-tagging-desktop');
		assert.deepEqual(await participant('30001'), [first]);
		assert.deepEqual(await participant('A-7'), [first]);
		const rec = (await backend.admin('GET', `/admin/images/${first}`)).body;
		assert.equal(rec.codesSource, 'manual');

		const galleryBuilt = existsSync(path.join(REPO_ROOT, 'gallery/build/index.js'));
		if (galleryBuilt) {
			const { startGallery } = await import(path.join(REPO_ROOT, 'gallery/tests/browser/harness.mjs'));
			const gallery = await startGallery({ apiUrl: backend.daemonUrl });
			try {
				const g = await b.context.newPage();
				await g.goto(`${gallery.url}/p/30001`);
				await g.waitForSelector(`a.thumb[data-id="${first}"]`);
				await g.close();
			} finally {
				await gallery.stop();
			}
		} else {
			console.log('gallery/build is missing: the runner side checked through GET /participants only');
		}
	});

	test('search by code, file name and id', async () => {
		await page.goto(`${backend.url}/console/#/tagging`);
		await page.waitForSelector('#codes:focus');
		for (const [q, key] of [
			['31000', PHOTOS[2].key],
			['IMG_0004.jpg', PHOTOS[3].key],
			[id(PHOTOS[3].key), PHOTOS[3].key]
		]) {
			await page.getByLabel('Find photos by code, file name or id').fill(q);
			await page.getByRole('button', { name: 'Find' }).click();
			await page.waitForFunction((want) => document.querySelector('[data-testid=stage] img')?.dataset.id === want, id(key));
		}
		// Correcting a tagged photo's codes: the field starts with them.
		assert.equal(await page.getByTestId('codes').inputValue(), '31001');
	});

	test('a runner\'s claim, approved on the claims page, joins their page', async () => {
		// A runner says "this is me" on a photo of 31000; the operator approves
		// it here and the photo joins the runner's page.
		const photo = id('race/cam1/IMG_0003.jpg');
		const claimed = await fetch(`${backend.daemonUrl}/claims`, {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ photo, code: '31777' })
		});
		assert.equal(claimed.status, 202, await claimed.text());
		assert.deepEqual(await participant('31777'), [], 'not applied before approval');
		await page.goto(`${backend.url}/console/#/claims`);
		await page.waitForSelector('h1:text("Claims")');
		const item = page.locator('.claims li', { hasText: '31777' });
		await item.waitFor();
		await item.getByRole('button', { name: 'Approve' }).click();
		await page.getByRole('status').filter({ hasText: 'Approved: code 31777' }).waitFor();
		await waitFor(async () => (await participant('31777')).includes(photo), { timeoutMs: 10_000, what: 'the approved claim on the runner\'s page' });
		await page.getByLabel('Show').selectOption('approved');
		await page.locator('.claims li', { hasText: '31777' }).waitFor();
	});

	test('failed photos show the reason; one is deleted with confirmation', async () => {
		await page.goto(`${backend.url}/console/#/failed`);
		const row = page.locator('[data-testid=failed-list] tr', { hasText: BROKEN });
		await row.waitFor();
		assert.match(await row.textContent(), /\w/);
		assert.deepEqual(await axeViolations(page), [], 'axe: failed');
		await row.getByRole('button', { name: /Delete/ }).click();
		assert.deepEqual(await axeViolations(page), [], 'axe: delete confirmation');
		await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
		await row.waitFor({ state: 'detached' });
		const rec = await backend.admin('GET', `/admin/images/${id(BROKEN)}`);
		assert.ok(rec.status === 404 || rec.body.status === 'deleted', `after delete: ${rec.status} ${JSON.stringify(rec.body)}`);
		assert.ok(!(await backend.admin('GET', '/admin/failed')).body.images.some((i) => i.id === id(BROKEN)));
		assert.equal((await listKeys(backend, BROKEN)).size, 0, 'the original is gone');
	});

	test('a camera clock offset is set from the dashboard and its photos reprocessed', async () => {
		await page.goto(`${backend.url}/console/#/dashboard`);
		const form = page.getByTestId('clock');
		await form.waitFor();
		await form.getByLabel('Photographer').selectOption('cam1');
		await form.getByLabel('Offset (seconds)').fill('-3600');
		await form.getByRole('button', { name: 'Set offset' }).click();
		await page.getByRole('status').filter({ hasText: "cam1's camera clock offset is -3600 s" }).waitFor();
		await page.waitForSelector('[data-testid=job][data-kind=reprocess][data-state=done]', { timeout: 60_000 });
		const status = (await backend.admin('GET', '/admin/status')).body;
		assert.equal(status.photographers.find((p) => p.name === 'cam1')?.offsetSeconds, -3600);
		await page.locator('[data-testid=photographers] tr', { hasText: '-3600 s' }).waitFor();
		assert.deepEqual(await axeViolations(page), [], 'axe: dashboard with a clock job');
	});

	test('reprocess and clear run with a live progress bar', async () => {
		await page.goto(`${backend.url}/console/#/operations`);
		await page.getByTestId('reprocess').click();
		const job = page.locator('[data-testid=job][data-kind=reprocess]');
		await job.waitFor();
		assert.equal(await job.locator('progress').count(), 1);
		await page.waitForSelector('[data-testid=job][data-kind=reprocess][data-state=done]', { timeout: 60_000 });
		assert.deepEqual(await axeViolations(page), [], 'axe: operations');

		const status = (await backend.admin('GET', '/admin/status')).body;
		await page.getByTestId('clear').click();
		const dialog = page.getByRole('dialog');
		const go = dialog.getByRole('button', { name: 'Clear' });
		assert.equal(await go.isDisabled(), true, 'not without the race name');
		await dialog.getByLabel(/Type the race name/).fill('wrong');
		assert.equal(await go.isDisabled(), true);
		await dialog.getByLabel(/Type the race name/).fill(status.race);
		await go.click();
		await page.waitForSelector('[data-testid=job][data-kind=clear][data-state=done]', { timeout: 60_000 });
		await screenshot(page, 'operator-operations-desktop');
		await waitFor(async () => (await backend.admin('GET', '/admin/status')).body.counts.unmatched === 0, { timeoutMs: 10_000, what: 'cleared' });
		assert.equal((await listKeys(backend, 'race/cam1/')).size, PHOTOS.length, 'the originals stay');
	});

	test('photographer credentials: created (the secret shown once), listed, revoked', async () => {
		await page.goto(`${backend.url}/console/#/credentials`);
		await page.getByLabel('Photographer').fill('carol');
		await page.getByRole('button', { name: 'Create credential' }).click();
		const secret = (await page.locator('.secret-value').textContent()).trim();
		assert.ok(secret.length >= 16);
		await page.locator('[data-testid=credentials] tr', { hasText: 'carol' }).waitFor();
		assert.deepEqual(await axeViolations(page), [], 'axe: credentials');
		const r = await fetch(`${backend.url}/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ credential: secret }) });
		assert.equal(r.status, 200, 'the new credential signs in');
		await page.getByRole('button', { name: 'Done, hide it' }).click();
		assert.equal(await page.locator('.secret-value').count(), 0);
		await page.getByRole('button', { name: 'Revoke carol' }).click();
		await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
		await page.locator('[data-testid=credentials] tr', { hasText: 'carol' }).waitFor({ state: 'detached' });
		const again = await fetch(`${backend.url}/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ credential: secret }) });
		assert.equal(again.status, 401, 'a revoked credential does not sign in');
	});

	test('the audit list and the claims page', async () => {
		await page.goto(`${backend.url}/console/#/audit`);
		await page.locator('[data-testid=audit] tr', { hasText: 'codes.set' }).waitFor();
		assert.deepEqual(await axeViolations(page), [], 'axe: audit');
		await page.goto(`${backend.url}/console/#/claims`);
		await page.waitForSelector('h1:text("Claims")');
		assert.deepEqual(await axeViolations(page), [], 'axe: claims');
	});
	test('clear with the originals needs the race and bucket names typed, then runs with progress', async () => {
		const status = (await backend.admin('GET', '/admin/status')).body;
		await page.goto(`${backend.url}/console/#/operations`);
		await page.getByTestId('reset').click();
		const dialog = page.getByRole('dialog', { name: 'Clear the race and its originals?' });
		const go = dialog.getByRole('button', { name: 'Clear everything' });
		await dialog.getByLabel(/Type the race name/).fill(status.race);
		assert.equal(await go.isDisabled(), true, 'not without the bucket name');
		await dialog.getByLabel(/Type the ingress bucket/).fill(status.ingressBucket);
		assert.deepEqual(await axeViolations(page), [], 'axe: clear confirmation');
		await go.click();
		await page.waitForSelector('[data-testid=job][data-kind=reset][data-state=done]', { timeout: 60_000 });
		assert.equal((await listKeys(backend, 'race/')).size, 0, 'the originals are gone');
	});
});

describe('photographer on a phone', () => {
	test('a photographer session cannot open admin pages nor call admin routes', async () => {
		const secret = await backend.credential('dave');
		const b = await openBrowser('phone');
		try {
			const page = b.page;
			const adminCalls = [];
			page.on('request', (r) => {
				if (new URL(r.url()).pathname.startsWith('/admin/')) adminCalls.push(r.url());
			});
			await signIn(page, backend.url, secret);
			await page.waitForSelector('h1:text("Upload photos")');
			assert.equal(await page.locator('header nav a').count(), 1, 'only the upload page in the menu');
			for (const p of ['dashboard', 'tagging', 'failed', 'operations', 'audit', 'credentials', 'claims']) {
				await page.goto(`${backend.url}/console/#/${p}`);
				await page.waitForSelector('[data-testid=forbidden]');
			}
			assert.deepEqual(await axeViolations(page), [], 'axe: not-for-you page on a phone');
			assert.deepEqual(adminCalls, [], 'the page asked the admin API nothing');
			const answers = await page.evaluate(async () => {
				const s = await (await fetch('/session', { credentials: 'same-origin' })).json();
				const h = { 'X-CSRF-Token': s.csrf, 'Content-Type': 'application/json' };
				const out = { role: s.role };
				out.status = (await fetch('/admin/status', { credentials: 'same-origin' })).status;
				out.unmatched = (await fetch('/admin/unmatched', { credentials: 'same-origin' })).status;
				out.reprocess = (await fetch('/admin/reprocess', { method: 'POST', headers: h, body: '{}', credentials: 'same-origin' })).status;
				out.credentials = (await fetch('/admin/credentials', { method: 'POST', headers: h, body: '{"photographer":"eve","expiresInDays":1}', credentials: 'same-origin' })).status;
				return out;
			});
			assert.deepEqual(answers, { role: 'upload', status: 403, unmatched: 403, reprocess: 403, credentials: 403 });
			const bearer = await fetch(`${backend.url}/admin/status`, { headers: { Authorization: `Bearer ${secret}` } });
			assert.ok(bearer.status === 401 || bearer.status === 403, `photographer secret as a bearer token: ${bearer.status}`);
			assert.deepEqual(b.cspViolations, [], 'no CSP violations');
		} finally {
			await b.close();
		}
	});

	test('operator pages on a phone pass axe', async () => {
		const b = await openBrowser('phone');
		try {
			const page = b.page;
			await page.goto(`${backend.url}/console/`);
			await page.getByLabel('Credential').fill('not-a-credential');
			await page.getByRole('button', { name: 'Sign in' }).click();
			await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
			assert.deepEqual(await axeViolations(page), [], 'axe: sign in on a phone');
			await screenshot(page, 'signin-phone');
			// Nothing of a credential is kept by the page.
			assert.deepEqual(await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]), [0, 0, '']);
			await signIn(page, backend.url, backend.adminSecret);
			assert.deepEqual(await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]), [0, 0, ''], 'the session cookie is HttpOnly; nothing in storage');
			for (const p of ['dashboard', 'tagging', 'failed', 'operations', 'audit', 'credentials', 'claims']) {
				await page.goto(`${backend.url}/console/#/${p}`);
				await page.waitForSelector('main h1');
				await page.waitForLoadState('networkidle');
				assert.deepEqual(await axeViolations(page), [], `axe: ${p} on a phone`);
			}
			await screenshot(page, 'operator-claims-phone');
			assert.deepEqual(b.cspViolations, [], 'no CSP violations');
		} finally {
			await b.close();
		}
	});
});
