/**
 * Client for the photofinish daemon's public API:
 *   GET  {base}/participants/{code}?limit=N&cursor=C
 *   GET  {base}/photos?from=&to=&order=&photographer=&limit=&cursor=
 *   GET  {base}/photographers
 *   POST {base}/claims
 * Responses are validated here; nothing downstream trusts the raw JSON.
 * Every request carries the runner's address as X-Forwarded-For, because the
 * daemon rate-limits lookups per client and only sees the gallery otherwise.
 */
import { wallClock } from '$lib/timeline';

export interface ApiImage {
	id: string;
	takenAt: string | null;
	/** "09:31:45": the capture time's wall clock as the API wrote it (how the catalog compares times). */
	takenWall: string | null;
	thumbnailUrl: string;
	fullsizeUrl: string;
	width: number;
	height: number;
	thumbnailWidth: number;
	thumbnailHeight: number;
	codes: string[];
	/** WebP variants of the same pictures, when the daemon made them. */
	thumbnailWebpUrl: string | null;
	fullsizeWebpUrl: string | null;
	/** Who took it (first folder of the upload key), or null when not reported. */
	photographer: string | null;
}

/** A code with photos one edit away from a code that has none. */
export interface ApiSuggestion {
	code: string;
	photos: number;
}

export interface ApiParticipantPage {
	participant: string;
	images: ApiImage[];
	nextCursor: string | null;
	/** true/false when the race has a roster, null otherwise (or when not reported). */
	registered: boolean | null;
	suggestions: ApiSuggestion[];
}

export interface ApiPhotosPage {
	images: ApiImage[];
	nextCursor: string | null;
}

export interface ApiPhotographer {
	name: string;
	photos: number;
}

export interface ApiClaim {
	id: string;
	photo: string;
	code: string;
	state: string;
	at: string | null;
}

export type ApiErrorKind =
	/** The daemon rejected the code (400 invalid_code). */
	| 'invalid_code'
	/** Any other 4xx from the daemon (e.g. a cursor it no longer accepts). */
	| 'rejected'
	/** 429 rate_limited: too many lookups that found nothing from this client. */
	| 'rate_limited'
	/** Network error, timeout, 5xx, or no API configured. */
	| 'unavailable'
	/** The daemon answered 2xx with something that is not the contract. */
	| 'bad_response';

export class ApiError extends Error {
	readonly kind: ApiErrorKind;
	readonly status: number | null;
	readonly apiCode: string | null;
	/** Seconds to wait, from Retry-After (only for rate_limited). */
	readonly retryAfter: number | null;

	constructor(
		kind: ApiErrorKind,
		message: string,
		status: number | null = null,
		apiCode: string | null = null,
		retryAfter: number | null = null
	) {
		super(message);
		this.name = 'ApiError';
		this.kind = kind;
		this.status = status;
		this.apiCode = apiCode;
		this.retryAfter = retryAfter;
	}
}

type Fetch = typeof fetch;

export interface ApiClientOptions {
	/** Base URL without trailing slash, e.g. http://photofinishd:8080 */
	baseUrl: string | null;
	fetch?: Fetch;
	timeoutMs?: number;
	/** The runner's address, sent as X-Forwarded-For (the daemon limits per client). */
	clientAddress?: string | null;
}

const MAX_ID_LENGTH = 256;
const MAX_URL_LENGTH = 8192;
const MAX_CURSOR_LENGTH = 1024;
const MAX_DIMENSION = 100_000;
const MAX_SUGGESTIONS = 5;
/** Longest wait the gallery shows; a larger Retry-After is capped (one hour). */
export const MAX_RETRY_AFTER = 3600;

