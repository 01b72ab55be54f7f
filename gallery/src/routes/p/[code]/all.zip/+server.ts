import { env } from '$env/dynamic/private';
import { error } from '@sveltejs/kit';
import { getParticipantPage, type ApiImage } from '$lib/server/api';
import { apiOptions, clientAddressOf, galleryErrorFrom, requireCode } from '$lib/server/gallery';
import { downloadFilename, slugify, sniffImageType } from '$lib/server/download';
import { themeFromEnv } from '$lib/server/theme';
import { zipStream, type ZipEntry } from '$lib/server/zip';
import type { RequestHandler } from './$types';

/** Photos in one archive at most; a participant with more gets the first ones. */
export const _MAX_PHOTOS = 1000;
const PAGE = 500;
const PHOTO_TIMEOUT_MS = 60_000;

/**
 * "Download all": /p/{code}/all.zip, a ZIP of the code's full-size photos,
 * made while it is sent. The photo list comes from the daemon first (so a
 * bad code or a daemon outage is a proper error page); then one photo at a
 * time is fetched and passed through, so memory stays at one chunk. A photo
 * that cannot be fetched aborts the download (the browser reports it failed)
 * rather than giving a ZIP with a hole in it.
 */
export const GET: RequestHandler = async (event) => {
	const { params, fetch, locals } = event;
	let code: string;
	const images: ApiImage[] = [];
	try {
		code = requireCode(params.code);
		const opts = apiOptions(fetch, clientAddressOf(event));
		let cursor: string | null = null;
		while (images.length < _MAX_PHOTOS) {
			const page = await getParticipantPage(opts, code, { limit: PAGE, cursor });
			images.push(...page.images);
			if (!page.nextCursor || page.nextCursor === cursor) break;
			cursor = page.nextCursor;
		}
	} catch (e) {
		const ge = galleryErrorFrom(e, `zip ${params.code}`);
		if (ge.retryAfter) locals.retryAfter = ge.retryAfter;
		error(ge.status, ge.message);
	}
	if (images.length === 0) error(404, `No photos for ${code} yet.`);
	images.splice(_MAX_PHOTOS);
	const raceName = themeFromEnv(env).raceName;

	async function* entries(): AsyncIterable<ZipEntry> {
		for (const [i, image] of images.entries()) {
			const res = await fetch(image.fullsizeUrl, {
				signal: AbortSignal.timeout(PHOTO_TIMEOUT_MS),
				headers: { accept: 'image/jpeg,image/*;q=0.8' }
			});
			if (!res.ok || !res.body) {
				res.body?.cancel().catch(() => {});
				throw new Error(`photo ${image.id}: storage answered ${res.status}`);
			}
			const reader = res.body.getReader();
			const first = await reader.read();
			const head = first.value ?? new Uint8Array();
			const type = sniffImageType(head);
			if (!type) {
				reader.cancel().catch(() => {});
				throw new Error(`photo ${image.id}: not a JPEG/PNG/WebP image`);
			}
			const length = res.headers.get('content-length');
			async function* data(): AsyncIterable<Uint8Array> {
				if (head.length) yield head;
				if (first.done) return;
				for (;;) {
					const { done, value } = await reader.read();
					if (done) return;
					yield value;
				}
			}
			yield {
				name: downloadFilename(raceName, code, i, type.extension),
				modified: image.takenAt ? new Date(image.takenAt) : new Date(),
				sizeHint: length && /^\d+$/.test(length) && !res.headers.get('content-encoding') ? Number(length) : null,
				data: data()
			};
		}
	}

	const zip = zipStream(entries(), { maxEntries: _MAX_PHOTOS });
	const body = new ReadableStream<Uint8Array>({
		async pull(controller) {
			try {
				const { done, value } = await zip.next();
				if (done) controller.close();
				else controller.enqueue(value);
			} catch (e) {
				console.error(`[gallery] zip ${code}:`, (e as Error)?.message ?? e);
				controller.error(e);
			}
		},
		async cancel() {
			await zip.return(undefined);
		}
	});
	const name = `${slugify(raceName) || 'photos'}-${code.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_')}.zip`;
	return new Response(body, {
		headers: {
			'content-type': 'application/zip',
			'content-disposition': `attachment; filename="${name}"`,
			'cache-control': 'private, no-store',
			'x-content-type-options': 'nosniff'
		}
	});
};
