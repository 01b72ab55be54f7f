// Hash routes (#/upload, #/tagging, ...): the daemon serves one index.html at
// /console/ and needs no fallback for deep links.
export const route = $state({ path: currentPath(), query: currentQuery() });

function currentPath() {
	const h = location.hash.replace(/^#/, '');
	const p = h.split('?')[0];
	return p.startsWith('/') ? p : '/';
}

function currentQuery() {
	const h = location.hash.replace(/^#/, '');
	const i = h.indexOf('?');
	return new URLSearchParams(i >= 0 ? h.slice(i + 1) : '');
}

window.addEventListener('hashchange', () => {
	route.path = currentPath();
	route.query = currentQuery();
});

export function go(path) {
	location.hash = `#${path}`;
}
