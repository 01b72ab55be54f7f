/**
 * Client for the photofinish daemon's participant API:
 *   GET {base}/participants/{code}?limit=N&cursor=C
 * Responses are validated here; nothing downstream trusts the raw JSON.
 */

export interface ApiImage {
	id: string;
	takenAt: string | null;
	thumbnailUrl: string;
	fullsizeUrl: string;
	width: number;
	height: number;
	thumbnailWidth: number;
	thumbnailHeight: number;
	codes: string[];
}

export interface ApiParticipantPage {
	participant: string;
	images: ApiImage[];
	nextCursor: string | null;
}

export type ApiErrorKind =
	/** The daemon rejected the code (400 invalid_code). */
	| 'invalid_code'
	/** Any other 4xx from the daemon (e.g. a cursor it no longer accepts). */
	| 'rejected'
	/** Network error, timeout, 5xx, or no API configured. */
	| 'unavailable'
	/** The daemon answered 2xx with something that is not the contract. */
	| 'bad_response';

export class ApiError extends Error {
	readonly kind: ApiErrorKind;
	readonly status: number | null;
	readonly apiCode: string | null;

	constructor(kind: ApiErrorKind, message: string, status: number | null = null, apiCode: string | null = null) {
		super(message);
		this.name = 'ApiError';
		this.kind = kind;
		this.status = status;
		this.apiCode = apiCode;
	}
}

type Fetch = typeof fetch;

export interface ApiClientOptions {
	/** Base URL without trailing slash, e.g. http://photofinishd:8080 */
	baseUrl: string | null;
	fetch?: Fetch;
	timeoutMs?: number;
}

const MAX_ID_LENGTH = 256;
const MAX_URL_LENGTH = 8192;
const MAX_CURSOR_LENGTH = 1024;
const MAX_DIMENSION = 100_000;

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
	if (typeof raw.takenAt === 'string' && raw.takenAt.length <= 64) {
		const t = Date.parse(raw.takenAt);
		if (Number.isFinite(t)) takenAt = new Date(t).toISOString();
	}

	const codes = Array.isArray(raw.codes) ? raw.codes.filter((c): c is string => typeof c === 'string') : [];

	return {
		id,
		takenAt,
		thumbnailUrl,
		fullsizeUrl,
		width: width as number,
		height: height as number,
		thumbnailWidth: thumbnailWidth as number,
		thumbnailHeight: thumbnailHeight as number,
		codes
	};
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

	let nextCursor: string | null = null;
	if (body.nextCursor !== null && body.nextCursor !== undefined) {
		if (typeof body.nextCursor !== 'string' || body.nextCursor.length > MAX_CURSOR_LENGTH || !/^[\x21-\x7e]*$/.test(body.nextCursor)) {
			throw new ApiError('bad_response', 'nextCursor is not a usable string');
		}
		nextCursor = body.nextCursor === '' ? null : body.nextCursor;
	}

	const seen = new Set<string>();
	const images: ApiImage[] = [];
	for (const raw of body.images) {
		const image = parseImage(raw);
		if (!image || seen.has(image.id)) continue;
		seen.add(image.id);
		images.push(image);
	}
	return { participant: expectedCode, images, nextCursor };
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

/** Fetch one page of a participant's images. `code` must already be normalised and valid. */
export async function getParticipantPage(
	opts: ApiClientOptions,
	code: string,
	page: { limit?: number; cursor?: string | null } = {}
): Promise<ApiParticipantPage> {
	if (!opts.baseUrl) throw new ApiError('unavailable', 'PHOTOFINISH_API_URL is not set');
	const doFetch = opts.fetch ?? fetch;
	const url = participantUrl(opts.baseUrl, code, page.limit, page.cursor);

	let res: Response;
	try {
		res = await doFetch(url, {
			headers: { accept: 'application/json' },
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
		return parseParticipantPage(body, code);
	}

	const body = await readJson(res).catch(() => undefined);
	const err = parseApiError(body);
	if (res.status >= 400 && res.status < 500) {
		if (res.status === 400 && err?.code === 'invalid_code') {
			throw new ApiError('invalid_code', err.message || 'invalid participant code', res.status, err.code);
		}
		throw new ApiError('rejected', err?.message || `photo API answered ${res.status}`, res.status, err?.code ?? null);
	}
	throw new ApiError('unavailable', `photo API answered ${res.status}${err ? ` (${err.code}: ${err.message})` : ''}`, res.status, err?.code ?? null);
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