function isRecord(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isDimension(v: unknown): v is number {
	return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= MAX_DIMENSION;
}

function absoluteHttpUrl(v: unknown): string | null {
	if (typeof v !== 'string' || v.length === 0 || v.length > MAX_URL_LENGTH) return null;
	try {
		const url = new URL(v);
		return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
	} catch {
		return null;
	}
}

/**
 * Parse one image object. Returns null for an entry that cannot be shown
 * (no id or no usable URLs). Missing or bad thumbnail dimensions fall back to
 * the full-size dimensions (only the aspect ratio matters for layout); when
 * neither is usable the entry is dropped, because a thumbnail without
 * dimensions would shift the layout.
 */
export function parseImage(raw: unknown): ApiImage | null {
	if (!isRecord(raw)) return null;
	const { id } = raw;
	if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || /[\x00-\x1f\x7f]/.test(id)) {
		return null;
	}
	const thumbnailUrl = absoluteHttpUrl(raw.thumbnailUrl);
	const fullsizeUrl = absoluteHttpUrl(raw.fullsizeUrl);
	if (!thumbnailUrl || !fullsizeUrl) return null;

	let { width, height, thumbnailWidth, thumbnailHeight } = raw;
	const fullOk = isDimension(width) && isDimension(height);
	const thumbOk = isDimension(thumbnailWidth) && isDimension(thumbnailHeight);
	if (!fullOk && !thumbOk) return null;
	if (!thumbOk) [thumbnailWidth, thumbnailHeight] = [width, height];
	if (!fullOk) [width, height] = [thumbnailWidth, thumbnailHeight];

	let takenAt: string | null = null;
	let takenWall: string | null = null;
	if (typeof raw.takenAt === 'string' && raw.takenAt.length <= 64) {
		const t = Date.parse(raw.takenAt);
		if (Number.isFinite(t)) {
			takenAt = new Date(t).toISOString();
			takenWall = wallClock(raw.takenAt);
		}
	}

	const codes = Array.isArray(raw.codes) ? raw.codes.filter((c): c is string => typeof c === 'string') : [];
	const photographer =
		typeof raw.photographer === 'string' && raw.photographer.length <= 64 && !/[\x00-\x1f\x7f]/.test(raw.photographer)
			? raw.photographer
			: null;

	return {
		id,
		takenAt,
		takenWall,
		thumbnailUrl,
		fullsizeUrl,
		width: width as number,
		height: height as number,
		thumbnailWidth: thumbnailWidth as number,
		thumbnailHeight: thumbnailHeight as number,
		codes,
		thumbnailWebpUrl: absoluteHttpUrl(raw.thumbnailWebpUrl),
		fullsizeWebpUrl: absoluteHttpUrl(raw.fullsizeWebpUrl),
		photographer
	};
}

/** Suggestions: valid codes with a whole, non-negative photo count; at most 5, duplicates dropped. */
export function parseSuggestions(raw: unknown): ApiSuggestion[] {
	if (!Array.isArray(raw)) return [];
	const out: ApiSuggestion[] = [];
	const seen = new Set<string>();
	for (const s of raw) {
		if (!isRecord(s) || typeof s.code !== 'string' || !/^[A-Z0-9_.-]{1,64}$/.test(s.code)) continue;
		if (s.code === '.' || s.code === '..' || seen.has(s.code)) continue;
		if (typeof s.photos !== 'number' || !Number.isInteger(s.photos) || s.photos < 0) continue;
		seen.add(s.code);
		out.push({ code: s.code, photos: s.photos });
		if (out.length === MAX_SUGGESTIONS) break;
	}
	return out;
}

function parseNextCursor(raw: unknown): string | null {
	if (raw === null || raw === undefined) return null;
	if (typeof raw !== 'string' || raw.length > MAX_CURSOR_LENGTH || !/^[\x21-\x7e]*$/.test(raw)) {
		throw new ApiError('bad_response', 'nextCursor is not a usable string');
	}
	return raw === '' ? null : raw;
}

function parseImages(raw: unknown[]): ApiImage[] {
	const seen = new Set<string>();
	const images: ApiImage[] = [];
	for (const r of raw) {
		const image = parseImage(r);
		if (!image || seen.has(image.id)) continue;
		seen.add(image.id);
		images.push(image);
	}
	return images;
}

/**
 * Validate a 200 body. The envelope must match the contract exactly enough
 * (participant equal to the requested code, images an array, nextCursor a
 * string or null); otherwise ApiError('bad_response'). Individual unusable
 * images are skipped and duplicate ids are dropped, keeping the API's order.
 */
export function parseParticipantPage(body: unknown, expectedCode: string): ApiParticipantPage {
	if (!isRecord(body)) throw new ApiError('bad_response', 'response is not a JSON object');
	if (typeof body.participant !== 'string') throw new ApiError('bad_response', 'participant is missing');
	if (body.participant.toUpperCase() !== expectedCode) {
		throw new ApiError('bad_response', `response is for participant ${JSON.stringify(body.participant.slice(0, 80))}, not ${expectedCode}`);
	}
	if (!Array.isArray(body.images)) throw new ApiError('bad_response', 'images is not an array');
	const nextCursor = parseNextCursor(body.nextCursor);
	const images = parseImages(body.images);
	const registered = typeof body.registered === 'boolean' ? body.registered : null;
	// Suggestions only make sense when nothing was found.
	const suggestions = images.length === 0 ? parseSuggestions(body.suggestions) : [];
	return { participant: expectedCode, images, nextCursor, registered, suggestions };
}

