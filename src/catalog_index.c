/*
 * The catalog's indexes for runners and operators (see catalog_index.h):
 * the code index and the per-photographer counts, both added to after each
 * photo write, and the time-ordered listings. Layout:
 *
 *   pk        sk                         item
 *   CODES     <code>                     photos (ADD; 0 once a code's last photo went)
 *   COUNTS    PHOTOGRAPHER#<name>        processed, unmatched, failed (ADD)
 *   PHOTOS    <sort time>#<id>           a processed photo's listing entry
 *   PHOTOS#<name>  <sort time>#<id>      the same, per photographer
 *
 * The listings' entries are put and deleted in the photo's own transaction
 * (catalog_item.c); the counters here follow it, best effort like the
 * race's counts. Loop thread for the operations; the helpers are pure.
 */
#include "photofinish/catalog_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/aws/dynamodb.h"
#include "photofinish/codec.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

#include "catalog_int.h"

char *pf_catalog_photographer_of(const char *key, const char *prefix)
{
	size_t plen = prefix ? strlen(prefix) : 0;
	const char *rest, *slash;

	if (!key || strncmp(key, prefix ? prefix : "", plen) != 0)
		return NULL;
	rest = key + plen;
	slash = strchr(rest, '/');
	if (!slash)
		return pf_xstrdup("");
	/* A folder name too long to be a photographer's: counted as none, so
	 * the photo's codes still reach the code index. */
	if ((size_t)(slash - rest) > PF_CATALOG_PHOTOGRAPHER_MAX)
		return pf_xstrdup("");
	return pf_xstrndup(rest, (size_t)(slash - rest));
}

bool pf_catalog_photographer_is_valid(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= 40 && strchr("abcdefghijklmnopqrstuvwxyz0123456789", name[0]) &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* ---- what a write changes ------------------------------------------------- */

struct code_delta {
	char *code;
	int64_t by;
};

struct pf_catalog__index_delta {
	struct code_delta codes[2 * PF_CATALOG_MAX_CODES];
	size_t ncodes;
	/* Per photographer: old's removed, img's added (the same name twice
	 * when both have one; then summed). */
	char *names[2];
	struct pf_catalog_counts counts[2];
	size_t nnames;
};

static bool has_code(const struct pf_catalog_image *img, const char *code)
{
	for (size_t i = 0; img && img->status == PF_IMAGE_PROCESSED && i < img->ncodes; i++) {
		if (!strcmp(img->codes[i], code))
			return true;
	}
	return false;
}

static void add_codes(struct pf_catalog__index_delta *d, const struct pf_catalog_image *img,
                      const struct pf_catalog_image *other, int64_t by)
{
	for (size_t i = 0; img && img->status == PF_IMAGE_PROCESSED && i < img->ncodes &&
	                   i < PF_CATALOG_MAX_CODES;
	     i++) {
		if (has_code(other, img->codes[i]))
			continue;
		d->codes[d->ncodes].code = pf_xstrdup(img->codes[i]);
		d->codes[d->ncodes++].by = by;
	}
}

static void add_photographer(struct pf_catalog__index_delta *d, const struct pf_catalog_image *img,
                             bool added)
{
	struct pf_catalog_counts c;
	size_t i;

	if (!img || !img->photographer || img->status == PF_IMAGE_DELETED)
		return;
	pf_catalog_counts_delta(added ? NULL : img, added ? img : NULL, &c);
	for (i = 0; i < d->nnames && strcmp(d->names[i], img->photographer); i++)
		;
	if (i == d->nnames)
		d->names[d->nnames++] = pf_xstrdup(img->photographer);
	d->counts[i].processed += c.processed;
	d->counts[i].unmatched += c.unmatched;
	d->counts[i].failed += c.failed;
}

struct pf_catalog__index_delta *pf_catalog__index_delta_new(const struct pf_catalog_image *old,
                                                            const struct pf_catalog_image *img)
{
	struct pf_catalog__index_delta *d = pf_xcalloc(1, sizeof(*d));

	/* A photo counts in the indexes once a version that keeps them wrote it
	 * (those record its photographer): one written before is counted when
	 * it is reprocessed, and was never counted before. */
	if (old && !old->photographer)
		old = NULL;
	if (img && !img->photographer)
		img = NULL;
	add_codes(d, old, img, -1);
	add_codes(d, img, old, 1);
	add_photographer(d, old, false);
	add_photographer(d, img, true);
	return d;
}

size_t pf_catalog__index_delta_codes(const struct pf_catalog__index_delta *d, const char **codes,
                                     int64_t *by, size_t max)
{
	size_t n = 0;

	for (; n < d->ncodes && n < max; n++) {
		codes[n] = d->codes[n].code;
		by[n] = d->codes[n].by;
	}
	return n;
}

void pf_catalog__index_delta_free(struct pf_catalog__index_delta *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ncodes; i++)
		free(d->codes[i].code);
	for (size_t i = 0; i < d->nnames; i++)
		free(d->names[i]);
	free(d);
}

