import { enc, get, message } from './api.js';

// A cursor-paged admin listing (audit, failed photos): the first 100, then
// "More" appends the next page.
export class Pager {
	items = $state([]);
	cursor = $state(null);
	loading = $state(false);
	error = $state(null);

	constructor(path, field) {
		this.path = path;
		this.field = field;
	}

	async load(more = false) {
		this.loading = true;
		try {
			const q = more && this.cursor ? `&cursor=${enc(this.cursor)}` : '';
			const r = await get(`${this.path}?limit=100${q}`);
			const got = r[this.field] ?? [];
			this.items = more ? [...this.items, ...got] : got;
			this.cursor = r.nextCursor ?? null;
			this.error = null;
		} catch (e) {
			this.error = message(e);
		} finally {
			this.loading = false;
		}
	}
}