/** Validate a GET /photos body. */
export function parsePhotosPage(body: unknown): ApiPhotosPage {
	if (!isRecord(body)) throw new ApiError('bad_response', 'response is not a JSON object');
	if (!Array.isArray(body.images)) throw new ApiError('bad_response', 'images is not an array');
	return { images: parseImages(body.images), nextCursor: parseNextCursor(body.nextCursor) };
}

/** Validate a GET /photographers body; bad entries are skipped. */
export function parsePhotographers(body: unknown): ApiPhotographer[] {
	if (!isRecord(body) || !Array.isArray(body.photographers)) {
		throw new ApiError('bad_response', 'photographers is not an array');
	}
	const out: ApiPhotographer[] = [];
	for (const p of body.photographers.slice(0, 1000)) {
		if (!isRecord(p) || typeof p.name !== 'string' || p.name.length > 64 || /[\x00-\x1f\x7f]/.test(p.name)) continue;
		const photos = typeof p.photos === 'number' && Number.isInteger(p.photos) && p.photos >= 0 ? p.photos : 0;
		out.push({ name: p.name, photos });
	}
	return out;
}

/** Validate a POST /claims body. */
export function parseClaim(body: unknown): ApiClaim {
	if (!isRecord(body) || !isRecord(body.claim)) throw new ApiError('bad_response', 'claim is missing');
	const c = body.claim;
	if (typeof c.id !== 'string' || typeof c.photo !== 'string' || typeof c.code !== 'string') {
		throw new ApiError('bad_response', 'claim is not the contract');
	}
	return {
		id: c.id.slice(0, 100),
		photo: c.photo.slice(0, 100),
		code: c.code.slice(0, 64),
		state: typeof c.state === 'string' ? c.state.slice(0, 20) : 'pending',
		at: typeof c.at === 'string' ? c.at.slice(0, 64) : null
	};
}

/** Seconds from a Retry-After header (delta-seconds or HTTP date), capped; null when absent or unusable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
	if (!value) return null;
	const v = value.trim();
	let secs: number;
	if (/^\d{1,10}$/.test(v)) secs = Number(v);
	else {
		const t = Date.parse(v);
		if (!Number.isFinite(t)) return null;
		secs = Math.ceil((t - now) / 1000);
	}
	return Math.min(Math.max(secs, 1), MAX_RETRY_AFTER);
}

/** Extract `{error:{code,message}}` from an error body, if present. */
export function parseApiError(body: unknown): { code: string; message: string } | null {
	if (!isRecord(body) || !isRecord(body.error)) return null;
	const { code, message } = body.error;
	return {
		code: typeof code === 'string' ? code.slice(0, 100) : 'unknown',
		message: typeof message === 'string' ? message.slice(0, 500) : ''
	};
}

export function participantUrl(baseUrl: string, code: string, limit?: number, cursor?: string | null): string {
	const params = new URLSearchParams();
	if (limit !== undefined) params.set('limit', String(limit));
	if (cursor) params.set('cursor', cursor);
	const query = params.toString();
	return `${baseUrl}/participants/${encodeURIComponent(code)}${query ? `?${query}` : ''}`;
}

