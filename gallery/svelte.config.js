import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		// precompress: static assets are served as .br/.gz by the node server
		adapter: adapter({ precompress: true }),
		// Server-side rendering needs no inline script beyond SvelteKit's bootstrap;
		// keep the page small by inlining tiny stylesheets.
		inlineStyleThreshold: 4096
	}
};

export default config;
