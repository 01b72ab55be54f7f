/*
 * Camera clock offsets for the consumer: a copy of the catalog's CLOCK
 * partition (one small query), so a photo's capture time is corrected by
 * its photographer's offset when it is processed. A job asks for the copy
 * before it starts: an ordinary upload takes a copy at most
 * CLOCK_MAX_AGE_MS old; a reprocess request (what a clock change starts)
 * takes only a copy read after it began, so it never applies the offset
 * the change replaced. Concurrent jobs share one read. Loop thread only.
 */
#include "consumer_int.h"

#include <stdlib.h>
#include <string.h>

#include "photofinish/catalog_index.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

#define CLOCK_MAX_AGE_MS 10000

struct clock_waiter {
	pf_consumer__clocks_cb cb;
	void *arg;
	int64_t since_ms; /* a read started at or after this satisfies it */
	struct clock_waiter *next;
};

struct clock_entry {
	char *name;
	int64_t offset_s;
};

struct pf_consumer__clocks {
	struct clock_entry *entries;
	size_t n;
	bool have;             /* a read succeeded */
	int64_t read_start_ms; /* monotonic start of the last successful read */
	int64_t reading_since; /* start of the read in flight; -1: none */
	struct clock_waiter *waiters;
};

static struct pf_consumer__clocks *clocks_of(struct pf_consumer *c)
{
	if (!c->clocks) {
		c->clocks = pf_xcalloc(1, sizeof(*c->clocks));
		c->clocks->reading_since = -1;
	}
	return c->clocks;
}

static void entries_free(struct pf_consumer__clocks *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->entries[i].name);
	free(k->entries);
	k->entries = NULL;
	k->n = 0;
}

void pf_consumer__clocks_free(struct pf_consumer__clocks *k)
{
	if (!k)
		return;
	entries_free(k);
	/* Waiters are jobs of held messages, freed with them. */
	for (struct clock_waiter *w = k->waiters, *next; w; w = next) {
		next = w->next;
		free(w);
	}
	free(k);
}

static void start_read(struct pf_consumer *c);

static void on_clocks(const struct pf_catalog_clock *clocks, size_t n, const struct pf_error *err,
                      void *arg)
{
	struct pf_consumer *c = arg;
	struct pf_consumer__clocks *k = c->clocks;
	int64_t started = k->reading_since;
	struct clock_waiter *w = k->waiters, *keep = NULL;

	k->reading_since = -1;
	k->waiters = NULL;
	if (!err->code) {
		entries_free(k);
		k->entries = pf_xcalloc(n + 1, sizeof(*k->entries));
		for (size_t i = 0; i < n; i++) {
			k->entries[i].name = pf_xstrdup(clocks[i].name);
			k->entries[i].offset_s = clocks[i].offset_s;
		}
		k->n = n;
		k->have = true;
		k->read_start_ms = started;
	} else {
		pf_warn("camera clock offsets not read", PF_LS("error", err->message));
	}
	while (w) {
		struct clock_waiter *next = w->next;

		if (err->code || started >= w->since_ms) {
			w->cb(w->arg, err);
			free(w);
		} else {
			/* Began while this read was in flight: it needs the next one. */
			w->next = keep;
			keep = w;
		}
		w = next;
	}
	if (keep) {
		k->waiters = keep;
		start_read(c);
	}
}

static void start_read(struct pf_consumer *c)
{
	struct pf_consumer__clocks *k = c->clocks;
	struct pf_error err;

	if (k->reading_since >= 0)
		return;
	k->reading_since = pf_monotonic_ms();
	if (pf_catalog_clocks_list(c->d.catalog, on_clocks, c, &err) < 0) {
		/* on_clocks answers every waiter with the error. */
		on_clocks(NULL, 0, &err, c);
	}
}

void pf_consumer__clocks_when_fresh(struct pf_consumer *c, bool strict, pf_consumer__clocks_cb cb,
                                    void *arg)
{
	struct pf_consumer__clocks *k = clocks_of(c);
	int64_t now = pf_monotonic_ms();
	struct clock_waiter *w;

	if (k->have && !strict && now - k->read_start_ms < CLOCK_MAX_AGE_MS) {
		cb(arg, &(struct pf_error){0});
		return;
	}
	w = pf_xcalloc(1, sizeof(*w));
	w->cb = cb;
	w->arg = arg;
	w->since_ms = strict ? now : now - CLOCK_MAX_AGE_MS;
	w->next = k->waiters;
	k->waiters = w;
	start_read(c);
}

int64_t pf_consumer__clock_offset(const struct pf_consumer *c, const char *photographer)
{
	const struct pf_consumer__clocks *k = c->clocks;

	for (size_t i = 0; k && photographer && i < k->n; i++) {
		if (!strcmp(k->entries[i].name, photographer))
			return k->entries[i].offset_s;
	}
	return 0;
}
