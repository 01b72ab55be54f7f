/*
 * Capture time from EXIF: DateTimeOriginal (+ OffsetTimeOriginal) as
 * RFC 3339. Worker threads; reads only the image header it is given.
 */
#include <stdio.h>
#include <string.h>

#include "image/image_int.h"
#include "photofinish/codec.h"

bool pf_image__exif_to_rfc3339(const char *dt, const char *offset, char out[40])
{
	int Y, M, D, h, m, s, oh, om;
	char zone[32] = "Z";
	char text[96];

	out[0] = '\0';
	/* "YYYY:MM:DD HH:MM:SS"; cameras without a set clock write zeros or blanks. */
	if (!dt || strlen(dt) < 19 || dt[4] != ':' || dt[7] != ':' || dt[10] != ' ' ||
	    dt[13] != ':' || dt[16] != ':')
		return false;
	if (!pf_codec_digits(dt, 4, &Y) || !pf_codec_digits(dt + 5, 2, &M) ||
	    !pf_codec_digits(dt + 8, 2, &D) || !pf_codec_digits(dt + 11, 2, &h) ||
	    !pf_codec_digits(dt + 14, 2, &m) || !pf_codec_digits(dt + 17, 2, &s))
		return false;
	if (Y < 1900 || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || s > 60)
		return false;
	/* RFC 3339 needs an offset; without OffsetTimeOriginal the camera's wall
	 * clock is all we know, and it is reported as UTC so values sort. */
	if (offset && strlen(offset) >= 6 && (offset[0] == '+' || offset[0] == '-') &&
	    offset[3] == ':' && pf_codec_digits(offset + 1, 2, &oh) &&
	    pf_codec_digits(offset + 4, 2, &om) && oh <= 14 && om <= 59)
		snprintf(zone, sizeof(zone), "%c%02d:%02d", offset[0], oh, om);
	snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d%s", Y, M, D, h, m, s, zone);
	if (strlen(text) >= 40)
		return false;
	memcpy(out, text, strlen(text) + 1);
	return true;
}

/* vips renders EXIF strings as "value (value, ASCII, n components, n bytes)". */
static const char *exif_string(VipsImage *im, const char *name, char *buf, size_t size)
{
	const char *v = NULL;
	const char *paren;
	size_t n;

	if (vips_image_get_typeof(im, name) == 0 || vips_image_get_string(im, name, &v) || !v)
		return NULL;
	paren = strstr(v, " (");
	n = paren ? (size_t)(paren - v) : strlen(v);
	if (n >= size)
		n = size - 1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return buf;
}

void pf_image__taken_at(VipsImage *header, char out[40])
{
	char dt[64], off[64];
	const char *d, *o;

	out[0] = '\0';
	d = exif_string(header, "exif-ifd2-DateTimeOriginal", dt, sizeof(dt));
	if (!d)
		return;
	o = exif_string(header, "exif-ifd2-OffsetTimeOriginal", off, sizeof(off));
	if (!pf_image__exif_to_rfc3339(d, o, out))
		out[0] = '\0';
}
