// Shared helpers for the browser tests: start the built gallery, launch
// Debian's chromium through playwright-core, run axe-core, take screenshots.
// Nothing here knows about the back end (see backend.mjs).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const GALLERY_DIR = path.resolve(here, '../..');
export const RESULTS_DIR = path.join(GALLERY_DIR, 'test-results');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync'
];

export const VIEWPORTS = {
	desktop: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 },
	phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }
};

/** Theme the tests run the gallery with. */
export const TEST_THEME = {
	GALLERY_RACE_NAME: 'Lakeside City Marathon 2026',
	GALLERY_ACCENT_COLOR: '#0b5cad',
	GALLERY_RACE_DATE: '2026-05-03',
	GALLERY_FOOTER_TEXT: 'Photos by Finish Line Studio. Questions? Ask at the info tent.',
	GALLERY_TIMEZONE: 'Europe/Berlin'
};

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.on('error', reject);
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
	});
}

/**
 * Start the built gallery (`node build`) on a free port.
 * @param {{ apiUrl: string, env?: Record<string,string> }} options
 */
export async function startGallery({ apiUrl, env = {} }) {
	if (!existsSync(path.join(GALLERY_DIR, 'build', 'index.js'))) {
		throw new Error('gallery is not built: run `npm run build` first');
	}
	const port = await freePort();
	const logs = [];
	const child = spawn(process.execPath, ['build'], {
		cwd: GALLERY_DIR,
		env: {
			...process.env,
			NODE_ENV: 'production',
			PORT: String(port),
			HOST: '127.0.0.1',
			PHOTOFINISH_API_URL: apiUrl,
			// As in production: the public address (absolute links, form posts).
			ORIGIN: `http://127.0.0.1:${port}`,
			...TEST_THEME,
			...env
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	child.stdout.on('data', (d) => logs.push(String(d)));
	child.stderr.on('data', (d) => logs.push(String(d)));
	const exited = new Promise((resolve) => child.once('exit', resolve));

	const url = `http://127.0.0.1:${port}`;
	const deadline = Date.now() + 20_000;
	for (;;) {
		if (child.exitCode !== null) throw new Error(`gallery exited early:\n${logs.join('')}`);
		try {
			const res = await fetch(`${url}/healthz`);
			if (res.ok) break;
		} catch {
			/* not up yet */
		}
		if (Date.now() > deadline) {
			child.kill('SIGKILL');
			throw new Error(`gallery did not become healthy:\n${logs.join('')}`);
		}
		await new Promise((r) => setTimeout(r, 100));
	}

	return {
		url,
		logs: () => logs.join(''),
		async stop() {
			if (child.exitCode === null) {
				child.kill('SIGTERM');
				const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
				await exited;
				clearTimeout(timer);
			}
		}
	};
}

/**
 * Launch chromium with a fresh temporary profile.
 * @param {'desktop'|'phone'} kind
 * @param {import('playwright-core').BrowserContextOptions} [extra]
 */
export async function openBrowser(kind, extra = {}) {
	const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'gallery-chromium-'));
	const context = await chromium.launchPersistentContext(userDataDir, {
		executablePath: CHROMIUM_PATH,
		headless: true,
		args: CHROMIUM_ARGS,
		acceptDownloads: true,
		...VIEWPORTS[kind],
		...extra
	});
	context.setDefaultTimeout(15_000);
	// Cumulative layout shift, ignoring shifts right after user input.
	await context.addInitScript(() => {
		window.__cls = 0;
		try {
			new PerformanceObserver((list) => {
				for (const entry of list.getEntries()) {
					if (!entry.hadRecentInput) window.__cls += entry.value;
				}
			}).observe({ type: 'layout-shift', buffered: true });
		} catch {
			window.__cls = -1;
		}
	});
	const page = context.pages()[0] ?? (await context.newPage());
	return {
		context,
		page,
		async newPage() {
			return context.newPage();
		},
		async close() {
			await context.close().catch(() => {});
			rmSync(userDataDir, { recursive: true, force: true });
		}
	};
}

/** Wait until the page has hydrated (the root layout adds `js` to <html>). */
export async function waitForHydration(page) {
	await page.waitForFunction(() => document.documentElement.classList.contains('js'));
}

export async function screenshot(page, name, { fullPage = true } = {}) {
	mkdirSync(RESULTS_DIR, { recursive: true });
	await page.screenshot({ path: path.join(RESULTS_DIR, `${name}.png`), fullPage });
}

/** Serious or critical axe-core violations on the current page. */
export async function axeViolations(page) {
	await page.addScriptTag({ content: AXE_SOURCE });
	const result = await page.evaluate(async () => {
		// @ts-ignore
		const r = await window.axe.run(document, { resultTypes: ['violations'] });
		return r.violations.map((v) => ({
			id: v.id,
			impact: v.impact,
			help: v.help,
			nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5)
		}));
	});
	return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Ids of the thumbnails on the page, in page order. */
export function thumbnailIds(page) {
	return page.$$eval('a.thumb', (els) => els.map((e) => e.getAttribute('data-id')));
}

/** The participant with the most photos. */
export function busiestParticipant(participants) {
	return Object.entries(participants).sort((a, b) => b[1].length - a[1].length)[0];
}

export function isJpeg(bytes) {
	return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Close the photo viewer with Esc and wait until it is gone and focus is back on a thumbnail. */
export async function closeViewerWithEscape(page) {
	await page.keyboard.press('Escape');
	await page.waitForSelector('dialog', { state: 'detached' });
	await page.waitForFunction(() => document.activeElement?.classList.contains('thumb'));
}

/** Wait until the thumbnail of photo `id` has focus. */
export async function waitForThumbnailFocus(page, id) {
	await page.waitForFunction(
		(id) => document.activeElement?.classList.contains('thumb') && document.activeElement.getAttribute('data-id') === id,
		id,
		{ timeout: 5000 }
	);
}