struct index_update {
	struct pf_catalog *cat;
	const char *what;
};

static void on_index_added(json_t *response, const struct pf_error *err, void *arg)
{
	struct index_update *u = arg;

	pf_catalog__background(u->cat, -1);
	/* Best effort, like the race's counts: a lost update makes a
	 * suggestion's count or an operator's figure slightly off, never a
	 * photo unfindable. */
	if (err->code)
		pf_warn("catalog index not updated", PF_LS("what", u->what),
		        PF_LS("error", err->message));
	free(u);
}

static struct index_update *index_update(struct pf_catalog *cat, const char *what)
{
	struct index_update *u = pf_xmalloc(sizeof(*u));

	u->cat = cat;
	u->what = what;
	pf_catalog__background(cat, 1);
	return u;
}

static void add_code(struct pf_catalog *cat, const char *code, int64_t by)
{
	char n[32];
	struct pf_error e;
	struct index_update *u = index_update(cat, "code");

	snprintf(n, sizeof(n), "%lld", (long long)by);
	if (pf_dynamodb_update_item(pf_catalog__aws(cat), pf_catalog__table(cat),
	                            pf_catalog__key("CODES", code), "ADD #p :p",
	                            json_pack("{s:{s:s},s:{s:{s:s}}}", "ExpressionAttributeNames",
	                                      "#p", "photos", "ExpressionAttributeValues", ":p",
	                                      "N", n),
	                            on_index_added, u, &e) < 0)
		on_index_added(NULL, &e, u);
}

static void add_counts(struct pf_catalog *cat, const char *name, const struct pf_catalog_counts *c)
{
	char p[32], un[32], f[32];
	char *sk;
	struct pf_error e;
	struct index_update *u;

	if (!c->processed && !c->unmatched && !c->failed)
		return;
	snprintf(p, sizeof(p), "%lld", (long long)c->processed);
	snprintf(un, sizeof(un), "%lld", (long long)c->unmatched);
	snprintf(f, sizeof(f), "%lld", (long long)c->failed);
	sk = pf_xasprintf("PHOTOGRAPHER#%s", name);
	u = index_update(cat, "photographer");
	if (pf_dynamodb_update_item(pf_catalog__aws(cat), pf_catalog__table(cat),
	                            pf_catalog__key("COUNTS", sk), "ADD #p :p, #u :u, #f :f",
	                            json_pack("{s:{s:s,s:s,s:s},s:{s:{s:s},s:{s:s},s:{s:s}}}",
	                                      "ExpressionAttributeNames", "#p", "processed", "#u",
	                                      "unmatched", "#f", "failed",
	                                      "ExpressionAttributeValues", ":p", "N", p, ":u", "N",
	                                      un, ":f", "N", f),
	                            on_index_added, u, &e) < 0)
		on_index_added(NULL, &e, u);
	free(sk);
}

void pf_catalog__index_apply(struct pf_catalog *cat, struct pf_catalog__index_delta *d)
{
	for (size_t i = 0; i < d->ncodes; i++)
		add_code(cat, d->codes[i].code, d->codes[i].by);
	for (size_t i = 0; i < d->nnames; i++)
		add_counts(cat, d->names[i], &d->counts[i]);
	pf_catalog__index_delta_free(d);
}

