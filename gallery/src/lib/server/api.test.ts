import { describe, expect, it, vi } from 'vitest';
import {
	ApiError,
	findParticipantImage,
	getParticipantPage,
	parseApiError,
	parseImage,
	parseParticipantPage,
	parsePhotographers,
	parsePhotosPage,
	parseRetryAfter,
	participantUrl,
	photosUrl,
	postClaim,
	forwardedFor
} from './api';

const image = (id: string, extra: Record<string, unknown> = {}) => ({
	id,
	takenAt: '2026-05-03T09:14:07.120Z',
	thumbnailUrl: `https://cdn.example.com/${id}/thumb.jpg`,
	fullsizeUrl: `https://bucket.s3.amazonaws.com/${id}.jpg?X-Amz-Signature=abc`,
	width: 2000,
	height: 1333,
	thumbnailWidth: 500,
	thumbnailHeight: 333,
	codes: ['10423', '10577'],
	...extra
});

const page = (images: unknown[], nextCursor: string | null = null, participant = '10423') => ({
	participant,
	images,
	nextCursor
});

function jsonResponse(body: unknown, status = 200, type = 'application/json') {
	return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
		status,
		headers: { 'content-type': type }
	});
}

describe('participantUrl', () => {
	it('builds the request URL with limit and cursor', () => {
		expect(participantUrl('http://d:8080', '10423')).toBe('http://d:8080/participants/10423');
		expect(participantUrl('http://d:8080', 'A-7', 48)).toBe('http://d:8080/participants/A-7?limit=48');
		expect(participantUrl('http://d:8080', 'A', 2, 'a+b/=')).toBe('http://d:8080/participants/A?limit=2&cursor=a%2Bb%2F%3D');
		expect(participantUrl('http://d:8080', 'A', undefined, null)).toBe('http://d:8080/participants/A');
	});
});

describe('parseImage', () => {
	it('keeps a valid image', () => {
		expect(parseImage(image('a'))).toEqual({
			id: 'a',
			takenAt: '2026-05-03T09:14:07.120Z',
			takenWall: '09:14:07',
			thumbnailUrl: 'https://cdn.example.com/a/thumb.jpg',
			fullsizeUrl: 'https://bucket.s3.amazonaws.com/a.jpg?X-Amz-Signature=abc',
			width: 2000,
			height: 1333,
			thumbnailWidth: 500,
			thumbnailHeight: 333,
			codes: ['10423', '10577'],
			thumbnailWebpUrl: null,
			fullsizeWebpUrl: null,
			photographer: null
		});
	});

	it('keeps WebP URLs and the photographer when present and usable', () => {
		const p = parseImage(
			image('a', { thumbnailWebpUrl: 'https://cdn/a.webp', fullsizeWebpUrl: 'javascript:alert(1)', photographer: 'alice' })
		);
		expect(p?.thumbnailWebpUrl).toBe('https://cdn/a.webp');
		expect(p?.fullsizeWebpUrl).toBeNull();
		expect(p?.photographer).toBe('alice');
		expect(parseImage(image('a', { photographer: 'a\nb' }))?.photographer).toBeNull();
	});

	it('accepts a null or missing capture time, and drops an unparsable one', () => {
		expect(parseImage(image('a', { takenAt: null }))?.takenAt).toBeNull();
		expect(parseImage(image('a', { takenAt: undefined }))?.takenAt).toBeNull();
		expect(parseImage(image('a', { takenAt: 'yesterday' }))?.takenAt).toBeNull();
		expect(parseImage(image('a', { takenAt: '2026-05-03T11:14:07+02:00' }))?.takenAt).toBe('2026-05-03T09:14:07.000Z');
		// The wall clock as written, for comparing with the catalog's times.
		expect(parseImage(image('a', { takenAt: '2026-05-03T11:14:07+02:00' }))?.takenWall).toBe('11:14:07');
		expect(parseImage(image('a', { takenAt: 'yesterday' }))?.takenWall).toBeNull();
	});

	it('falls back between thumbnail and full-size dimensions', () => {
		const noThumb = parseImage(image('a', { thumbnailWidth: undefined, thumbnailHeight: 0 }));
		expect([noThumb?.thumbnailWidth, noThumb?.thumbnailHeight]).toEqual([2000, 1333]);
		const noFull = parseImage(image('a', { width: '2000', height: null }));
		expect([noFull?.width, noFull?.height]).toEqual([500, 333]);
	});

	it.each([
		['not an object', 'x'],
		['an array', []],
		['no id', image('a', { id: undefined })],
		['empty id', image('a', { id: '' })],
		['numeric id', image('a', { id: 7 })],
		['id with control characters', image('a', { id: 'a\nb' })],
		['relative thumbnail URL', image('a', { thumbnailUrl: '/thumb.jpg' })],
		['javascript: full-size URL', image('a', { fullsizeUrl: 'javascript:alert(1)' })],
		['data: thumbnail URL', image('a', { thumbnailUrl: 'data:image/jpeg;base64,AAAA' })],
		['missing full-size URL', image('a', { fullsizeUrl: undefined })],
		['no usable dimensions', image('a', { width: 0, height: 0, thumbnailWidth: -1, thumbnailHeight: 1.5 })]
	])('drops an image with %s', (_, raw) => {
		expect(parseImage(raw)).toBeNull();
	});

	it('tolerates missing or odd codes', () => {
		expect(parseImage(image('a', { codes: undefined }))?.codes).toEqual([]);
		expect(parseImage(image('a', { codes: ['1', 2, null] }))?.codes).toEqual(['1']);
	});
});

