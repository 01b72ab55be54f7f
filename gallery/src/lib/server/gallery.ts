/**
 * Glue between routes and the daemon API: read settings, call the API, turn
 * the result into what the pages render, and map failures to HTTP statuses.
 */
import { env } from '$env/dynamic/private';
import { checkCode } from '$lib/code';
import { parseCursor } from '$lib/cursor';
import type { Photo, PhotoPage } from '$lib/types';
import { ApiError, getParticipantPage, type ApiClientOptions, type ApiImage } from './api';
import { apiBaseUrlFromEnv, pageSizeFromEnv, timeZoneFromEnv, webpFromEnv } from './config';

export const MESSAGES = {
	unavailable:
		'The photo service is not answering right now. Your photos are safe — please try again in a minute.',
	staleCursor: 'That link to more photos has expired. Start again from the first photos.'
} as const;

/** "6 seconds", "1 minute", "3 minutes": a wait a person reads. */
export function waitText(seconds: number): string {
	const s = Math.max(1, Math.ceil(seconds));
	if (s < 60) return s === 1 ? '1 second' : `${s} seconds`;
	const m = Math.ceil(s / 60);
	return m === 1 ? '1 minute' : `${m} minutes`;
}

/** The 429 page's message: why, and how long to wait. */
export function rateLimitedMessage(seconds: number): string {
	return (
		`You have looked up several bib numbers without photos in a short time. ` +
		`To keep runners’ photos private, the gallery asks you to wait ${waitText(seconds)} before the next try.`
	);
}

/** The claim form's message when the daemon limits claims. */
export function claimsLimitedMessage(seconds: number): string {
	return `You have sent several claims in a short time. Please wait ${waitText(seconds)} before sending another.`;
}

/** An error the routes turn into an HTTP response (status + message for people). */
export class GalleryError extends Error {
	constructor(
		readonly status: number,
		message: string,
		/** Seconds for a Retry-After header (429 only). */
		readonly retryAfter: number | null = null
	) {
		super(message);
	}
}

/** The runner's address for X-Forwarded-For; null when the adapter cannot tell. */
export function clientAddressOf(event: { getClientAddress(): string }): string | null {
	try {
		return event.getClientAddress();
	} catch {
		return null;
	}
}

export function apiOptions(fetchImpl?: typeof fetch, clientAddress: string | null = null): ApiClientOptions {
	return { baseUrl: apiBaseUrlFromEnv(env), fetch: fetchImpl, clientAddress };
}

export function formatTime(iso: string | null, timeZone: string): string | null {
	if (!iso) return null;
	try {
		return new Intl.DateTimeFormat('en-GB', {
			timeZone,
			hour: '2-digit',
			minute: '2-digit',
			second: '2-digit',
			hourCycle: 'h23'
		}).format(new Date(iso));
	} catch {
		return null;
	}
}

export function toPhoto(image: ApiImage, timeZone: string): Photo {
	return {
		id: image.id,
		takenAt: image.takenAt,
		takenLabel: formatTime(image.takenAt, timeZone),
		thumbnailUrl: image.thumbnailUrl,
		fullsizeUrl: image.fullsizeUrl,
		width: image.width,
		height: image.height,
		thumbnailWidth: image.thumbnailWidth,
		thumbnailHeight: image.thumbnailHeight,
		thumbnailWebpUrl: webpFromEnv(env) ? image.thumbnailWebpUrl : null,
		fullsizeWebpUrl: webpFromEnv(env) ? image.fullsizeWebpUrl : null
	};
}

/** Validate the code (throws GalleryError 400) and return it normalised. */
export function requireCode(raw: string): string {
	const check = checkCode(raw);
	if (!check.ok) throw new GalleryError(400, check.message);
	return check.code;
}

function logApiError(context: string, e: ApiError) {
	console.error(`[gallery] ${context}: ${e.kind}: ${e.message}`);
}

/** Map an API failure to a GalleryError (400 for a bad code or cursor, 502 otherwise). */
export function galleryErrorFrom(e: unknown, context: string): GalleryError {
	if (e instanceof GalleryError) return e;
	if (e instanceof ApiError) {
		logApiError(context, e);
		if (e.kind === 'rate_limited') {
			const wait = e.retryAfter ?? 60;
			return new GalleryError(429, rateLimitedMessage(wait), wait);
		}
		if (e.kind === 'invalid_code') {
			return new GalleryError(400, e.message || 'That is not a valid bib number.');
		}
		if (e.kind === 'rejected' && e.status === 400) {
			return new GalleryError(400, MESSAGES.staleCursor);
		}
		return new GalleryError(502, MESSAGES.unavailable);
	}
	console.error(`[gallery] ${context}:`, e);
	return new GalleryError(502, MESSAGES.unavailable);
}

/** Load one page of photos for a raw code and raw `cursor` query value. */
export async function loadPhotoPage(
	rawCode: string,
	rawCursor: string | null,
	fetchImpl?: typeof fetch,
	clientAddress: string | null = null,
	limit?: number
): Promise<PhotoPage> {
	const code = requireCode(rawCode);
	const cursor = parseCursor(rawCursor);
	if (!cursor.ok) throw new GalleryError(400, MESSAGES.staleCursor);
	try {
		const page = await getParticipantPage(apiOptions(fetchImpl, clientAddress), code, {
			limit: limit ?? pageSizeFromEnv(env),
			cursor: cursor.cursor
		});
		const timeZone = timeZoneFromEnv(env);
		return {
			code,
			photos: page.images.map((img) => toPhoto(img, timeZone)),
			nextCursor: page.nextCursor,
			registered: page.registered,
			suggestions: cursor.cursor ? [] : page.suggestions
		};
	} catch (e) {
		throw galleryErrorFrom(e, `participant ${code}`);
	}
}