async function readJson(res: Response): Promise<unknown> {
	const text = await res.text();
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

/** A usable X-Forwarded-For value (an IPv4/IPv6 address), or null. */
export function forwardedFor(address: string | null | undefined): string | null {
	if (!address) return null;
	const a = address.trim();
	return a.length <= 64 && /^[0-9A-Fa-f:.]+$/.test(a) ? a : null;
}

/**
 * One request to the daemon: JSON in and out, timeout, the runner's address,
 * errors mapped to ApiError. Resolves with the parsed 2xx body and status.
 */
async function request(
	opts: ApiClientOptions,
	url: string,
	init: { method?: string; body?: unknown } = {}
): Promise<{ status: number; body: unknown }> {
	if (!opts.baseUrl) throw new ApiError('unavailable', 'PHOTOFINISH_API_URL is not set');
	const doFetch = opts.fetch ?? fetch;
	const headers: Record<string, string> = { accept: 'application/json' };
	const xff = forwardedFor(opts.clientAddress);
	if (xff) headers['x-forwarded-for'] = xff;
	if (init.body !== undefined) headers['content-type'] = 'application/json';

	let res: Response;
	try {
		res = await doFetch(url, {
			method: init.method ?? 'GET',
			headers,
			body: init.body === undefined ? undefined : JSON.stringify(init.body),
			signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000)
		});
	} catch (e) {
		throw new ApiError('unavailable', `request to the photo API failed: ${(e as Error)?.message ?? e}`);
	}

	if (res.ok) {
		const type = res.headers.get('content-type') ?? '';
		const body = await readJson(res).catch(() => undefined);
		if (body === undefined) {
			throw new ApiError('bad_response', `photo API answered ${res.status} with a body that is not JSON (${type || 'no content-type'})`, res.status);
		}
		return { status: res.status, body };
	}

	const body = await readJson(res).catch(() => undefined);
	const err = parseApiError(body);
	if (res.status === 429) {
		const wait = parseRetryAfter(res.headers.get('retry-after')) ?? 60;
		throw new ApiError('rate_limited', err?.message || 'too many requests', 429, err?.code ?? 'rate_limited', wait);
	}
	if (res.status >= 400 && res.status < 500) {
		if (res.status === 400 && err?.code === 'invalid_code') {
			throw new ApiError('invalid_code', err.message || 'invalid participant code', res.status, err.code);
		}
		throw new ApiError('rejected', err?.message || `photo API answered ${res.status}`, res.status, err?.code ?? null);
	}
	throw new ApiError('unavailable', `photo API answered ${res.status}${err ? ` (${err.code}: ${err.message})` : ''}`, res.status, err?.code ?? null);
}

/** Fetch one page of a participant's images. `code` must already be normalised and valid. */
export async function getParticipantPage(
	opts: ApiClientOptions,
	code: string,
	page: { limit?: number; cursor?: string | null } = {}
): Promise<ApiParticipantPage> {
	const url = participantUrl(opts.baseUrl ?? '', code, page.limit, page.cursor);
	const { body } = await request(opts, url);
	return parseParticipantPage(body, code);
}

export interface PhotosQuery {
	from: Date;
	to: Date;
	order?: 'asc' | 'desc';
	photographer?: string | null;
	limit?: number;
	cursor?: string | null;
}

export function photosUrl(baseUrl: string, q: PhotosQuery): string {
	const params = new URLSearchParams();
	params.set('from', q.from.toISOString());
	params.set('to', q.to.toISOString());
	if (q.order) params.set('order', q.order);
	if (q.photographer !== undefined && q.photographer !== null) params.set('photographer', q.photographer);
	if (q.limit !== undefined) params.set('limit', String(q.limit));
	if (q.cursor) params.set('cursor', q.cursor);
	return `${baseUrl}/photos?${params}`;
}

/** Photos (tagged or not) taken in a time window. */
export async function getPhotos(opts: ApiClientOptions, q: PhotosQuery): Promise<ApiPhotosPage> {
	const { body } = await request(opts, photosUrl(opts.baseUrl ?? '', q));
	return parsePhotosPage(body);
}

export async function getPhotographers(opts: ApiClientOptions): Promise<ApiPhotographer[]> {
	const { body } = await request(opts, `${opts.baseUrl ?? ''}/photographers`);
	return parsePhotographers(body);
}

/** Ask for a photo to be added to a code; an operator reviews it. */
export async function postClaim(opts: ApiClientOptions, photo: string, code: string): Promise<ApiClaim> {
	const { body } = await request(opts, `${opts.baseUrl ?? ''}/claims`, { method: 'POST', body: { photo, code } });
	return parseClaim(body);
}

/**
 * Find one image of a participant by id, paging through the API with the
 * largest page size. Returns the image and its 0-based position, or null.
 */
export async function findParticipantImage(
	opts: ApiClientOptions,
	code: string,
	id: string,
	{ pageSize = 500, maxPages = 40 }: { pageSize?: number; maxPages?: number } = {}
): Promise<{ image: ApiImage; index: number } | null> {
	let cursor: string | null = null;
	let offset = 0;
	for (let i = 0; i < maxPages; i++) {
		const page = await getParticipantPage(opts, code, { limit: pageSize, cursor });
		const at = page.images.findIndex((img) => img.id === id);
		if (at >= 0) return { image: page.images[at], index: offset + at };
		offset += page.images.length;
		if (!page.nextCursor || page.nextCursor === cursor) return null;
		cursor = page.nextCursor;
	}
	return null;
}
