import { env } from '$env/dynamic/private';
import { error } from '@sveltejs/kit';
import { findParticipantImage } from '$lib/server/api';
import { apiOptions, clientAddressOf, galleryErrorFrom, requireCode } from '$lib/server/gallery';
import { downloadFilename, sniffImageType } from '$lib/server/download';
import { themeFromEnv } from '$lib/server/theme';
import type { RequestHandler } from './$types';

const UPSTREAM_TIMEOUT_MS = 60_000;

/**
 * Download one photo as an attachment: /p/{code}/download/{id}
 *
 * The full-size image is usually on another origin (CDN, presigned S3), where a
 * `download` attribute is ignored. This route looks the id up in the daemon's
 * answer for this code and streams the URL the daemon returned; it never takes
 * a URL from the request.
 */
export const GET: RequestHandler = async (event) => {
	const { params, fetch, locals } = event;
	if (params.id.length === 0 || params.id.length > 256) error(404, 'No such photo.');
	let code: string;
	let found: Awaited<ReturnType<typeof findParticipantImage>>;
	try {
		code = requireCode(params.code);
		found = await findParticipantImage(apiOptions(fetch, clientAddressOf(event)), code, params.id);
	} catch (e) {
		const ge = galleryErrorFrom(e, `download ${params.code}/${params.id}`);
		if (ge.retryAfter) locals.retryAfter = ge.retryAfter;
		error(ge.status, ge.message);
	}
	if (!found) error(404, `Photo not found for ${code}.`);

	let upstream: Response;
	try {
		upstream = await fetch(found.image.fullsizeUrl, {
			signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
			headers: { accept: 'image/jpeg,image/*;q=0.8' }
		});
	} catch (e) {
		console.error(`[gallery] download ${code}/${found.image.id}: fetch failed:`, (e as Error)?.message ?? e);
		error(502, 'The photo could not be fetched right now. Please try again.');
	}
	if (!upstream.ok || !upstream.body) {
		console.error(`[gallery] download ${code}/${found.image.id}: upstream answered ${upstream.status}`);
		upstream.body?.cancel().catch(() => {});
		error(502, 'The photo could not be fetched right now. Please try again.');
	}

	// Read the first chunk to check the file really is an image.
	const reader = upstream.body.getReader();
	let first: Uint8Array = new Uint8Array();
	try {
		while (first.length < 12) {
			const { done, value } = await reader.read();
			if (done) break;
			const joined = new Uint8Array(first.length + value.length);
			joined.set(first);
			joined.set(value, first.length);
			first = joined;
		}
	} catch (e) {
		console.error(`[gallery] download ${code}/${found.image.id}: read failed:`, (e as Error)?.message ?? e);
		error(502, 'The photo could not be fetched right now. Please try again.');
	}
	const type = sniffImageType(first);
	if (!type) {
		reader.cancel().catch(() => {});
		console.error(`[gallery] download ${code}/${found.image.id}: upstream body is not a JPEG/PNG/WebP image`);
		error(502, 'The photo could not be fetched right now. Please try again.');
	}

	const body = new ReadableStream<Uint8Array>({
		start(controller) {
			if (first.length) controller.enqueue(first);
		},
		async pull(controller) {
			try {
				const { done, value } = await reader.read();
				if (done) controller.close();
				else controller.enqueue(value);
			} catch (e) {
				controller.error(e);
			}
		},
		cancel(reason) {
			return reader.cancel(reason);
		}
	});

	const filename = downloadFilename(themeFromEnv(env).raceName, code, found.index, type.extension);
	const headers = new Headers({
		'content-type': type.mime,
		'content-disposition': `attachment; filename="${filename}"`,
		'cache-control': 'private, no-store',
		'x-content-type-options': 'nosniff'
	});
	const length = upstream.headers.get('content-length');
	if (length && /^\d+$/.test(length) && !upstream.headers.get('content-encoding')) {
		headers.set('content-length', length);
	}
	return new Response(body, { status: 200, headers });
};
