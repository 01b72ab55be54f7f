/*
 * The photographers' upload surface (/uploads). Loop thread only.
 */
#include "api_int.h"

static bool uploads_admit(struct pf_api_request *r)
{
	pf_api__reply_error(r, 404, "not_found", "uploads are not available");
	return false;
}

static const struct pf_route uploads_routes[] = {
    {PF_METHOD_GET, "/uploads/objects", NULL},
};

const struct pf_api__surface pf_api__uploads_surface = {
    .prefix = "/uploads/",
    .routes = uploads_routes,
    .nroutes = 1,
    .other_route = "/uploads",
    .admit = uploads_admit,
    .not_found = "no such upload route",
    .wrong_method = "wrong method for this upload route",
};