describe('parseParticipantPage', () => {
	it('parses the contract example', () => {
		const parsed = parseParticipantPage(page([image('9f2c')], 'opaque-string'), '10423');
		expect(parsed.participant).toBe('10423');
		expect(parsed.images.map((i) => i.id)).toEqual(['9f2c']);
		expect(parsed.nextCursor).toBe('opaque-string');
	});

	it('keeps the API order, skips unusable images and duplicates', () => {
		const parsed = parseParticipantPage(
			page([image('c'), { id: 'broken' }, image('a'), image('c'), image('b')]),
			'10423'
		);
		expect(parsed.images.map((i) => i.id)).toEqual(['c', 'a', 'b']);
	});

	it('treats an empty list as "no photos yet" and an empty cursor as the end', () => {
		expect(parseParticipantPage(page([]), '10423')).toEqual({ participant: '10423', images: [], nextCursor: null, registered: null, suggestions: [] });
		expect(parseParticipantPage(page([], ''), '10423').nextCursor).toBeNull();
		expect(parseParticipantPage({ participant: '10423', images: [] }, '10423').nextCursor).toBeNull();
	});

	it.each([
		['null', null],
		['an array', []],
		['a string', 'ok'],
		['no participant', { images: [], nextCursor: null }],
		['another participant', page([], null, '10577')],
		['images not an array', { participant: '10423', images: {}, nextCursor: null }],
		['images missing', { participant: '10423', nextCursor: null }],
		['numeric cursor', page([], 5 as unknown as string)],
		['cursor with spaces', page([], 'a b')],
		['over-long cursor', page([], 'x'.repeat(2000))]
	])('rejects a response with %s', (_, body) => {
		expect(() => parseParticipantPage(body, '10423')).toThrowError(ApiError);
		try {
			parseParticipantPage(body, '10423');
		} catch (e) {
			expect((e as ApiError).kind).toBe('bad_response');
		}
	});
});

describe('parseApiError', () => {
	it('reads the error envelope', () => {
		expect(parseApiError({ error: { code: 'invalid_code', message: 'bad' } })).toEqual({ code: 'invalid_code', message: 'bad' });
		expect(parseApiError({ error: {} })).toEqual({ code: 'unknown', message: '' });
		expect(parseApiError({ message: 'x' })).toBeNull();
		expect(parseApiError('oops')).toBeNull();
	});
});

