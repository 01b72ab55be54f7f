/*
 * The response cache: a most-recently-used-first list. Lookups walk it,
 * which is fine at the few thousand entries it is bounded to and keeps it
 * simple; time comes from the caller so the module stays pure.
 */
#include "photofinish/cache.h"

#include <stdlib.h>
#include <string.h>

#include "photofinish/util.h"

struct entry {
	char *key;
	char *tag;
	char *body;
	size_t len;
	char *etag;
	int64_t expires_ms;
	struct entry *next;
};

struct pf_cache {
	struct pf_cache_limits limits;
	struct entry *head; /* most recently used first */
	size_t count;
	size_t bytes;
	uint64_t generation;
};

int pf_cache_new(const struct pf_cache_limits *limits, struct pf_cache **out, struct pf_error *err)
{
	struct pf_cache *cache;

	if (limits->max_entries == 0 || limits->max_entry_bytes > limits->max_bytes)
		return pf_error_set(err, PF_EINVAL, "cache limits are inconsistent");
	cache = pf_xcalloc(1, sizeof(*cache));
	cache->limits = *limits;
	*out = cache;
	return 0;
}

/* Unlinks *p and frees it. */
static void drop(struct pf_cache *cache, struct entry **p)
{
	struct entry *e = *p;

	*p = e->next;
	cache->count--;
	cache->bytes -= e->len;
	free(e->key);
	free(e->tag);
	free(e->body);
	free(e->etag);
	free(e);
}

void pf_cache_free(struct pf_cache *cache)
{
	if (!cache)
		return;
	while (cache->head)
		drop(cache, &cache->head);
	free(cache);
}

static struct entry **find(struct pf_cache *cache, const char *key)
{
	struct entry **p = &cache->head;

	while (*p && strcmp((*p)->key, key))
		p = &(*p)->next;
	return *p ? p : NULL;
}

bool pf_cache_get(struct pf_cache *cache, const char *key, int64_t now_ms, struct pf_cache_hit *out)
{
	struct entry **p = find(cache, key);
	struct entry *e;

	if (!p)
		return false;
	e = *p;
	if (e->expires_ms <= now_ms) {
		drop(cache, p);
		return false;
	}
	/* Move to front: hot participants stay cheap to find. */
	*p = e->next;
	e->next = cache->head;
	cache->head = e;
	out->body = e->body;
	out->len = e->len;
	out->etag = e->etag;
	return true;
}

void pf_cache_put(struct pf_cache *cache, const char *key, const char *tag, const char *body,
                  size_t len, const char *etag, int64_t expires_ms)
{
	struct entry **p = find(cache, key);
	struct entry *e;

	if (p)
		drop(cache, p);
	if (len > cache->limits.max_entry_bytes)
		return;
	while (cache->head && (cache->count >= cache->limits.max_entries ||
	                       cache->bytes + len > cache->limits.max_bytes)) {
		/* Drop the least recently used (the tail). */
		p = &cache->head;
		while ((*p)->next)
			p = &(*p)->next;
		drop(cache, p);
	}
	e = pf_xcalloc(1, sizeof(*e));
	e->key = pf_xstrdup(key);
	e->tag = pf_xstrdup(tag);
	e->body = pf_xstrndup(body, len);
	e->len = len;
	e->etag = pf_xstrdup(etag);
	e->expires_ms = expires_ms;
	e->next = cache->head;
	cache->head = e;
	cache->count++;
	cache->bytes += len;
}

void pf_cache_invalidate(struct pf_cache *cache, char *const *tags, size_t n)
{
	cache->generation++;
	for (struct entry **p = &cache->head; *p;) {
		bool hit = n == 0; /* nothing named: everything (a race was cleared) */

		for (size_t i = 0; i < n && !hit; i++)
			hit = !strcmp((*p)->tag, tags[i]);
		if (hit)
			drop(cache, p);
		else
			p = &(*p)->next;
	}
}

uint64_t pf_cache_generation(const struct pf_cache *cache)
{
	return cache->generation;
}

size_t pf_cache_count(const struct pf_cache *cache)
{
	return cache->count;
}

size_t pf_cache_bytes(const struct pf_cache *cache)
{
	return cache->bytes;
}
