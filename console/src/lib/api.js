// Every call to the daemon goes through here: same origin, the HttpOnly
// session cookie sent by the browser, and the CSRF token (held only in this
// module's memory, never in storage) on everything that is not a GET.

let csrf = null;
let onUnauthorized = () => {};

export function setCsrf(token) {
	csrf = token;
}

/** Called when the daemon answers 401: the session expired or was revoked. */
export function setUnauthorizedHandler(fn) {
	onUnauthorized = fn;
}

export class ApiError extends Error {
	constructor(status, code, message) {
		super(message);
		this.status = status;
		this.code = code;
	}
}

/**
 * @param {string} method
 * @param {string} path absolute path on the daemon, e.g. /admin/status
 * @param {unknown} [body] JSON body
 * @param {{ signal?: AbortSignal, quiet401?: boolean }} [opts]
 */
export async function api(method, path, body, opts = {}) {
	const headers = { Accept: 'application/json' };
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
	let res;
	try {
		res = await fetch(path, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			credentials: 'same-origin',
			cache: 'no-store',
			signal: opts.signal
		});
	} catch (e) {
		if (e?.name === 'AbortError') throw e;
		throw new ApiError(0, 'network', 'The daemon could not be reached. Check the connection and try again.');
	}
	if (res.status === 204) return null;
	const text = await res.text();
	let data = null;
	try {
		data = text ? JSON.parse(text) : null;
	} catch {
		data = null;
	}
	if (!res.ok) {
		const code = data?.error?.code ?? `http_${res.status}`;
		const message = data?.error?.message ?? `The daemon answered ${res.status}.`;
		if (res.status === 401 && !opts.quiet401) onUnauthorized();
		throw new ApiError(res.status, code, message);
	}
	return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body, opts) => api('POST', path, body ?? {}, opts);
export const put = (path, body, opts) => api('PUT', path, body, opts);
export const del = (path, opts) => api('DELETE', path, undefined, opts);

/** The message to show a person for any error. */
export function message(e) {
	if (e instanceof ApiError) return e.message;
	return e?.message ?? String(e);
}

export const enc = encodeURIComponent;