/* ---- reading the code index ---------------------------------------------- */

/* The index is read a page at a time and only codes with photos are kept
 * (as copies), so memory stays at one page of JSON plus the copy: at the
 * cap, the whole answer as JSON would be some 200 MB. */
struct codes_ctx {
	pf_catalog_codes_cb cb;
	void *arg;
	size_t max;
	struct pf_catalog *cat;
	struct pf_catalog_code_count *codes;
	size_t n, cap;
};

static bool get_n(const json_t *item, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(json_object_get(item, name), "N");

	return json_is_string(v) && pf_parse_int64(json_string_value(v), INT64_MIN, INT64_MAX, out);
}

static json_t *codes_query(void)
{
	return json_pack("{s:s,s:s,s:{s:s},s:{s:{s:s}}}", "KeyConditionExpression", "pk = :pk",
	                 "ProjectionExpression", "sk, #p", "ExpressionAttributeNames", "#p",
	                 "photos", "ExpressionAttributeValues", ":pk", "S", "CODES");
}

static void codes_end(struct codes_ctx *ctx, bool more, const struct pf_error *err)
{
	if (err->code)
		ctx->cb(NULL, 0, false, err, ctx->arg);
	else
		ctx->cb(ctx->codes, ctx->n, more, err, ctx->arg);
	for (size_t i = 0; i < ctx->n; i++)
		free((char *)ctx->codes[i].code);
	free(ctx->codes);
	free(ctx);
}

static void on_codes(json_t *items, json_t *last_evaluated_key, json_t *page,
                     const struct pf_error *err, void *arg)
{
	struct codes_ctx *ctx = arg;
	struct pf_error e;
	size_t i;
	json_t *item;

	if (err->code) {
		codes_end(ctx, false, err);
		return;
	}
	json_array_foreach(items, i, item)
	{
		const char *code = pf_catalog__get_s(item, "sk");
		int64_t photos = 0;

		/* Codes whose photos were all removed stay at 0: not counted. */
		if (!code || !get_n(item, "photos", &photos) || photos <= 0)
			continue;
		if (ctx->n == ctx->max) {
			codes_end(ctx, true, err);
			return;
		}
		if (ctx->n == ctx->cap) {
			ctx->cap = ctx->cap ? ctx->cap * 2 : 1024;
			ctx->codes = pf_xrealloc(ctx->codes, ctx->cap * sizeof(*ctx->codes));
		}
		ctx->codes[ctx->n].code = pf_xstrdup(code);
		ctx->codes[ctx->n++].photos = photos;
	}
	if (!last_evaluated_key) {
		codes_end(ctx, false, err);
		return;
	}
	if (pf_dynamodb_query(pf_catalog__aws(ctx->cat), pf_catalog__table(ctx->cat), codes_query(),
	                      last_evaluated_key, on_codes, ctx, &e) < 0)
		codes_end(ctx, false, &e);
}

int pf_catalog_codes_list(struct pf_catalog *cat, size_t max, pf_catalog_codes_cb cb, void *arg,
                          struct pf_error *err)
{
	struct codes_ctx *ctx = pf_xcalloc(1, sizeof(*ctx));
	int rc;

	ctx->cb = cb;
	ctx->arg = arg;
	ctx->max = max;
	ctx->cat = cat;
	rc = pf_dynamodb_query(pf_catalog__aws(cat), pf_catalog__table(cat), codes_query(), NULL,
	                       on_codes, ctx, err);
	if (rc < 0)
		free(ctx);
	return rc;
}

/* ---- photographers' counts ------------------------------------------------ */

struct photographers_ctx {
	pf_catalog_photographers_cb cb;
	void *arg;
};

