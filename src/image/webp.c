/*
 * WebP container surgery: libvips 8.14 writes a generated EXIF chunk
 * (orientation, resolution, dimensions) into every WebP it saves, "strip"
 * or not. The variants promise no metadata, and 200 bytes on each of 48
 * thumbnails a page is weight for nothing, so only the bitstream is kept.
 * Pure; any thread.
 */
#include <stdint.h>
#include <string.h>

#include "image/image_int.h"

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static bool is_chunk(const unsigned char *p, const char *tag)
{
	return !memcmp(p, tag, 4);
}

size_t pf_image__webp_simple(unsigned char *buf, size_t len)
{
	size_t pos = 12, image_at = 0, image_len = 0;

	if (len < 20 || !is_chunk(buf, "RIFF") || !is_chunk(buf + 8, "WEBP") ||
	    (size_t)le32(buf + 4) + 8 != len)
		return len;
	while (pos < len) {
		uint32_t n;
		size_t chunk;

		if (len - pos < 8)
			return len;
		n = le32(buf + pos + 4);
		/* Chunks are padded to an even size. */
		chunk = 8 + (size_t)n + (n & 1);
		if (chunk > len - pos)
			return len;
		if (is_chunk(buf + pos, "VP8 ") || is_chunk(buf + pos, "VP8L")) {
			if (image_len)
				return len;
			image_at = pos;
			image_len = chunk;
		} else if (!is_chunk(buf + pos, "VP8X") && !is_chunk(buf + pos, "EXIF") &&
		           !is_chunk(buf + pos, "XMP ") && !is_chunk(buf + pos, "ICCP")) {
			/* ALPH, ANIM, ...: the extended header is needed. */
			return len;
		}
		pos += chunk;
	}
	if (!image_len)
		return len;
	memmove(buf + 12, buf + image_at, image_len);
	put_le32(buf + 4, (uint32_t)(4 + image_len));
	return 12 + image_len;
}
