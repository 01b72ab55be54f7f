/*
 * The catalog's storage format: image items, listing entries, the
 * transaction that moves an image from one version to the next, cursors.
 * Pure; any thread.
 */
#include "catalog_int.h"
#include "photofinish/codec.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/util.h"

static const char *const status_names[] = {
    [PF_IMAGE_PROCESSED] = "processed",
    [PF_IMAGE_FAILED] = "failed",
    [PF_IMAGE_DELETED] = "deleted",
};

static void free_codes(char **codes, size_t n);

void pf_catalog_image_id(const char *bucket, const char *key, char out[PF_CATALOG_ID_LEN + 1])
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, bucket, strlen(bucket));
	EVP_DigestUpdate(ctx, "/", 1);
	EVP_DigestUpdate(ctx, key, strlen(key));
	EVP_DigestFinal_ex(ctx, digest, NULL);
	EVP_MD_CTX_free(ctx);
	for (int i = 0; i < PF_CATALOG_ID_LEN / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

void pf_catalog_image_free(struct pf_catalog_image *img)
{
	if (!img)
		return;
	free(img->bucket);
	free(img->key);
	free(img->etag);
	free(img->sequencer);
	free(img->reason);
	free(img->message);
	free_codes(img->codes, img->ncodes);
	free(img->fullsize_key);
	free(img->thumbnail_key);
	free(img->fullsize_webp_key);
	free(img->thumbnail_webp_key);
	free(img->taken_at);
	free(img->sort_time);
	free(img->processed_at);
	free(img->photographer);
	memset(img, 0, sizeof(*img));
}

static char *dup_or_null(const char *s)
{
	return s ? pf_xstrdup(s) : NULL;
}

void pf_catalog_image_copy(struct pf_catalog_image *dst, const struct pf_catalog_image *src)
{
	*dst = *src;
	dst->bucket = dup_or_null(src->bucket);
	dst->key = dup_or_null(src->key);
	dst->etag = dup_or_null(src->etag);
	dst->sequencer = dup_or_null(src->sequencer);
	dst->reason = dup_or_null(src->reason);
	dst->message = dup_or_null(src->message);
	dst->codes = src->ncodes ? pf_xcalloc(src->ncodes, sizeof(char *)) : NULL;
	for (size_t i = 0; i < src->ncodes; i++)
		dst->codes[i] = pf_xstrdup(src->codes[i]);
	dst->fullsize_key = dup_or_null(src->fullsize_key);
	dst->thumbnail_key = dup_or_null(src->thumbnail_key);
	dst->fullsize_webp_key = dup_or_null(src->fullsize_webp_key);
	dst->thumbnail_webp_key = dup_or_null(src->thumbnail_webp_key);
	dst->taken_at = dup_or_null(src->taken_at);
	dst->sort_time = dup_or_null(src->sort_time);
	dst->processed_at = dup_or_null(src->processed_at);
	dst->photographer = dup_or_null(src->photographer);
}

void pf_catalog_image_make_tombstone(struct pf_catalog_image *img)
{
	img->status = PF_IMAGE_DELETED;
	free_codes(img->codes, img->ncodes);
	img->codes = NULL;
	img->ncodes = 0;
	img->codes_manual = false;
	free(img->fullsize_key);
	free(img->thumbnail_key);
	img->fullsize_key = img->thumbnail_key = NULL;
	free(img->fullsize_webp_key);
	free(img->thumbnail_webp_key);
	img->fullsize_webp_key = img->thumbnail_webp_key = NULL;
}

size_t pf_catalog_image_variant_keys(const struct pf_catalog_image *img,
                                     const char *keys[PF_CATALOG_MAX_VARIANTS])
{
	const char *all[PF_CATALOG_MAX_VARIANTS] = {
	    img->fullsize_key, img->thumbnail_key, img->fullsize_webp_key, img->thumbnail_webp_key};
	size_t n = 0;

	for (size_t i = 0; i < PF_CATALOG_MAX_VARIANTS; i++) {
		if (all[i])
			keys[n++] = all[i];
	}
	return n;
}

bool pf_catalog_id_is_valid(const char *id)
{
	return strlen(id) == PF_CATALOG_ID_LEN &&
	       strspn(id, "0123456789abcdef") == PF_CATALOG_ID_LEN;
}

void pf_catalog__set_s(json_t *item, const char *name, const char *value)
{
	if (value)
		json_object_set_new(item, name, json_pack("{s:s}", "S", value));
}

void pf_catalog__set_n(json_t *item, const char *name, int64_t value)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", (long long)value);
	json_object_set_new(item, name, json_pack("{s:s}", "N", num));
}

