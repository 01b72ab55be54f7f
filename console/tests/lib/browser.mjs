// Chromium through playwright-core (Debian's /usr/bin/chromium), axe-core,
// and the console's own helpers: sign in, collect CSP violations.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-results');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const VIEWPORTS = {
	desktop: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 },
	phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }
};

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** A fresh Chromium profile; `cspViolations` collects what the page's CSP refused. */
export async function openBrowser(kind) {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'console-chromium-'));
	const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM_PATH, headless: true, args: ARGS, ...VIEWPORTS[kind] });
	context.setDefaultTimeout(20_000);
	const cspViolations = [];
	const watch = (page) =>
		page.on('console', (m) => {
			if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
		});
	context.on('page', watch);
	for (const p of context.pages()) watch(p);
	const page = context.pages()[0] ?? (await context.newPage());
	return {
		context,
		page,
		cspViolations,
		async close() {
			await context.close().catch(() => {});
			rmSync(dir, { recursive: true, force: true });
		}
	};
}

export async function signIn(page, url, credential) {
	await page.goto(`${url}/console/`);
	await page.getByLabel('Credential').fill(credential);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.waitForSelector('header nav');
}

/** A fresh Chromium signed in with a photographer's credential, on the upload page. */
export async function openUploadPage(url, credential, kind = 'desktop') {
	const b = await openBrowser(kind);
	try {
		await signIn(b.page, url, credential);
		await b.page.waitForSelector('h1:text("Upload photos")');
		return b;
	} catch (e) {
		await b.close();
		throw e;
	}
}

/** Serious or critical axe-core violations on the current page. */
export async function axeViolations(page) {
	// Injected through the DevTools protocol: the page's CSP does not apply to it.
	await page.evaluate(AXE_SOURCE);
	const result = await page.evaluate(async () => {
		// @ts-ignore
		const r = await window.axe.run(document, { resultTypes: ['violations'] });
		return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
	});
	return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function screenshot(page, name) {
	mkdirSync(RESULTS_DIR, { recursive: true });
	await page.screenshot({ path: path.join(RESULTS_DIR, `${name}.png`), fullPage: true });
}