describe('getParticipantPage', () => {
	const opts = (fetchImpl: typeof fetch) => ({ baseUrl: 'http://daemon:8080', fetch: fetchImpl });

	it('requests the participant with limit and cursor and parses the answer', async () => {
		const fetchImpl = vi.fn(async () => jsonResponse(page([image('a'), image('b')], 'next-1')));
		const result = await getParticipantPage(opts(fetchImpl as unknown as typeof fetch), '10423', { limit: 2, cursor: 'c0' });
		expect(fetchImpl).toHaveBeenCalledTimes(1);
		const [url, init] = fetchImpl.mock.calls[0] as unknown as [string, RequestInit];
		expect(url).toBe('http://daemon:8080/participants/10423?limit=2&cursor=c0');
		expect((init.headers as Record<string, string>).accept).toBe('application/json');
		expect(init.signal).toBeInstanceOf(AbortSignal);
		expect(result.images.map((i) => i.id)).toEqual(['a', 'b']);
		expect(result.nextCursor).toBe('next-1');
	});

	async function failure(response: Response | Error): Promise<ApiError> {
		const fetchImpl = async () => {
			if (response instanceof Error) throw response;
			return response;
		};
		try {
			await getParticipantPage(opts(fetchImpl as typeof fetch), '10423');
		} catch (e) {
			expect(e).toBeInstanceOf(ApiError);
			return e as ApiError;
		}
		throw new Error('expected a failure');
	}

	it('maps 400 invalid_code to invalid_code with the API message', async () => {
		const e = await failure(jsonResponse({ error: { code: 'invalid_code', message: 'code must match' } }, 400));
		expect(e.kind).toBe('invalid_code');
		expect(e.message).toBe('code must match');
	});

	it('maps other 4xx to rejected', async () => {
		const e = await failure(jsonResponse({ error: { code: 'invalid_cursor', message: 'cursor expired' } }, 400));
		expect([e.kind, e.status, e.apiCode]).toEqual(['rejected', 400, 'invalid_cursor']);
		expect((await failure(jsonResponse('nope', 404, 'text/plain'))).kind).toBe('rejected');
	});

	it('maps 5xx, network errors and timeouts to unavailable', async () => {
		expect((await failure(jsonResponse({ error: { code: 'internal', message: 'db down' } }, 500))).kind).toBe('unavailable');
		expect((await failure(jsonResponse('<html>Bad gateway</html>', 502, 'text/html'))).kind).toBe('unavailable');
		expect((await failure(new TypeError('fetch failed'))).kind).toBe('unavailable');
		expect((await failure(new DOMException('The operation timed out.', 'TimeoutError'))).kind).toBe('unavailable');
	});

	it('maps a 200 that is not the contract to bad_response', async () => {
		expect((await failure(jsonResponse('<html>proxy login</html>', 200, 'text/html'))).kind).toBe('bad_response');
		expect((await failure(jsonResponse('{"participant":"10423","images":[', 200))).kind).toBe('bad_response');
		expect((await failure(jsonResponse({ participant: '10423', images: 'none' }))).kind).toBe('bad_response');
		expect((await failure(jsonResponse(page([], null, 'OTHER')))).kind).toBe('bad_response');
	});

	it('reports a missing API URL as unavailable without fetching', async () => {
		const fetchImpl = vi.fn();
		await expect(getParticipantPage({ baseUrl: null, fetch: fetchImpl as unknown as typeof fetch }, '1')).rejects.toMatchObject({ kind: 'unavailable' });
		expect(fetchImpl).not.toHaveBeenCalled();
	});

	it('times out a hanging API', async () => {
		const fetchImpl = (_url: string, init: RequestInit) =>
			new Promise<Response>((_, reject) => {
				init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
			});
		await expect(
			getParticipantPage({ baseUrl: 'http://d', fetch: fetchImpl as unknown as typeof fetch, timeoutMs: 20 }, '1')
		).rejects.toMatchObject({ kind: 'unavailable' });
	});
});

