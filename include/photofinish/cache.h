/*
 * A bounded response cache: answers kept by lookup key for a time, each
 * tagged (a participant code) so a write can forget every answer of a tag.
 * Least recently used answers go first once the entry or byte bound is
 * reached. A generation counter, bumped by every invalidation, lets a reader
 * that started before one know not to store what it read. Pure: time is
 * given by the caller; one thread at a time (the loop thread).
 */
#ifndef PHOTOFINISH_CACHE_H
#define PHOTOFINISH_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/error.h"

struct pf_cache;

struct pf_cache_limits {
	size_t max_entries;
	size_t max_bytes;       /* of bodies */
	size_t max_entry_bytes; /* a larger body is not kept */
};

/* A cached answer, borrowed until the next call on the cache. */
struct pf_cache_hit {
	const char *body;
	size_t len;
	const char *etag;
};

int pf_cache_new(const struct pf_cache_limits *limits, struct pf_cache **out, struct pf_error *err);
void pf_cache_free(struct pf_cache *cache);

/* Whether a fresh answer for key exists at now_ms; an expired one is
 * dropped. A hit becomes the most recently used. */
bool pf_cache_get(struct pf_cache *cache, const char *key, int64_t now_ms,
                  struct pf_cache_hit *out);
/* Keeps body (copied) under key until expires_ms, replacing an answer
 * already kept for key. */
void pf_cache_put(struct pf_cache *cache, const char *key, const char *tag, const char *body,
                  size_t len, const char *etag, int64_t expires_ms);
/* Forgets the answers tagged with any of tags (n == 0: every answer) and
 * bumps the generation. */
void pf_cache_invalidate(struct pf_cache *cache, char *const *tags, size_t n);
uint64_t pf_cache_generation(const struct pf_cache *cache);

size_t pf_cache_count(const struct pf_cache *cache);
size_t pf_cache_bytes(const struct pf_cache *cache);

#endif
