import { env } from '$env/dynamic/private';
import { error } from '@sveltejs/kit';
import { parseCursor } from '$lib/cursor';
import { ApiError, getPhotographers, getPhotos, type ApiPhotographer } from '$lib/server/api';
import { apiOptions, clientAddressOf, galleryErrorFrom, toPhoto } from '$lib/server/gallery';
import { pageSizeFromEnv, timeZoneFromEnv } from '$lib/server/config';
import { formatAt, parseAt, parsePhotographer, step, windowAround } from '$lib/timeline';
import type { PageServerLoad } from './$types';

/** Where the time field starts: the race day at 09:00 when the date is known. */
function defaultAt(): string {
	const date = env.GALLERY_RACE_DATE?.trim() ?? '';
	return /^\d{4}-\d{2}-\d{2}$/.test(date) ? `${date}T09:00` : '';
}

/**
 * "Can't find yourself?": /browse?at=<time>&photographer=<name>&cursor=…
 * The photos (tagged or not) taken within ±10 minutes of a time the runner
 * chooses, optionally from one photographer (a place on the course). The
 * time is a wall-clock time, compared as the catalog does (the cameras'
 * clocks read as UTC), so GALLERY_TIMEZONE plays no part here.
 * Plain links and a GET form: it works without JavaScript.
 */
export const load: PageServerLoad = async (event) => {
	const { url, fetch, locals, setHeaders } = event;
	const timeZone = timeZoneFromEnv(env);
	const opts = apiOptions(fetch, clientAddressOf(event));
	const fail = (e: unknown, context: string): never => {
		const ge = galleryErrorFrom(e, context);
		if (ge.retryAfter) locals.retryAfter = ge.retryAfter;
		error(ge.status, ge.message);
	};

	let photographers: ApiPhotographer[] = [];
	try {
		photographers = await getPhotographers(opts);
	} catch (e) {
		// The filter is a help, not a must: without it the page still works.
		if (e instanceof ApiError && e.kind === 'rate_limited') fail(e, 'photographers');
		console.error(`[gallery] photographers: ${(e as Error)?.message ?? e}`);
	}

	const rawAt = url.searchParams.get('at');
	const photographer = parsePhotographer(url.searchParams.get('photographer'));
	const base = { photographers, photographer: photographer ?? null, problem: '' };
	if (rawAt === null || rawAt === '') return { ...base, at: defaultAt(), result: null };

	const at = parseAt(rawAt);
	const cursor = parseCursor(url.searchParams.get('cursor'));
	if (!at) return { ...base, at: rawAt.slice(0, 40), problem: 'Choose a date and a time, for example 3 May, 09:30.', result: null };
	if (photographer === undefined) return { ...base, at: formatAt(at), problem: 'Choose a photographer from the list.', result: null };
	if (!cursor.ok) error(400, 'That link to more photos has expired. Start again from the first photos.');

	const { from, to } = windowAround(at);
	try {
		const page = await getPhotos(opts, { from, to, order: 'asc', photographer, limit: Math.min(pageSizeFromEnv(env), 100), cursor: cursor.cursor });
		setHeaders({ 'cache-control': 'private, max-age=60' });
		return {
			...base,
			at: formatAt(at),
			result: {
				from: formatAt(from),
				to: formatAt(to),
				earlier: formatAt(step(at, -1)),
				later: formatAt(step(at, 1)),
				isFirstPage: !cursor.cursor,
				nextCursor: page.nextCursor,
				// Labels show the wall clock the runner searched by, not GALLERY_TIMEZONE.
				photos: page.images.map((img) => ({ ...toPhoto(img, timeZone), takenLabel: img.takenWall, photographer: img.photographer }))
			}
		};
	} catch (e) {
		fail(e, 'browse');
	}
	throw new Error('unreachable');
};