describe('findParticipantImage', () => {
	function pagedFetch(pages: Record<string, ReturnType<typeof page>>) {
		return vi.fn(async (url: string) => {
			const cursor = new URL(url).searchParams.get('cursor') ?? '';
			const body = pages[cursor];
			return body ? jsonResponse(body) : jsonResponse({ error: { code: 'invalid_cursor', message: 'x' } }, 400);
		});
	}

	it('follows cursors until it finds the id, with the largest page size', async () => {
		const fetchImpl = pagedFetch({
			'': page([image('a'), image('b')], 'p2'),
			p2: page([image('c'), image('d')], 'p3'),
			p3: page([image('e')], null)
		});
		const found = await findParticipantImage({ baseUrl: 'http://d', fetch: fetchImpl as unknown as typeof fetch }, '10423', 'd');
		expect(found?.image.id).toBe('d');
		expect(found?.index).toBe(3);
		expect(fetchImpl).toHaveBeenCalledTimes(2);
		expect(new URL(fetchImpl.mock.calls[0][0]).searchParams.get('limit')).toBe('500');
	});

	it('returns null when the id is not among the participant’s images', async () => {
		const fetchImpl = pagedFetch({ '': page([image('a')], 'p2'), p2: page([image('b')], null) });
		expect(await findParticipantImage({ baseUrl: 'http://d', fetch: fetchImpl as unknown as typeof fetch }, '10423', 'zzz')).toBeNull();
	});

	it('stops on a cursor that does not advance and after maxPages', async () => {
		const loop = pagedFetch({ '': page([image('a')], 'same'), same: page([image('b')], 'same') });
		expect(await findParticipantImage({ baseUrl: 'http://d', fetch: loop as unknown as typeof fetch }, '10423', 'zzz')).toBeNull();
		expect(loop).toHaveBeenCalledTimes(2);

		let n = 0;
		const endless = vi.fn(async () => jsonResponse(page([image(`i${n}`)], `c${++n}`)));
		expect(
			await findParticipantImage({ baseUrl: 'http://d', fetch: endless as unknown as typeof fetch }, '10423', 'zzz', { maxPages: 5 })
		).toBeNull();
		expect(endless).toHaveBeenCalledTimes(5);
	});

	it('propagates API failures', async () => {
		const down = vi.fn(async () => {
			throw new TypeError('fetch failed');
		});
		await expect(
			findParticipantImage({ baseUrl: 'http://d', fetch: down as unknown as typeof fetch }, '10423', 'a')
		).rejects.toMatchObject({ kind: 'unavailable' });
	});
});

describe('suggestions and roster', () => {
	it('keeps up to 5 valid suggestions in the API order, only when nothing was found', () => {
		const body = {
			...page([]),
			registered: false,
			suggestions: [
				{ code: '10423', photos: 5 },
				{ code: 'bad code', photos: 1 },
				{ code: '10423', photos: 5 },
				{ code: '10433', photos: -1 },
				{ code: '10432', photos: 'x' },
				{ code: '10431', photos: 2 },
				{ code: '1042', photos: 1 },
				{ code: '10442', photos: 1 },
				{ code: '10402', photos: 1 },
				{ code: '10412', photos: 1 }
			]
		};
		const p = parseParticipantPage(body, '10423');
		expect(p.registered).toBe(false);
		expect(p.suggestions).toEqual([
			{ code: '10423', photos: 5 },
			{ code: '10431', photos: 2 },
			{ code: '1042', photos: 1 },
			{ code: '10442', photos: 1 },
			{ code: '10402', photos: 1 }
		]);
		const found = parseParticipantPage({ ...body, images: [image('a')], registered: true }, '10423');
		expect(found.suggestions).toEqual([]);
		expect(found.registered).toBe(true);
		expect(parseParticipantPage({ ...page([]), registered: 'yes', suggestions: 'x' }, '10423')).toMatchObject({
			registered: null,
			suggestions: []
		});
	});
});

