import { json } from '@sveltejs/kit';
import type { RequestHandler } from './$types';

/** Liveness probe for the container: the gallery process is up. It does not call the daemon. */
export const GET: RequestHandler = () =>
	json({ status: 'ok' }, { headers: { 'cache-control': 'no-store' } });