static void on_photographers(json_t *items, json_t *last_evaluated_key, json_t *page,
                             const struct pf_error *err, void *arg)
{
	struct photographers_ctx *ctx = arg;
	struct pf_catalog_photographer_counts *list;
	size_t n = 0, i;
	json_t *item;

	if (err->code) {
		ctx->cb(NULL, 0, err, ctx->arg);
		free(ctx);
		return;
	}
	list = pf_xcalloc(json_array_size(items) + 1, sizeof(*list));
	json_array_foreach(items, i, item)
	{
		const char *sk = pf_catalog__get_s(item, "sk");

		if (!sk || strncmp(sk, "PHOTOGRAPHER#", 13))
			continue;
		list[n].name = sk + 13;
		get_n(item, "processed", &list[n].counts.processed);
		get_n(item, "unmatched", &list[n].counts.unmatched);
		get_n(item, "failed", &list[n].counts.failed);
		n++;
	}
	ctx->cb(list, n, err, ctx->arg);
	free(list);
	free(ctx);
}

int pf_catalog_photographers_list(struct pf_catalog *cat, pf_catalog_photographers_cb cb, void *arg,
                                  struct pf_error *err)
{
	struct photographers_ctx *ctx = pf_xcalloc(1, sizeof(*ctx));
	int rc;

	ctx->cb = cb;
	ctx->arg = arg;
	rc = pf_dynamodb_query_all(pf_catalog__aws(cat), pf_catalog__table(cat),
	                           json_pack("{s:s,s:{s:{s:s},s:{s:s}}}", "KeyConditionExpression",
	                                     "pk = :pk AND begins_with(sk, :p)",
	                                     "ExpressionAttributeValues", ":pk", "S", "COUNTS",
	                                     ":p", "S", "PHOTOGRAPHER#"),
	                           PF_CATALOG_MAX_PHOTOGRAPHERS, on_photographers, ctx, err);
	if (rc < 0)
		free(ctx);
	return rc;
}

/* ---- photos by time -------------------------------------------------------- */

int pf_catalog_list_photos(struct pf_catalog *cat, const struct pf_catalog_photos_query *q,
                           const struct pf_catalog_page_options *opts, pf_catalog_page_cb cb,
                           void *arg, struct pf_error *err)
{
	char *pk;
	int rc;

	if (q->photographer && strlen(q->photographer) > PF_CATALOG_PHOTOGRAPHER_MAX)
		return pf_error_set(err, PF_EINVAL, "photographer name too long");
	if (!q->from || !q->to || strcmp(q->from, q->to) >= 0)
		return pf_error_set(err, PF_EINVAL, "the window must end after it starts");
	if (opts->cursor) {
		/* DynamoDB refuses a start key outside the key condition. */
		char *sk = pf_catalog_cursor_decode(opts->cursor);
		bool inside = sk && strcmp(sk, q->from) >= 0 && strcmp(sk, q->to) <= 0;

		free(sk);
		if (!inside)
			return pf_error_set(err, PF_EINVAL, "cursor is outside the window");
	}
	pk = q->photographer ? pf_xasprintf("PHOTOS#%s", q->photographer) : pf_xstrdup("PHOTOS");
	rc = pf_catalog__list_window(cat, pk, q->from, q->to, q->descending, opts, cb, arg, err);
	free(pk);
	return rc;
}

/* ---- camera clocks ----------------------------------------------------------- */

struct clock_ctx {
	pf_catalog_done_cb done;
	pf_catalog_clocks_cb list;
	void *arg;
};

static void on_clock_put(json_t *response, const struct pf_error *err, void *arg)
{
	struct clock_ctx *ctx = arg;

	ctx->done(err, ctx->arg);
	free(ctx);
}

int pf_catalog_clock_put(struct pf_catalog *cat, const char *name, int64_t offset_s,
                         pf_catalog_done_cb cb, void *arg, struct pf_error *err)
{
	struct clock_ctx *ctx;
	json_t *item;
	int rc;

	if (!pf_catalog_photographer_is_valid(name) || offset_s < -PF_CATALOG_MAX_CLOCK_OFFSET ||
	    offset_s > PF_CATALOG_MAX_CLOCK_OFFSET)
		return pf_error_set(err, PF_EINVAL, "not a photographer's clock offset");
	item = pf_catalog__key("CLOCK", name);
	pf_catalog__set_n(item, "offsetSeconds", offset_s);
	pf_catalog__set_n(item, "updatedMs", pf_now_ms());
	ctx = pf_xcalloc(1, sizeof(*ctx));
	ctx->done = cb;
	ctx->arg = arg;
	rc = pf_dynamodb_put_item(pf_catalog__aws(cat), pf_catalog__table(cat), item, NULL,
	                          on_clock_put, ctx, err);
	if (rc < 0)
		free(ctx);
	return rc;
}

