import { createHash } from 'node:crypto';
import type { PhotoPage } from '$lib/types';

/**
 * Validator of a page's content, leaving out the photo URLs: presigned URLs
 * change with every signature, but a reader only needs new data when the
 * photos themselves change.
 */
export function pageEtag(page: PhotoPage): string {
	const h = createHash('sha256');
	h.update(
		JSON.stringify([
			page.code,
			page.photos.map((p) => [p.id, p.takenAt, p.thumbnailWebpUrl !== null]),
			page.nextCursor,
			page.registered,
			page.suggestions
		])
	);
	return `W/"${h.digest('base64url').slice(0, 27)}"`;
}

/** Does an If-None-Match header match `etag` (weak comparison, lists, `*`)? */
export function etagMatches(header: string | null, etag: string): boolean {
	if (!header) return false;
	const bare = etag.replace(/^W\//, '');
	return header.split(',').some((t) => {
		const v = t.trim();
		return v === '*' || v.replace(/^W\//, '') === bare;
	});
}
