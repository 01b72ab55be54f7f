/*
 * The pipeline's vocabulary as text: symbology and gravity names, for
 * whoever fills struct pf_image_options from settings. Pure; any thread.
 */
#include <string.h>
#include <strings.h>

#include "photofinish/image.h"

static const struct {
	const char *name;
	unsigned bit;
} symbology_names[] = {
    {"qrcode", PF_IMAGE_SYM_QRCODE},   {"code128", PF_IMAGE_SYM_CODE128},
    {"code39", PF_IMAGE_SYM_CODE39},   {"code93", PF_IMAGE_SYM_CODE93},
    {"ean13", PF_IMAGE_SYM_EAN13},     {"ean8", PF_IMAGE_SYM_EAN8},
    {"upca", PF_IMAGE_SYM_UPCA},       {"upce", PF_IMAGE_SYM_UPCE},
    {"i25", PF_IMAGE_SYM_I25},         {"codabar", PF_IMAGE_SYM_CODABAR},
    {"databar", PF_IMAGE_SYM_DATABAR},
};

static const char *const gravity_names[] = {
    [PF_IMAGE_GRAVITY_CENTRE] = "centre",         [PF_IMAGE_GRAVITY_NORTH] = "north",
    [PF_IMAGE_GRAVITY_NORTH_EAST] = "north-east", [PF_IMAGE_GRAVITY_EAST] = "east",
    [PF_IMAGE_GRAVITY_SOUTH_EAST] = "south-east", [PF_IMAGE_GRAVITY_SOUTH] = "south",
    [PF_IMAGE_GRAVITY_SOUTH_WEST] = "south-west", [PF_IMAGE_GRAVITY_WEST] = "west",
    [PF_IMAGE_GRAVITY_NORTH_WEST] = "north-west",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

bool pf_image_symbologies_parse(const char *s, unsigned *out)
{
	unsigned bits = 0;
	const char *p = s;

	if (!s)
		return false;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		bool found = false;

		while (len && (*p == ' ')) {
			p++;
			len--;
		}
		while (len && p[len - 1] == ' ')
			len--;
		for (size_t i = 0; i < NELEM(symbology_names); i++) {
			if (strlen(symbology_names[i].name) == len &&
			    !strncasecmp(symbology_names[i].name, p, len)) {
				bits |= symbology_names[i].bit;
				found = true;
			}
		}
		if (!found)
			return false;
		if (!end)
			break;
		p = end + 1;
	}
	if (!bits)
		return false;
	*out = bits;
	return true;
}

const char *pf_image_symbology_name(unsigned bit)
{
	for (size_t i = 0; i < NELEM(symbology_names); i++)
		if (symbology_names[i].bit == bit)
			return symbology_names[i].name;
	return NULL;
}

bool pf_image_gravity_parse(const char *s, enum pf_image_gravity *out)
{
	if (!s)
		return false;
	for (size_t i = 0; i < NELEM(gravity_names); i++) {
		if (!strcasecmp(s, gravity_names[i])) {
			*out = (enum pf_image_gravity)i;
			return true;
		}
	}
	if (!strcasecmp(s, "center")) {
		*out = PF_IMAGE_GRAVITY_CENTRE;
		return true;
	}
	return false;
}

const char *pf_image_gravity_name(enum pf_image_gravity g)
{
	if ((unsigned)g >= NELEM(gravity_names))
		return "south-east";
	return gravity_names[g];
}
