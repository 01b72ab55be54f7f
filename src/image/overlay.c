/*
 * The logo overlay: where it goes (pure geometry) and compositing it on a
 * variant. Worker threads; the overlay image in the context is read-only and
 * shared.
 */
#include <math.h>

#include "image/image_int.h"

bool pf_image__overlay_geometry(int vw, int vh, int ow, int oh, enum pf_image_gravity gravity,
                                double margin_frac, double width_frac, struct pf_image__rect *out)
{
	double w, h, m, room_w, room_h;

	if (vw <= 0 || vh <= 0 || ow <= 0 || oh <= 0 || !(width_frac > 0))
		return false;
	m = floor(margin_frac * vw + 0.5);
	room_w = vw - 2 * m;
	room_h = vh - 2 * m;
	if (room_w < 1 || room_h < 1)
		return false;
	w = width_frac * vw;
	h = w * oh / ow;
	/* Keep the aspect while fitting inside the margins: a tall logo on a
	 * panorama is limited by the height. */
	if (w > room_w) {
		h = h * room_w / w;
		w = room_w;
	}
	if (h > room_h) {
		w = w * room_h / h;
		h = room_h;
	}
	out->w = (int)floor(w + 0.5);
	out->h = (int)floor(h + 0.5);
	if (out->w < 1 || out->h < 1)
		return false;

	switch (gravity) {
	case PF_IMAGE_GRAVITY_NORTH_WEST:
	case PF_IMAGE_GRAVITY_WEST:
	case PF_IMAGE_GRAVITY_SOUTH_WEST:
		out->x = (int)m;
		break;
	case PF_IMAGE_GRAVITY_NORTH_EAST:
	case PF_IMAGE_GRAVITY_EAST:
	case PF_IMAGE_GRAVITY_SOUTH_EAST:
		out->x = vw - out->w - (int)m;
		break;
	default:
		out->x = (vw - out->w) / 2;
	}
	switch (gravity) {
	case PF_IMAGE_GRAVITY_NORTH_WEST:
	case PF_IMAGE_GRAVITY_NORTH:
	case PF_IMAGE_GRAVITY_NORTH_EAST:
		out->y = (int)m;
		break;
	case PF_IMAGE_GRAVITY_SOUTH_WEST:
	case PF_IMAGE_GRAVITY_SOUTH:
	case PF_IMAGE_GRAVITY_SOUTH_EAST:
		out->y = vh - out->h - (int)m;
		break;
	default:
		out->y = (vh - out->h) / 2;
	}
	if (out->x < 0)
		out->x = 0;
	if (out->y < 0)
		out->y = 0;
	return true;
}

int pf_image__apply_overlay(const struct pf_image_ctx *ctx, VipsImage *in, VipsImage **out)
{
	struct pf_image__rect r;
	VipsObject *scope;
	VipsImage **t;
	int rc = -1, w, h;

	if (!ctx->overlay ||
	    !pf_image__overlay_geometry(in->Xsize, in->Ysize, ctx->overlay->Xsize,
	                                ctx->overlay->Ysize, ctx->opts.overlay_gravity,
	                                ctx->opts.overlay_margin, ctx->opts.overlay_width, &r) ||
	    ctx->opts.overlay_opacity <= 0) {
		g_object_ref(in);
		*out = in;
		return 0;
	}
	scope = VIPS_OBJECT(vips_image_new());
	t = (VipsImage **)vips_object_local_array(scope, 8);
	/* Premultiplied so the resize does not bleed dark fringes from
	 * transparent pixels, and so opacity is one multiply of all bands. */
	if (vips_premultiply(ctx->overlay, &t[0], NULL) ||
	    vips_resize(t[0], &t[1], (double)r.w / ctx->overlay->Xsize, "vscale",
	                (double)r.h / ctx->overlay->Ysize, "kernel", VIPS_KERNEL_LANCZOS3, NULL))
		goto out_unref;
	if (ctx->opts.overlay_opacity < 1) {
		if (vips_linear1(t[1], &t[2], ctx->opts.overlay_opacity, 0, NULL))
			goto out_unref;
	} else {
		t[2] = t[1];
		g_object_ref(t[2]);
	}
	/* Blend only the patch under the logo and paste it back: compositing
	 * the whole variant would convert every pixel to float and back. */
	w = t[2]->Xsize < in->Xsize - r.x ? t[2]->Xsize : in->Xsize - r.x;
	h = t[2]->Ysize < in->Ysize - r.y ? t[2]->Ysize : in->Ysize - r.y;
	if (vips_extract_area(in, &t[3], r.x, r.y, w, h, NULL) ||
	    vips_composite2(t[3], t[2], &t[4], VIPS_BLEND_MODE_OVER, "premultiplied", TRUE, NULL) ||
	    vips_extract_band(t[4], &t[5], 0, "n", 3, NULL) ||
	    vips_cast(t[5], &t[6], VIPS_FORMAT_UCHAR, NULL) ||
	    vips_insert(in, t[6], out, r.x, r.y, NULL))
		goto out_unref;
	rc = 0;
out_unref:
	g_object_unref(scope);
	return rc;
}