json_t *pf_catalog__key(const char *pk, const char *sk)
{
	return json_pack("{s:{s:s},s:{s:s}}", "pk", "S", pk, "sk", "S", sk);
}

void pf_catalog__image_pk(const char *id, char pk[8 + PF_CATALOG_ID_LEN])
{
	snprintf(pk, 8 + PF_CATALOG_ID_LEN, "IMAGE#%s", id);
}

static json_t *codes_list(const struct pf_catalog_image *img)
{
	json_t *list = json_array();

	for (size_t i = 0; i < img->ncodes; i++)
		json_array_append_new(list, json_pack("{s:s}", "S", img->codes[i]));
	return json_pack("{s:o}", "L", list);
}

/* The variants' dimensions. */
static void set_sizes(json_t *item, const struct pf_catalog_image *img)
{
	pf_catalog__set_n(item, "width", img->width);
	pf_catalog__set_n(item, "height", img->height);
	pf_catalog__set_n(item, "thumbnailWidth", img->thumbnail_width);
	pf_catalog__set_n(item, "thumbnailHeight", img->thumbnail_height);
}

json_t *pf_catalog_image_item(const struct pf_catalog_image *img)
{
	json_t *item = json_object();
	char pk[8 + PF_CATALOG_ID_LEN];

	pf_catalog__image_pk(img->id, pk);
	pf_catalog__set_s(item, "pk", pk);
	pf_catalog__set_s(item, "sk", "IMAGE");
	pf_catalog__set_s(item, "id", img->id);
	pf_catalog__set_s(item, "status", status_names[img->status]);
	pf_catalog__set_n(item, "version", img->version);
	pf_catalog__set_s(item, "bucket", img->bucket);
	pf_catalog__set_s(item, "key", img->key);
	pf_catalog__set_s(item, "etag", img->etag);
	pf_catalog__set_n(item, "size", img->size);
	pf_catalog__set_s(item, "sequencer", img->sequencer ? img->sequencer : "");
	pf_catalog__set_s(item, "reason", img->reason);
	pf_catalog__set_s(item, "message", img->message);
	json_object_set_new(item, "codes", codes_list(img));
	pf_catalog__set_s(item, "codesSource", img->codes_manual ? "manual" : "detected");
	pf_catalog__set_s(item, "fullsizeKey", img->fullsize_key);
	pf_catalog__set_s(item, "thumbnailKey", img->thumbnail_key);
	pf_catalog__set_s(item, "fullsizeWebpKey", img->fullsize_webp_key);
	pf_catalog__set_s(item, "thumbnailWebpKey", img->thumbnail_webp_key);
	if (img->status == PF_IMAGE_PROCESSED)
		set_sizes(item, img);
	pf_catalog__set_s(item, "takenAt", img->taken_at);
	pf_catalog__set_s(item, "sortTime", img->sort_time);
	pf_catalog__set_s(item, "processedAt", img->processed_at);
	pf_catalog__set_s(item, "photographer", img->photographer);
	return item;
}

