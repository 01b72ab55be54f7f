import type { Handle, HandleServerError } from '@sveltejs/kit';

const COMPRESSIBLE = /^(text\/html|application\/json|text\/plain)/;

export const handle: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);

	const headers = new Headers(response.headers);
	if (!headers.has('x-content-type-options')) headers.set('x-content-type-options', 'nosniff');
	if (!headers.has('referrer-policy')) headers.set('referrer-policy', 'strict-origin-when-cross-origin');
	if (!headers.has('x-frame-options')) headers.set('x-frame-options', 'DENY');
	// Photo URLs may be presigned and expire: never let error pages or
	// gallery pages be cached for long (routes set shorter values themselves).
	if (response.status >= 400) headers.set('cache-control', 'no-store');
	// The daemon's rate limit, passed on to the runner's browser.
	if (response.status === 429 && event.locals.retryAfter && !headers.has('retry-after')) {
		headers.set('retry-after', String(event.locals.retryAfter));
	}

	// Compress dynamic text responses (static assets are precompressed at build time).
	const type = headers.get('content-type') ?? '';
	const accepts = event.request.headers.get('accept-encoding') ?? '';
	if (
		response.body &&
		COMPRESSIBLE.test(type) &&
		/\bgzip\b/.test(accepts) &&
		!headers.has('content-encoding') &&
		event.request.method !== 'HEAD'
	) {
		headers.set('content-encoding', 'gzip');
		headers.delete('content-length');
		headers.append('vary', 'Accept-Encoding');
		return new Response(response.body.pipeThrough(new CompressionStream('gzip')), {
			status: response.status,
			statusText: response.statusText,
			headers
		});
	}
	return new Response(response.body, {
		status: response.status,
		statusText: response.statusText,
		headers
	});
};

export const handleError: HandleServerError = ({ error, event, status }) => {
	if (status !== 404) {
		console.error(`[gallery] ${event.request.method} ${event.url.pathname}:`, error);
	}
	return {
		message: status === 404 ? 'This page does not exist.' : 'Something went wrong on our side. Please try again.'
	};
};
