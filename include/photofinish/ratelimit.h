/*
 * Token buckets per client address: each client may spend burst tokens at
 * once and gets one back every refill_ms. The table of clients is bounded:
 * once full, the client seen least recently is forgotten (it starts again
 * with a full bucket, which is what an idle client would have anyway after
 * burst * refill_ms). Pure: time is given by the caller; one thread at a
 * time (the loop thread).
 */
#ifndef PHOTOFINISH_RATELIMIT_H
#define PHOTOFINISH_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest client key kept (an IPv6 address is at most 45). */
#define PF_RATELIMIT_KEY_MAX 63

struct pf_ratelimit;

/* burst >= 1, refill_ms >= 1, max_clients >= 1. */
struct pf_ratelimit *pf_ratelimit_new(int burst, int64_t refill_ms, size_t max_clients);
void pf_ratelimit_free(struct pf_ratelimit *rl);

/* Whether client may spend a token at now_ms; when it may, the token is
 * spent. When not, *retry_after_s (if not NULL) is the whole seconds until
 * the next token (at least 1). A key longer than PF_RATELIMIT_KEY_MAX is
 * cut. */
bool pf_ratelimit_take(struct pf_ratelimit *rl, const char *client, int64_t now_ms,
                       int64_t *retry_after_s);
/* As pf_ratelimit_take, for one item (a hash, not 0) asked for: asking
 * again for the item the client last spent a token on is free, so a page
 * that polls for the same thing, or a retry, is never slowed; only a
 * sequence of different items (guessing) spends tokens. */
bool pf_ratelimit_take_item(struct pf_ratelimit *rl, const char *client, uint64_t item,
                            int64_t now_ms, int64_t *retry_after_s);
/* The item hash of a string (never 0). */
uint64_t pf_ratelimit_item(const char *s);
/* Whether client has a token now, without spending it. */
bool pf_ratelimit_has(struct pf_ratelimit *rl, const char *client, int64_t now_ms,
                      int64_t *retry_after_s);
/* Clients in the table. */
size_t pf_ratelimit_count(const struct pf_ratelimit *rl);

#endif
