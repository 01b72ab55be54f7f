import { env } from '$env/dynamic/private';
import { error, fail } from '@sveltejs/kit';
import { checkCode } from '$lib/code';
import { ApiError, getPhotos, postClaim } from '$lib/server/api';
import { apiOptions, claimsLimitedMessage, clientAddressOf, galleryErrorFrom, toPhoto } from '$lib/server/gallery';
import { timeZoneFromEnv } from '$lib/server/config';
import { formatAt, parseAt, parsePhotographer, windowAround } from '$lib/timeline';
import type { Photo } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

const PHOTO_ID = /^[0-9a-f]{32}$/;

/**
 * "This is me": /claim/{photo id}?at=&photographer= shows the photo (found
 * again in the window the runner came from: the gallery never takes a photo
 * URL from the request) and a form for the runner's code. Posting it asks
 * the daemon to queue a claim; an operator reviews it before the photo joins
 * the runner's page.
 */
export const load: PageServerLoad = async (event) => {
	const { params, url, fetch } = event;
	if (!PHOTO_ID.test(params.id)) error(404, 'No such photo.');
	const timeZone = timeZoneFromEnv(env);
	const at = parseAt(url.searchParams.get('at'));
	const photographer = parsePhotographer(url.searchParams.get('photographer')) ?? null;
	let photo: Photo | null = null;
	if (at) {
		try {
			const { from, to } = windowAround(at);
			const opts = apiOptions(fetch, clientAddressOf(event));
			let cursor: string | null = null;
			// A few pages at most: the window the runner came from.
			for (let i = 0; i < 5 && !photo; i++) {
				const page = await getPhotos(opts, { from, to, order: 'asc', photographer, limit: 100, cursor });
				const found = page.images.find((img) => img.id === params.id);
				if (found) photo = { ...toPhoto(found, timeZone), takenLabel: found.takenWall };
				if (!page.nextCursor) break;
				cursor = page.nextCursor;
			}
		} catch (e) {
			// The picture is a help; the claim works without it.
			console.error(`[gallery] claim ${params.id}: ${(e as Error)?.message ?? e}`);
		}
	}
	const back = at ? `/browse?${new URLSearchParams({ at: formatAt(at), ...(photographer !== null ? { photographer } : {}) })}` : '/browse';
	return { id: params.id, photo, back };
};

export const actions: Actions = {
	default: async (event) => {
		const { params, request, fetch, locals } = event;
		if (!PHOTO_ID.test(params.id)) error(404, 'No such photo.');
		const form = await request.formData();
		const raw = form.get('code');
		const check = checkCode(typeof raw === 'string' ? raw.slice(0, 200) : '');
		if (!check.ok) return fail(400, { code: check.code, message: check.message });
		try {
			const claim = await postClaim(apiOptions(fetch, clientAddressOf(event)), params.id, check.code);
			return { claimed: { code: claim.code, state: claim.state } };
		} catch (e) {
			if (e instanceof ApiError && e.kind === 'rate_limited') {
				const wait = e.retryAfter ?? 60;
				locals.retryAfter = wait;
				return fail(429, { code: check.code, message: claimsLimitedMessage(wait) });
			}
			if (e instanceof ApiError && e.status === 404) {
				return fail(404, { code: check.code, message: 'This photo is no longer in the gallery.' });
			}
			if (e instanceof ApiError && e.status === 400) {
				return fail(400, { code: check.code, message: e.message || 'The claim was not accepted.' });
			}
			const ge = galleryErrorFrom(e, `claim ${params.id}`);
			return fail(ge.status, { code: check.code, message: ge.message });
		}
	}
};