static void on_clocks(json_t *items, json_t *last_evaluated_key, json_t *page,
                      const struct pf_error *err, void *arg)
{
	struct clock_ctx *ctx = arg;
	struct pf_catalog_clock *list;
	size_t n = 0, i;
	json_t *item;

	if (err->code) {
		ctx->list(NULL, 0, err, ctx->arg);
		free(ctx);
		return;
	}
	list = pf_xcalloc(json_array_size(items) + 1, sizeof(*list));
	json_array_foreach(items, i, item)
	{
		const char *name = pf_catalog__get_s(item, "sk");

		if (!name || !get_n(item, "offsetSeconds", &list[n].offset_s))
			continue;
		list[n++].name = name;
	}
	ctx->list(list, n, err, ctx->arg);
	free(list);
	free(ctx);
}

int pf_catalog_clocks_list(struct pf_catalog *cat, pf_catalog_clocks_cb cb, void *arg,
                           struct pf_error *err)
{
	struct clock_ctx *ctx = pf_xcalloc(1, sizeof(*ctx));
	int rc;

	ctx->list = cb;
	ctx->arg = arg;
	rc = pf_dynamodb_query_all(pf_catalog__aws(cat), pf_catalog__table(cat),
	                           json_pack("{s:s,s:{s:{s:s}},s:b}", "KeyConditionExpression",
	                                     "pk = :pk", "ExpressionAttributeValues", ":pk", "S",
	                                     "CLOCK", "ConsistentRead", 1),
	                           PF_CATALOG_MAX_PHOTOGRAPHERS, on_clocks, ctx, err);
	if (rc < 0)
		free(ctx);
	return rc;
}

bool pf_catalog_corrected_time(const char *taken_at, int64_t offset_s, char taken_out[40],
                               char sort_out[40])
{
	int Y, M, D, h, m, s;
	int64_t t, days, secs;
	const char *zone;
	int64_t y;
	unsigned mo, d;
	char text[96];

	if (!taken_at || strlen(taken_at) < 20 || strlen(taken_at) > 30 || taken_at[4] != '-' ||
	    taken_at[7] != '-' || taken_at[10] != 'T' || taken_at[13] != ':' ||
	    taken_at[16] != ':' || !pf_codec_digits(taken_at, 4, &Y) ||
	    !pf_codec_digits(taken_at + 5, 2, &M) || !pf_codec_digits(taken_at + 8, 2, &D) ||
	    !pf_codec_digits(taken_at + 11, 2, &h) || !pf_codec_digits(taken_at + 14, 2, &m) ||
	    !pf_codec_digits(taken_at + 17, 2, &s) || M < 1 || M > 12 || D < 1 || D > 31 ||
	    h > 23 || m > 59 || s > 60)
		return false;
	zone = taken_at + 19;
	/* The wall clock as if it were UTC, moved, then back to a civil time. */
	t = pf_codec_days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + s + offset_s;
	days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	secs = t - days * 86400;
	/* civil_from_days (H. Hinnant's algorithm). */
	{
		int64_t z = days + 719468;
		int64_t era = (z >= 0 ? z : z - 146096) / 146097;
		unsigned doe = (unsigned)(z - era * 146097);
		unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
		unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
		unsigned mp = (5 * doy + 2) / 153;

		d = doy - (153 * mp + 2) / 5 + 1;
		mo = mp < 10 ? mp + 3 : mp - 9;
		y = (int64_t)yoe + era * 400 + (mo <= 2);
	}
	if (y < 0 || y > 9999)
		return false;
	snprintf(text, sizeof(text), "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y, mo % 100, d % 100,
	         (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
	if (strlen(text) != 20 || strlen(zone) > 19)
		return false;
	memcpy(sort_out, text, 21);
	memcpy(taken_out, text, 19);
	memcpy(taken_out + 19, zone, strlen(zone) + 1);
	return true;
}
