/*
 * Metrics registry: a flat list of series (name + labels), small enough that
 * a linear lookup costs less than the request it counts. Loop thread only.
 */
#include "photofinish/metrics.h"

#include <stdlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "photofinish/util.h"

enum series_type { SERIES_COUNTER, SERIES_GAUGE, SERIES_HISTOGRAM };

/* Bucket bounds in seconds: from a cached API answer to a slow 24 MP photo. */
static const double bucket_bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                       0.5,   1,     2.5,  5,     10,   30,  60};
#define NBUCKETS (sizeof(bucket_bounds) / sizeof(bucket_bounds[0]))

struct series {
	const char *name;
	const char *help;
	char *labels;
	enum series_type type;
	double value; /* counter/gauge; histogram sum */
	uint64_t count;
	uint64_t buckets[NBUCKETS];
};

struct pf_metrics {
	struct series *series;
	size_t n, cap;
};

int pf_metrics_new(struct pf_metrics **out)
{
	*out = pf_xcalloc(1, sizeof(**out));
	return 0;
}

void pf_metrics_free(struct pf_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->series[i].labels);
	free(m->series);
	free(m);
}

static struct series *find(struct pf_metrics *m, const char *name, const char *help,
                           const char *labels, enum series_type type)
{
	struct series *s;

	labels = labels ? labels : "";
	for (size_t i = 0; i < m->n; i++) {
		s = &m->series[i];
		if (!strcmp(s->name, name) && !strcmp(s->labels, labels))
			return s;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 64;
		m->series = pf_xrealloc(m->series, m->cap * sizeof(*m->series));
	}
	s = &m->series[m->n++];
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->help = help;
	s->labels = pf_xstrdup(labels);
	s->type = type;
	return s;
}

void pf_metrics_inc(struct pf_metrics *m, const char *name, const char *help, const char *labels,
                    double v)
{
	find(m, name, help, labels, SERIES_COUNTER)->value += v;
}

void pf_metrics_set(struct pf_metrics *m, const char *name, const char *help, const char *labels,
                    double v)
{
	find(m, name, help, labels, SERIES_GAUGE)->value = v;
}

void pf_metrics_observe(struct pf_metrics *m, const char *name, const char *help,
                        const char *labels, double seconds)
{
	struct series *s = find(m, name, help, labels, SERIES_HISTOGRAM);

	s->value += seconds;
	s->count++;
	for (size_t i = 0; i < NBUCKETS; i++) {
		if (seconds <= bucket_bounds[i])
			s->buckets[i]++;
	}
}

static void labels_with(struct pf_buf *out, const char *labels, const char *extra)
{
	bool have = labels && *labels;

	if (!have && !extra)
		return;
	pf_buf_append_str(out, "{");
	if (have)
		pf_buf_append_str(out, labels);
	if (extra)
		pf_buf_appendf(out, "%s%s", have ? "," : "", extra);
	pf_buf_append_str(out, "}");
}

void pf_metrics_render(const struct pf_metrics *m, struct pf_buf *out)
{
	static const char *const type_names[] = {"counter", "gauge", "histogram"};
	bool *done = pf_xcalloc(m->n ? m->n : 1, sizeof(bool));

	/* Series of one name are grouped under one HELP/TYPE header. */
	for (size_t i = 0; i < m->n; i++) {
		if (done[i])
			continue;
		pf_buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", m->series[i].name,
		               m->series[i].help, m->series[i].name, type_names[m->series[i].type]);
		for (size_t j = i; j < m->n; j++) {
			const struct series *s = &m->series[j];

			if (done[j] || strcmp(s->name, m->series[i].name))
				continue;
			done[j] = true;
			if (s->type != SERIES_HISTOGRAM) {
				pf_buf_append_str(out, s->name);
				labels_with(out, s->labels, NULL);
				pf_buf_appendf(out, " %.17g\n", s->value);
				continue;
			}
			for (size_t b = 0; b < NBUCKETS; b++) {
				char le[32];

				snprintf(le, sizeof(le), "le=\"%g\"", bucket_bounds[b]);
				pf_buf_appendf(out, "%s_bucket", s->name);
				labels_with(out, s->labels, le);
				pf_buf_appendf(out, " %llu\n", (unsigned long long)s->buckets[b]);
			}
			pf_buf_appendf(out, "%s_bucket", s->name);
			labels_with(out, s->labels, "le=\"+Inf\"");
			pf_buf_appendf(out, " %llu\n%s_sum", (unsigned long long)s->count, s->name);
			labels_with(out, s->labels, NULL);
			pf_buf_appendf(out, " %.6f\n%s_count", s->value, s->name);
			labels_with(out, s->labels, NULL);
			pf_buf_appendf(out, " %llu\n", (unsigned long long)s->count);
		}
	}
	free(done);
}
