/*
 * Prometheus metrics: counters and histograms the daemon's modules bump, and
 * the text exposition for GET /metrics. Loop thread only (workers hand their
 * timings back with the job), so no locking.
 */
#ifndef PHOTOFINISH_METRICS_H
#define PHOTOFINISH_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct pf_buf;
struct pf_metrics;

int pf_metrics_new(struct pf_metrics **out);
void pf_metrics_free(struct pf_metrics *m);

/* Adds v to the counter `name` with the given label set, e.g.
 * pf_metrics_inc(m, "photofinish_images_total", "outcome=\"processed\"", 1).
 * name and help are static strings; labels is copied. */
void pf_metrics_inc(struct pf_metrics *m, const char *name, const char *help, const char *labels,
                    double v);
/* Sets a gauge. */
void pf_metrics_set(struct pf_metrics *m, const char *name, const char *help, const char *labels,
                    double v);
/* Observes a duration in seconds into the histogram `name`. */
void pf_metrics_observe(struct pf_metrics *m, const char *name, const char *help,
                        const char *labels, double seconds);

/* Writes the exposition text (version 0.0.4). */
void pf_metrics_render(const struct pf_metrics *m, struct pf_buf *out);

#endif
