/*
 * libFuzzer target for the WebP container rewrite (webp.c) that runs on
 * every WebP variant. Checks: no crash/leak/UB or read past the input; the
 * length never grows; a rewritten file is a simple-format WebP whose RIFF
 * size matches and whose only chunk is the input's VP8/VP8L bitstream; a
 * second rewrite changes nothing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so ASan sees any read or write past the end. */
	unsigned char *buf = malloc(size ? size : 1);
	size_t n, again;

	check(buf != NULL);
	memcpy(buf, data, size);
	n = pf_image__webp_simple(buf, size);
	check(n <= size);
	if (n != size) {
		uint32_t riff = (uint32_t)buf[4] | (uint32_t)buf[5] << 8 | (uint32_t)buf[6] << 16 |
		                (uint32_t)buf[7] << 24;

		check(n >= 20 && !memcmp(buf, "RIFF", 4) && !memcmp(buf + 8, "WEBP", 4));
		check((size_t)riff + 8 == n);
		check(!memcmp(buf + 12, "VP8 ", 4) || !memcmp(buf + 12, "VP8L", 4));
		check(memmem(data, size, buf + 12, n - 12) != NULL);
		again = pf_image__webp_simple(buf, n);
		check(again == n);
	} else {
		check(!memcmp(buf, data, size));
	}
	free(buf);
	return 0;
}
