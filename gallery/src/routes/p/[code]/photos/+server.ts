import { json } from '@sveltejs/kit';
import { GalleryError, loadPhotoPage } from '$lib/server/gallery';
import type { RequestHandler } from './$types';

/**
 * Next page of photos for the "load more" button: /p/{code}/photos?cursor=…
 * Same data as the page's load function, as JSON.
 */
export const GET: RequestHandler = async ({ params, url, fetch }) => {
	try {
		const page = await loadPhotoPage(params.code, url.searchParams.get('cursor'), fetch);
		return json(page, { headers: { 'cache-control': 'private, max-age=60' } });
	} catch (e) {
		const status = e instanceof GalleryError ? e.status : 502;
		const message = e instanceof GalleryError ? e.message : 'Something went wrong.';
		return json({ error: { code: status === 400 ? 'bad_request' : 'upstream_error', message } }, { status });
	}
};
