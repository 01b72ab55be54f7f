/*
 * Token buckets per client with a bounded table (see ratelimit.h): an open
 * hash table of slots chained by index, and a doubly linked list from the
 * most to the least recently seen client for eviction. Each bucket is kept
 * as one instant (the generic cell rate algorithm): the time at which it
 * would be full again, in whole milliseconds, so refills are exact and
 * need no timer. Pure but for the hash seed; one thread.
 */
#include "photofinish/ratelimit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "photofinish/util.h"

#define NONE ((size_t)-1)

struct slot {
	char key[PF_RATELIMIT_KEY_MAX + 1];
	int64_t tat;        /* when the bucket is full again: each token spent adds refill_ms */
	uint64_t last_item; /* what the last token was spent on (0: none) */
	size_t next_in_bucket;
	size_t newer, older; /* the recency list */
};

struct pf_ratelimit {
	int64_t refill_ms;
	int64_t tolerance_ms; /* (burst - 1) * refill_ms: how far ahead tat may run */
	struct slot *slots;
	size_t nslots, used;
	size_t *buckets;
	size_t nbuckets;
	size_t newest, oldest;
	uint64_t seed; /* random: bucket chains cannot be grown on purpose */
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* The bucket of a client: keys come from outsiders, who must not be able
 * to pick addresses that all land in one chain (each lookup would walk
 * it), so the hash is seeded per process and mixed (splitmix64's finaliser). */
static size_t bucket_of(const struct pf_ratelimit *rl, const char *key)
{
	uint64_t h = hash(key) ^ rl->seed;

	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return (size_t)(h % rl->nbuckets);
}

struct pf_ratelimit *pf_ratelimit_new(int burst, int64_t refill_ms, size_t max_clients)
{
	struct pf_ratelimit *rl = pf_xcalloc(1, sizeof(*rl));

	rl->refill_ms = refill_ms < 1 ? 1 : refill_ms;
	rl->tolerance_ms = (int64_t)(burst < 1 ? 0 : burst - 1) * rl->refill_ms;
	rl->nslots = max_clients < 1 ? 1 : max_clients;
	rl->slots = pf_xcalloc(rl->nslots, sizeof(*rl->slots));
	rl->nbuckets = rl->nslots * 2;
	rl->buckets = pf_xmalloc(rl->nbuckets * sizeof(*rl->buckets));
	for (size_t i = 0; i < rl->nbuckets; i++)
		rl->buckets[i] = NONE;
	rl->newest = rl->oldest = NONE;
	if (getrandom(&rl->seed, sizeof(rl->seed), GRND_NONBLOCK) != (ssize_t)sizeof(rl->seed))
		rl->seed = (uint64_t)pf_monotonic_ms() * 0x9e3779b97f4a7c15ULL ^ (uintptr_t)rl;
	return rl;
}

void pf_ratelimit_free(struct pf_ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->slots);
	free(rl->buckets);
	free(rl);
}

size_t pf_ratelimit_count(const struct pf_ratelimit *rl)
{
	return rl->used;
}

static void unlink_recency(struct pf_ratelimit *rl, size_t i)
{
	struct slot *s = &rl->slots[i];

	if (s->newer != NONE)
		rl->slots[s->newer].older = s->older;
	else
		rl->newest = s->older;
	if (s->older != NONE)
		rl->slots[s->older].newer = s->newer;
	else
		rl->oldest = s->newer;
}

static void make_newest(struct pf_ratelimit *rl, size_t i)
{
	struct slot *s = &rl->slots[i];

	s->newer = NONE;
	s->older = rl->newest;
	if (rl->newest != NONE)
		rl->slots[rl->newest].newer = i;
	rl->newest = i;
	if (rl->oldest == NONE)
		rl->oldest = i;
}

static void unlink_bucket(struct pf_ratelimit *rl, size_t i)
{
	size_t *p = &rl->buckets[bucket_of(rl, rl->slots[i].key)];

	while (*p != i)
		p = &rl->slots[*p].next_in_bucket;
	*p = rl->slots[i].next_in_bucket;
}

/* The slot of key, created (full bucket) when absent; the most recent now. */
static struct slot *lookup(struct pf_ratelimit *rl, const char *client, int64_t now_ms)
{
	char key[PF_RATELIMIT_KEY_MAX + 1];
	size_t b, i;

	pf_copy_truncated(key, sizeof(key), client, strlen(client));
	b = bucket_of(rl, key);
	for (i = rl->buckets[b]; i != NONE; i = rl->slots[i].next_in_bucket) {
		if (!strcmp(rl->slots[i].key, key)) {
			unlink_recency(rl, i);
			make_newest(rl, i);
			return &rl->slots[i];
		}
	}
	if (rl->used < rl->nslots) {
		i = rl->used++;
	} else {
		/* Full: the least recently seen client goes. */
		i = rl->oldest;
		unlink_recency(rl, i);
		unlink_bucket(rl, i);
	}
	memcpy(rl->slots[i].key, key, sizeof(key));
	rl->slots[i].tat = now_ms;
	rl->slots[i].last_item = 0;
	rl->slots[i].next_in_bucket = rl->buckets[b];
	rl->buckets[b] = i;
	make_newest(rl, i);
	return &rl->slots[i];
}

static bool check(struct pf_ratelimit *rl, const char *client, int64_t now_ms,
                  int64_t *retry_after_s, bool spend)
{
	struct slot *s = lookup(rl, client, now_ms);
	int64_t tat = s->tat > now_ms ? s->tat : now_ms;

	if (tat - now_ms <= rl->tolerance_ms) {
		if (spend)
			s->tat = tat + rl->refill_ms;
		return true;
	}
	if (retry_after_s) {
		int64_t wait_ms = tat - rl->tolerance_ms - now_ms;

		*retry_after_s = (wait_ms + 999) / 1000;
		if (*retry_after_s < 1)
			*retry_after_s = 1;
	}
	return false;
}

bool pf_ratelimit_take(struct pf_ratelimit *rl, const char *client, int64_t now_ms,
                       int64_t *retry_after_s)
{
	return check(rl, client, now_ms, retry_after_s, true);
}

bool pf_ratelimit_take_item(struct pf_ratelimit *rl, const char *client, uint64_t item,
                            int64_t now_ms, int64_t *retry_after_s)
{
	struct slot *s = lookup(rl, client, now_ms);

	if (item && s->last_item == item)
		return true;
	if (!check(rl, client, now_ms, retry_after_s, true))
		return false;
	s->last_item = item;
	return true;
}

uint64_t pf_ratelimit_item(const char *s)
{
	uint64_t h = hash(s);

	return h ? h : 1;
}

bool pf_ratelimit_has(struct pf_ratelimit *rl, const char *client, int64_t now_ms,
                      int64_t *retry_after_s)
{
	return check(rl, client, now_ms, retry_after_s, false);
}
