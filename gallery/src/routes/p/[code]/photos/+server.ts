import { json } from '@sveltejs/kit';
import { clientAddressOf, GalleryError, loadPhotoPage } from '$lib/server/gallery';
import { etagMatches, pageEtag } from '$lib/server/etag';
import type { RequestHandler } from './$types';

/** Photos a live poll asks for at once (the daemon's largest page). */
const LIVE_LIMIT = 500;

/**
 * JSON of a participant's photos: /p/{code}/photos?cursor=… for the "load
 * more" button, /p/{code}/photos?live=1 for the live poll of an open page
 * (up to 500 photos from the first). Both carry an ETag; a request with a
 * matching If-None-Match gets 304 without a body, so a poll that finds
 * nothing new costs a few bytes.
 */
export const GET: RequestHandler = async (event) => {
	const { params, url, fetch, request } = event;
	const live = url.searchParams.get('live') === '1';
	try {
		const page = await loadPhotoPage(
			params.code,
			live ? null : url.searchParams.get('cursor'),
			fetch,
			clientAddressOf(event),
			live ? LIVE_LIMIT : undefined
		);
		const etag = pageEtag(page);
		const headers = { etag, 'cache-control': 'private, no-cache' };
		if (etagMatches(request.headers.get('if-none-match'), etag)) return new Response(null, { status: 304, headers });
		return json(page, { headers });
	} catch (e) {
		const status = e instanceof GalleryError ? e.status : 502;
		const message = e instanceof GalleryError ? e.message : 'Something went wrong.';
		const code = status === 400 ? 'bad_request' : status === 429 ? 'rate_limited' : 'upstream_error';
		const headers: Record<string, string> = {};
		if (e instanceof GalleryError && e.retryAfter) headers['retry-after'] = String(e.retryAfter);
		return json({ error: { code, message } }, { status, headers });
	}
};
