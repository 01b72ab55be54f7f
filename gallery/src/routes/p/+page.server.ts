import { error, redirect } from '@sveltejs/kit';
import { checkCode, participantPath } from '$lib/code';
import type { PageServerLoad } from './$types';

/** Target of the landing page's plain GET form: /p?code=… → /p/{CODE}. */
export const load: PageServerLoad = ({ url }) => {
	const check = checkCode(url.searchParams.get('code') ?? '');
	if (!check.ok) error(400, check.message);
	redirect(303, participantPath(check.code));
};
