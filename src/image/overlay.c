/*
 * The logo overlay: where it goes (pure geometry) and compositing it on a
 * variant. Worker threads; the overlay image in the context is read-only and
 * shared.
 */
#include <math.h>

#include "image/image_int.h"

bool pf_image__overlay_geometry(int vw, int vh, int ow, int oh, enum pf_gravity gravity,
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
	case PF_GRAVITY_NORTH_WEST:
	case PF_GRAVITY_WEST:
	case PF_GRAVITY_SOUTH_WEST:
		out->x = (int)m;
		break;
	case PF_GRAVITY_NORTH_EAST:
	case PF_GRAVITY_EAST:
	case PF_GRAVITY_SOUTH_EAST:
		out->x = vw - out->w - (int)m;
		break;
	default:
		out->x = (vw - out->w) / 2;
	}
	switch (gravity) {
	case PF_GRAVITY_NORTH_WEST:
	case PF_GRAVITY_NORTH:
	case PF_GRAVITY_NORTH_EAST:
		out->y = (int)m;
		break;
	case PF_GRAVITY_SOUTH_WEST:
	case PF_GRAVITY_SOUTH:
	case PF_GRAVITY_SOUTH_EAST:
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
	int rc = -1;

	if (!ctx->overlay ||
	    !pf_image__overlay_geometry(in->Xsize, in->Ysize, ctx->overlay->Xsize,
	                                ctx->overlay->Ysize, ctx->overlay_gravity,
	                                ctx->overlay_margin, ctx->overlay_width, &r) ||
	    ctx->overlay_opacity <= 0) {
		g_object_ref(in);
		*out = in;
		return 0;
	}
	scope = VIPS_OBJECT(vips_image_new());
	t = (VipsImage **)vips_object_local_array(scope, 6);
	/* Premultiplied so the resize does not bleed dark fringes from
	 * transparent pixels, and so opacity is one multiply of all bands. */
	if (vips_premultiply(ctx->overlay, &t[0], NULL) ||
	    vips_resize(t[0], &t[1], (double)r.w / ctx->overlay->Xsize, "vscale",
	                (double)r.h / ctx->overlay->Ysize, "kernel", VIPS_KERNEL_LANCZOS3, NULL))
		goto out_unref;
	if (ctx->overlay_opacity < 1) {
		if (vips_linear1(t[1], &t[2], ctx->overlay_opacity, 0, NULL))
			goto out_unref;
	} else {
		t[2] = t[1];
		g_object_ref(t[2]);
	}
	if (vips_composite2(in, t[2], &t[3], VIPS_BLEND_MODE_OVER, "x", r.x, "y", r.y,
	                    "premultiplied", TRUE, NULL) ||
	    vips_extract_band(t[3], &t[4], 0, "n", 3, NULL) ||
	    vips_cast(t[4], out, VIPS_FORMAT_UCHAR, NULL))
		goto out_unref;
	rc = 0;
out_unref:
	g_object_unref(scope);
	return rc;
}
