// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
	namespace App {
		interface Error {
			message: string;
		}
		interface Locals {
			/** Seconds for the Retry-After header of a 429 page. */
			retryAfter?: number;
		}
		interface PageState {
			/** Set while the photo viewer is open, so that Back closes it. */
			viewer?: boolean;
		}
	}
}

export {};
