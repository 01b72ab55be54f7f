// Who is signed in. The browser holds only the HttpOnly session cookie; this
// page holds the answer of /session (role, name, CSRF token) in memory and
// asks GET /session again after a reload.
import { ApiError, api, setCsrf, setUnauthorizedHandler } from './api.js';

export const session = $state({ checked: false, who: null, role: null, photographer: null, expiresAt: null, expired: false });

function apply(s) {
	session.who = s?.who ?? null;
	session.role = s?.role ?? null;
	session.photographer = s?.photographer ?? null;
	session.expiresAt = s?.expiresAt ?? null;
	setCsrf(s?.csrf ?? null);
}

setUnauthorizedHandler(() => {
	if (session.role) session.expired = true;
	apply(null);
});

export async function loadSession() {
	try {
		apply(await api('GET', '/session', undefined, { quiet401: true }));
	} catch (e) {
		if (!(e instanceof ApiError) || e.status !== 401) {
			session.checked = true;
			throw e;
		}
		apply(null);
	}
	session.checked = true;
}

export async function signIn(credential) {
	const s = await api('POST', '/session', { credential }, { quiet401: true });
	session.expired = false;
	apply(s);
}

export async function signOut() {
	try {
		await api('DELETE', '/session', undefined, { quiet401: true });
	} finally {
		apply(null);
	}
}