const char *pf_catalog__get_s(const json_t *item, const char *name)
{
	const json_t *v = json_object_get(json_object_get(item, name), "S");

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *get_s_or(const json_t *item, const char *name, const char *fallback)
{
	const char *s = pf_catalog__get_s(item, name);

	return s ? s : fallback;
}

static bool get_n(const json_t *item, const char *name, int64_t *out)
{
	const json_t *v = json_object_get(json_object_get(item, name), "N");

	return json_is_string(v) && pf_parse_int64(json_string_value(v), INT64_MIN, INT64_MAX, out);
}

static int get_int(const json_t *item, const char *name)
{
	int64_t v = 0;

	if (!get_n(item, name, &v) || v < 0 || v > 1000000)
		return 0;
	return (int)v;
}

/* The codes list attribute: at most PF_CATALOG_MAX_CODES strings. */
static void read_codes(const json_t *item, char ***out, size_t *n)
{
	const json_t *codes = json_object_get(json_object_get(item, "codes"), "L");
	size_t i;
	const json_t *c;

	*n = 0;
	*out = pf_xcalloc(json_array_size(codes) + 1, sizeof(char *));
	json_array_foreach(codes, i, c)
	{
		const char *s = json_string_value(json_object_get(c, "S"));

		if (s && *n < PF_CATALOG_MAX_CODES)
			(*out)[(*n)++] = pf_xstrdup(s);
	}
}

static void free_codes(char **codes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(codes[i]);
	free(codes);
}

/* Every attribute an item of any kind may carry; absent ones stay unset. */
static void read_fields(const json_t *item, const char *id, struct pf_catalog_image *out)
{
	memcpy(out->id, id, PF_CATALOG_ID_LEN + 1);
	if (!get_n(item, "version", &out->version))
		out->version = 0;
	out->bucket = dup_or_null(pf_catalog__get_s(item, "bucket"));
	out->key = dup_or_null(pf_catalog__get_s(item, "key"));
	out->etag = dup_or_null(pf_catalog__get_s(item, "etag"));
	if (!get_n(item, "size", &out->size))
		out->size = -1;
	out->sequencer = pf_xstrdup(get_s_or(item, "sequencer", ""));
	out->reason = dup_or_null(pf_catalog__get_s(item, "reason"));
	out->message = dup_or_null(pf_catalog__get_s(item, "message"));
	read_codes(item, &out->codes, &out->ncodes);
	out->codes_manual = !strcmp(get_s_or(item, "codesSource", ""), "manual");
	out->fullsize_key = dup_or_null(pf_catalog__get_s(item, "fullsizeKey"));
	out->thumbnail_key = dup_or_null(pf_catalog__get_s(item, "thumbnailKey"));
	out->fullsize_webp_key = dup_or_null(pf_catalog__get_s(item, "fullsizeWebpKey"));
	out->thumbnail_webp_key = dup_or_null(pf_catalog__get_s(item, "thumbnailWebpKey"));
	out->width = get_int(item, "width");
	out->height = get_int(item, "height");
	out->thumbnail_width = get_int(item, "thumbnailWidth");
	out->thumbnail_height = get_int(item, "thumbnailHeight");
	out->taken_at = dup_or_null(pf_catalog__get_s(item, "takenAt"));
	out->sort_time = dup_or_null(pf_catalog__get_s(item, "sortTime"));
	out->processed_at = dup_or_null(pf_catalog__get_s(item, "processedAt"));
	out->photographer = dup_or_null(pf_catalog__get_s(item, "photographer"));
}

int pf_catalog_image_from_item(const json_t *item, struct pf_catalog_image *out,
                               struct pf_error *err)
{
	const char *id = pf_catalog__get_s(item, "id");
	const char *status = pf_catalog__get_s(item, "status");

	memset(out, 0, sizeof(*out));
	if (!id || strlen(id) != PF_CATALOG_ID_LEN || !status)
		return pf_error_set(err, PF_EINVAL, "catalog item is not an image item");
	read_fields(item, id, out);
	if (!strcmp(status, "failed"))
		out->status = PF_IMAGE_FAILED;
	else if (!strcmp(status, "deleted"))
		out->status = PF_IMAGE_DELETED;
	else
		out->status = PF_IMAGE_PROCESSED;
	return 0;
}

int pf_catalog_entry_from_item(const json_t *item, struct pf_catalog_image *out,
                               struct pf_error *err)
{
	const char *id = pf_catalog__get_s(item, "id");

	memset(out, 0, sizeof(*out));
	if (!id || !pf_catalog_id_is_valid(id))
		return pf_error_set(err, PF_EINVAL, "catalog item is not a listing entry");
	read_fields(item, id, out);
	/* Only failed entries carry a reason (see entry_item). */
	out->status = out->reason ? PF_IMAGE_FAILED : PF_IMAGE_PROCESSED;
	return 0;
}

/* One listing entry of an image: its pk/sk and the attributes a reader needs. */
/* Entries besides the codes': unmatched or failed, the name, the time
 * listings (PHOTOS and PHOTOS#<photographer>): at most 43 entries, so with
 * 40 codes a transaction holds the image, 43 deletes, 43 puts and the
 * fence: 88 of DynamoDB's 100. */
#define ENTRY_KEYS_EXTRA 4
struct entry_key {
	char *pk;
	char *sk;
};

/* The name entry's partition: the key's last segment, lower-cased, so an
 * operator finds a photo by the file name a photographer gives. */
char *pf_catalog__name_pk(const char *key)
{
	const char *slash = strrchr(key, '/');
	char *pk = pf_xasprintf("NAME#%s", slash ? slash + 1 : key);

	for (char *p = pk + 5; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return pk;
}

/* max: codes at most; keys has room for max + ENTRY_KEYS_EXTRA. */
static size_t entry_keys(const struct pf_catalog_image *img, struct entry_key *keys, size_t max)
{
	size_t n = 0;

	if (img->status == PF_IMAGE_DELETED)
		return 0;
	if (img->status == PF_IMAGE_FAILED) {
		keys[n].pk = pf_xstrdup("FAILED");
		keys[n++].sk =
		    pf_xasprintf("%s#%s", img->processed_at ? img->processed_at : "", img->id);
	} else if (img->ncodes == 0) {
		keys[n].pk = pf_xstrdup("UNMATCHED");
		keys[n++].sk = pf_xasprintf("%s#%s", img->sort_time ? img->sort_time : "", img->id);
	}
	for (size_t i = 0; img->status == PF_IMAGE_PROCESSED && i < img->ncodes && i < max; i++) {
		keys[n].pk = pf_xasprintf("CODE#%s", img->codes[i]);
		keys[n++].sk = pf_xasprintf("%s#%s", img->sort_time ? img->sort_time : "", img->id);
	}
	if (img->key) {
		keys[n].pk = pf_catalog__name_pk(img->key);
		keys[n++].sk = pf_xasprintf("%s#%s", img->sort_time ? img->sort_time : "", img->id);
	}
	/* Browsing by time: tagged and untagged photos alike. */
	if (img->status == PF_IMAGE_PROCESSED) {
		keys[n].pk = pf_xstrdup("PHOTOS");
		keys[n++].sk = pf_xasprintf("%s#%s", img->sort_time ? img->sort_time : "", img->id);
	}
	if (img->status == PF_IMAGE_PROCESSED && img->photographer) {
		keys[n].pk = pf_xasprintf("PHOTOS#%s", img->photographer);
		keys[n++].sk = pf_xasprintf("%s#%s", img->sort_time ? img->sort_time : "", img->id);
	}
	return n;
}

static void entry_keys_free(struct entry_key *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(keys[i].pk);
		free(keys[i].sk);
	}
}

static json_t *entry_item(const struct pf_catalog_image *img, const struct entry_key *k)
{
	json_t *item = json_object();

	pf_catalog__set_s(item, "pk", k->pk);
	pf_catalog__set_s(item, "sk", k->sk);
	pf_catalog__set_s(item, "id", img->id);
	if (img->status == PF_IMAGE_FAILED) {
		pf_catalog__set_s(item, "key", img->key);
		pf_catalog__set_s(item, "reason", img->reason);
		pf_catalog__set_s(item, "message", img->message);
		pf_catalog__set_s(item, "processedAt", img->processed_at);
		return item;
	}
	pf_catalog__set_s(item, "key", img->key);
	pf_catalog__set_s(item, "fullsizeKey", img->fullsize_key);
	pf_catalog__set_s(item, "thumbnailKey", img->thumbnail_key);
	pf_catalog__set_s(item, "fullsizeWebpKey", img->fullsize_webp_key);
	pf_catalog__set_s(item, "thumbnailWebpKey", img->thumbnail_webp_key);
	set_sizes(item, img);
	pf_catalog__set_s(item, "takenAt", img->taken_at);
	json_object_set_new(item, "codes", codes_list(img));
	pf_catalog__set_s(item, "photographer", img->photographer);
	return item;
}

json_t *pf_catalog_transact_items(const char *table, const struct pf_catalog_image *img,
                                  const struct pf_catalog_image *old)
{
	struct entry_key new_keys[PF_CATALOG_MAX_CODES + ENTRY_KEYS_EXTRA],
	    old_keys[PF_CATALOG_MAX_CODES + ENTRY_KEYS_EXTRA];
	size_t nnew = entry_keys(img, new_keys, PF_CATALOG_MAX_CODES);
	size_t nold = old ? entry_keys(old, old_keys, PF_CATALOG_MAX_CODES) : 0;
	json_t *items = json_array();
	json_t *put;

	if (old) {
		char ver[32];

		snprintf(ver, sizeof(ver), "%lld", (long long)old->version);
		put = json_pack("{s:{s:s,s:o,s:s,s:{s:s},s:{s:{s:s}}}}", "Put", "TableName", table,
		                "Item", pf_catalog_image_item(img), "ConditionExpression",
		                "#v = :v", "ExpressionAttributeNames", "#v", "version",
		                "ExpressionAttributeValues", ":v", "N", ver);
	} else {
		put = json_pack("{s:{s:s,s:o,s:s}}", "Put", "TableName", table, "Item",
		                pf_catalog_image_item(img), "ConditionExpression",
		                "attribute_not_exists(pk)");
	}
	json_array_append_new(items, put);

	/* A transaction may not touch one item twice: only delete what is gone. */
	for (size_t i = 0; i < nold; i++) {
		bool kept = false;

		for (size_t j = 0; j < nnew && !kept; j++)
			kept = !strcmp(old_keys[i].pk, new_keys[j].pk) &&
			       !strcmp(old_keys[i].sk, new_keys[j].sk);
		if (!kept)
			json_array_append_new(items,
			                      json_pack("{s:{s:s,s:{s:{s:s},s:{s:s}}}}", "Delete",
			                                "TableName", table, "Key", "pk", "S",
			                                old_keys[i].pk, "sk", "S", old_keys[i].sk));
	}
	for (size_t j = 0; j < nnew; j++)
		json_array_append_new(items, json_pack("{s:{s:s,s:o}}", "Put", "TableName", table,
		                                       "Item", entry_item(img, &new_keys[j])));
	/* Last: no photo is written while a clear's fence is up (see
	 * catalog_admin.h); a failure here is told apart by its position. */
	json_array_append_new(items, json_pack("{s:{s:s,s:o,s:s}}", "ConditionCheck", "TableName",
	                                       table, "Key", pf_catalog__key("FENCE", "FENCE"),
	                                       "ConditionExpression", "attribute_not_exists(pk)"));
	entry_keys_free(new_keys, nnew);
	entry_keys_free(old_keys, nold);
	return items;
}

char *pf_catalog_cursor_encode(const char *sk)
{
	/* base64url without padding: safe in a query string as is. */
	return pf_codec_base64url((const unsigned char *)sk, strlen(sk));
}

char *pf_catalog_cursor_decode(const char *cursor)
{
	unsigned char *out;
	int len;

	if (strlen(cursor) > 400)
		return NULL;
	out = pf_xmalloc(301);
	len = pf_codec_base64url_decode(cursor, out, 300);
	/* A sort key is "<time>#<id>": printable, with the id at the end. */
	if (len < PF_CATALOG_ID_LEN + 1 || memchr(out, '\0', (size_t)len) ||
	    out[len - PF_CATALOG_ID_LEN - 1] != '#')
		goto fail;
	for (int i = 0; i < len; i++) {
		if (out[i] < 0x20 || out[i] > 0x7e)
			goto fail;
	}
	out[len] = '\0';
	return (char *)out;
fail:
	free(out);
	return NULL;
}

bool pf_catalog_cursor_is_valid(const char *cursor)
{
	char *sk = pf_catalog_cursor_decode(cursor);

	free(sk);
	return sk != NULL;
}
