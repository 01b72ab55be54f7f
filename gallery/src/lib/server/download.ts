/** Helpers for the photo download route. */

export interface ImageType {
	mime: string;
	extension: string;
}

/** Identify JPEG, PNG or WebP from the first bytes; null for anything else. */
export function sniffImageType(bytes: Uint8Array): ImageType | null {
	if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
		return { mime: 'image/jpeg', extension: 'jpg' };
	}
	if (
		bytes.length >= 8 &&
		[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => bytes[i] === b)
	) {
		return { mime: 'image/png', extension: 'png' };
	}
	if (
		bytes.length >= 12 &&
		String.fromCharCode(...bytes.slice(0, 4)) === 'RIFF' &&
		String.fromCharCode(...bytes.slice(8, 12)) === 'WEBP'
	) {
		return { mime: 'image/webp', extension: 'webp' };
	}
	return null;
}

/** Lower-case ASCII slug: "Città Marathon 2026!" → "citta-marathon-2026". */
export function slugify(text: string, maxLength = 40): string {
	return text
		.normalize('NFKD')
		.replace(/[\u0300-\u036f]/g, '')
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, '-')
		.replace(/^-+|-+$/g, '')
		.slice(0, maxLength)
		.replace(/-+$/g, '');
}

/**
 * File name for a downloaded photo, safe inside a quoted Content-Disposition
 * value: "{race}-{code}-{nnn}.jpg", e.g. "city-marathon-10423-003.jpg".
 */
export function downloadFilename(raceName: string, code: string, index: number, extension: string): string {
	const race = slugify(raceName) || 'photo';
	const safeCode = code.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
	const n = String(index + 1).padStart(3, '0');
	return `${race}-${safeCode}-${n}.${extension}`;
}
