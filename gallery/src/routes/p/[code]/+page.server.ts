import { env } from '$env/dynamic/private';
import { error, redirect } from '@sveltejs/kit';
import { checkCode, participantPath } from '$lib/code';
import { clientAddressOf, GalleryError, loadPhotoPage } from '$lib/server/gallery';
import { liveIntervalFromEnv } from '$lib/server/config';
import type { PageServerLoad } from './$types';

/** Position of the first photo on this page (only used for numbering on ?cursor= pages). */
function parseFrom(value: string | null): number {
	if (!value || !/^\d{1,7}$/.test(value)) return 0;
	return Number(value);
}

export const load: PageServerLoad = async (event) => {
	const { params, url, fetch, setHeaders, locals } = event;
	const check = checkCode(params.code);
	if (check.ok && check.code !== params.code) {
		// /p/a-7 → /p/A-7 (keep the query string)
		redirect(308, `${participantPath(check.code)}${url.search}`);
	}
	const cursor = url.searchParams.get('cursor');
	try {
		const page = await loadPhotoPage(params.code, cursor, fetch, clientAddressOf(event));
		// Short: photo URLs may be presigned and expire, and new photos keep arriving.
		setHeaders({ 'cache-control': 'private, max-age=60' });
		return {
			...page,
			isFirstPage: !cursor,
			from: cursor ? parseFrom(url.searchParams.get('from')) : 0,
			liveInterval: liveIntervalFromEnv(env),
			pageUrl: `${url.origin}${participantPath(page.code)}`
		};
	} catch (e) {
		if (e instanceof GalleryError) {
			if (e.retryAfter) locals.retryAfter = e.retryAfter;
			error(e.status, e.message);
		}
		throw e;
	}
};
