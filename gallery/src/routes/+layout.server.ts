import { env } from '$env/dynamic/private';
import { themeFromEnv } from '$lib/server/theme';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = () => ({ theme: themeFromEnv(env) });
