import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// A static app served by photofinishd at /console/ under a strict CSP
// (script-src 'self'; style-src 'self'): every script and style is a file,
// nothing inline, no module-preload polyfill injected into the page.
export default defineConfig({
	base: '/console/',
	plugins: [svelte()],
	build: {
		outDir: 'dist',
		emptyOutDir: true,
		target: 'es2022',
		modulePreload: { polyfill: false },
		assetsInlineLimit: 0,
		cssCodeSplit: true,
		reportCompressedSize: false
	}
});