describe('rate limits and the runner address', () => {
	it('maps 429 to rate_limited with the Retry-After wait', async () => {
		const fetchMock = vi.fn(async () =>
			new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'slow down' } }), {
				status: 429,
				headers: { 'content-type': 'application/json', 'retry-after': '6' }
			})
		);
		const err = await getParticipantPage({ baseUrl: 'http://d', fetch: fetchMock as typeof fetch }, '10432').catch((e) => e);
		expect(err).toBeInstanceOf(ApiError);
		expect(err).toMatchObject({ kind: 'rate_limited', status: 429, retryAfter: 6 });
	});

	it('reads Retry-After as seconds or a date, capped, with a default', () => {
		expect(parseRetryAfter('6')).toBe(6);
		expect(parseRetryAfter('0')).toBe(1);
		expect(parseRetryAfter('999999')).toBe(3600);
		expect(parseRetryAfter(new Date(1_000_000 + 30_000).toUTCString(), 1_000_000)).toBe(30);
		expect(parseRetryAfter('soon')).toBeNull();
		expect(parseRetryAfter(null)).toBeNull();
	});

	it('sends X-Forwarded-For with the runner address on every call, never junk', async () => {
		const seen: (string | null)[] = [];
		const fetchMock = vi.fn(async (_url: string, init?: RequestInit) => {
			seen.push(new Headers(init?.headers).get('x-forwarded-for'));
			return jsonResponse(page([]));
		});
		const opts = { baseUrl: 'http://d', fetch: fetchMock as unknown as typeof fetch };
		await getParticipantPage({ ...opts, clientAddress: '203.0.113.7' }, '10423');
		await getParticipantPage({ ...opts, clientAddress: '2001:db8::1' }, '10423');
		await getParticipantPage({ ...opts, clientAddress: '1.2.3.4\r\nX-Evil: 1' }, '10423');
		await getParticipantPage(opts, '10423');
		expect(seen).toEqual(['203.0.113.7', '2001:db8::1', null, null]);
		expect(forwardedFor(' 10.0.0.1 ')).toBe('10.0.0.1');
	});
});

describe('photos by time, photographers, claims', () => {
	it('builds the /photos URL', () => {
		const url = photosUrl('http://d', {
			from: new Date('2026-05-03T08:20:00Z'),
			to: new Date('2026-05-03T08:40:00Z'),
			order: 'asc',
			photographer: 'alice',
			limit: 48,
			cursor: 'c/1'
		});
		expect(url).toBe(
			'http://d/photos?from=2026-05-03T08%3A20%3A00.000Z&to=2026-05-03T08%3A40%3A00.000Z&order=asc&photographer=alice&limit=48&cursor=c%2F1'
		);
	});

	it('parses pages, photographers and claims', async () => {
		expect(parsePhotosPage({ images: [image('a'), image('a'), { id: 'x' }], nextCursor: 'n' })).toMatchObject({
			images: [{ id: 'a' }],
			nextCursor: 'n'
		});
		expect(() => parsePhotosPage({ images: 'x' })).toThrowError(ApiError);
		expect(parsePhotographers({ photographers: [{ name: 'alice', photos: 3 }, { name: 7 }, { name: '', photos: 1 }] })).toEqual([
			{ name: 'alice', photos: 3 },
			{ name: '', photos: 1 }
		]);
		const calls: { url: string; init?: RequestInit }[] = [];
		const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
			calls.push({ url, init });
			return jsonResponse({ claim: { id: 'c1', photo: 'p1', code: '10423', state: 'pending', at: '2026-05-03T10:00:00Z' } }, 202);
		});
		const claim = await postClaim({ baseUrl: 'http://d', fetch: fetchMock as unknown as typeof fetch, clientAddress: '10.1.2.3' }, 'p1', '10423');
		expect(claim).toEqual({ id: 'c1', photo: 'p1', code: '10423', state: 'pending', at: '2026-05-03T10:00:00Z' });
		expect(calls[0].url).toBe('http://d/claims');
		expect(calls[0].init?.method).toBe('POST');
		expect(JSON.parse(String(calls[0].init?.body))).toEqual({ photo: 'p1', code: '10423' });
		expect(new Headers(calls[0].init?.headers).get('x-forwarded-for')).toBe('10.1.2.3');
	});
});
