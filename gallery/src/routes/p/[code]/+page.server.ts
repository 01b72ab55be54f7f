import { error, redirect } from '@sveltejs/kit';
import { checkCode, participantPath } from '$lib/code';
import { GalleryError, loadPhotoPage } from '$lib/server/gallery';
import type { PageServerLoad } from './$types';

/** Position of the first photo on this page (only used for numbering on ?cursor= pages). */
function parseFrom(value: string | null): number {
	if (!value || !/^\d{1,7}$/.test(value)) return 0;
	return Number(value);
}

export const load: PageServerLoad = async ({ params, url, fetch, setHeaders }) => {
	const check = checkCode(params.code);
	if (check.ok && check.code !== params.code) {
		// /p/a-7 → /p/A-7 (keep the query string)
		redirect(308, `${participantPath(check.code)}${url.search}`);
	}
	const cursor = url.searchParams.get('cursor');
	try {
		const page = await loadPhotoPage(params.code, cursor, fetch);
		// Short: photo URLs may be presigned and expire, and new photos keep arriving.
		setHeaders({ 'cache-control': 'private, max-age=60' });
		return {
			...page,
			isFirstPage: !cursor,
			from: cursor ? parseFrom(url.searchParams.get('from')) : 0
		};
	} catch (e) {
		if (e instanceof GalleryError) error(e.status, e.message);
		throw e;
	}
};
