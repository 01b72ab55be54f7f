/*
 * fixed_rate: an open-loop HTTP load client for the race-day soak
 * (test/soak/). It offers a fixed number of GET requests per second,
 * whatever the answers take, on up to --conns keep-alive connections, and
 * times each request from the moment it was due (so queueing behind a slow
 * answer counts, as wrk2 does). A client in C because a Node client on the
 * same two cores as the daemon measures its own scheduling more than the
 * server.
 *
 *   fixed_rate --port P --rate 1000 --seconds 600 --hot CODE,CODE,...
 *              [--hot-share 0.9] [--cold-prefix U] [--conns 256] [--timeout-ms 5000]
 *
 * Request i asks /participants/<hot[i % nhot]> when i % 100 < hot-share x 100,
 * else /participants/<cold-prefix><i> (a code nobody asked before). SIGTERM or
 * SIGINT stops the offer early; it prints one JSON object on stdout once the
 * outstanding requests have answered or timed out.
 */
#include <event2/event.h>
#include <event2/http.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CONNS 4096
#define MAX_HOT 256
#define MAX_REQUESTS 20000000L

struct conn {
	struct evhttp_connection *evcon;
	bool busy;
};

struct pending {
	long i;
	struct conn *c;
};

static struct event_base *base;
static int port;
static double rate;
static long total;
static double hot_share = 0.9;
static const char *cold_prefix = "U";
static char *hot[MAX_HOT];
static int nhot;
static int max_conns = 256;
static int timeout_ms = 5000;

static struct conn conns[MAX_CONNS];
static int nconns;
static long *queue; /* due, waiting for a connection */
static long qhead, qtail;
static double *lat_ms;
static bool *is_hot;
static long sent, done, errors, outstanding;
static long statuses[600];
static double t0;
static bool stopping;
static struct event *tick, *sigterm, *sigint;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void send_one(struct conn *c, long i);

static struct conn *free_conn(void)
{
	for (int k = 0; k < nconns; k++)
		if (!conns[k].busy && conns[k].evcon)
			return &conns[k];
	if (nconns < max_conns) {
		struct conn *c = &conns[nconns++];
		struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

		c->evcon = evhttp_connection_base_new(base, NULL, "127.0.0.1", (unsigned short)port);
		evhttp_connection_set_timeout_tv(c->evcon, &tv);
		evhttp_connection_set_retries(c->evcon, 0);
		return c;
	}
	return NULL;
}

static void on_done(struct evhttp_request *req, void *arg)
{
	struct pending *p = arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	double due = t0 + (double)p->i * 1000.0 / rate;

	p->c->busy = false;
	outstanding--;
	if (code > 0 && code < 600) {
		lat_ms[done++] = now_ms() - due;
		is_hot[done - 1] = (p->i % 100) < (long)(hot_share * 100);
		statuses[code]++;
	} else {
		errors++;
	}
	free(p);
	/* The connection is free: the oldest request waiting for one goes. */
	if (qhead < qtail) {
		struct conn *c = free_conn();

		if (c)
			send_one(c, queue[qhead++]);
	}
	if ((stopping || sent >= total) && outstanding == 0 && qhead == qtail)
		event_base_loopexit(base, NULL);
}

static void send_one(struct conn *c, long i)
{
	struct pending *p = calloc(1, sizeof(*p));
	struct evhttp_request *req;
	char path[160];

	p->i = i;
	p->c = c;
	c->busy = true;
	outstanding++;
	if ((i % 100) < (long)(hot_share * 100))
		snprintf(path, sizeof(path), "/participants/%s", hot[i % nhot]);
	else
		snprintf(path, sizeof(path), "/participants/%s%ld", cold_prefix, i);
	req = evhttp_request_new(on_done, p);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "127.0.0.1");
	if (evhttp_make_request(c->evcon, req, EVHTTP_REQ_GET, path) < 0) {
		/* evhttp frees req on failure; count it and free the slot. */
		c->busy = false;
		outstanding--;
		errors++;
		free(p);
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	long due;

	if (stopping || sent >= total) {
		event_del(tick);
		if (outstanding == 0 && qhead == qtail)
			event_base_loopexit(base, NULL);
		return;
	}
	due = (long)((now_ms() - t0) * rate / 1000.0) + 1;
	if (due > total)
		due = total;
	while (sent < due) {
		struct conn *c = qhead == qtail ? free_conn() : NULL;

		if (c)
			send_one(c, sent);
		else
			queue[qtail++] = sent;
		sent++;
	}
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	stopping = true;
	/* What was due and never sent is dropped, not counted. */
	qtail = qhead;
	if (outstanding == 0)
		event_base_loopexit(base, NULL);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void print_summary(const char *name, bool want_hot, bool all)
{
	double *v = malloc(sizeof(double) * (size_t)(done ? done : 1));
	long n = 0;

	for (long k = 0; k < done; k++)
		if (all || is_hot[k] == want_hot)
			v[n++] = lat_ms[k];
	qsort(v, (size_t)n, sizeof(double), cmp);
#define PCT(p) (n ? v[(long)fmin((double)n - 1, ceil((p) / 100.0 * (double)n) - 1)] : -1.0)
	printf("\"%s\":{\"n\":%ld,\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f,\"max\":%.3f}", name, n,
	       PCT(50), PCT(95), PCT(99), n ? v[n - 1] : -1.0);
#undef PCT
	free(v);
}

int main(int argc, char **argv)
{
	double seconds = 10;
	char *hot_list = NULL;
	struct timeval one_ms = {0, 1000};
	double t_end;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--port"))
			port = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--rate"))
			rate = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--hot"))
			hot_list = argv[i + 1];
		else if (!strcmp(argv[i], "--hot-share"))
			hot_share = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--cold-prefix"))
			cold_prefix = argv[i + 1];
		else if (!strcmp(argv[i], "--conns"))
			max_conns = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--timeout-ms"))
			timeout_ms = atoi(argv[i + 1]);
		else {
			fprintf(stderr, "fixed_rate: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (port <= 0 || rate <= 0 || !hot_list || max_conns < 1 || max_conns > MAX_CONNS ||
	    seconds <= 0) {
		fprintf(stderr, "usage: fixed_rate --port P --rate R --seconds S --hot A,B [--hot-share "
		                "0.9] [--cold-prefix U] [--conns 256] [--timeout-ms 5000]\n");
		return 2;
	}
	for (char *tok = strtok(hot_list, ","); tok && nhot < MAX_HOT; tok = strtok(NULL, ","))
		hot[nhot++] = tok;
	total = (long)(rate * seconds);
	if (total > MAX_REQUESTS)
		total = MAX_REQUESTS;
	queue = calloc((size_t)total + 1, sizeof(long));
	lat_ms = calloc((size_t)total + 1, sizeof(double));
	is_hot = calloc((size_t)total + 1, sizeof(bool));
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	sigterm = evsignal_new(base, SIGTERM, on_signal, NULL);
	sigint = evsignal_new(base, SIGINT, on_signal, NULL);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	t0 = now_ms();
	event_add(tick, &one_ms);
	event_base_dispatch(base);
	t_end = now_ms();
	printf("{\"offered\":%ld,\"seconds\":%.3f,\"completed\":%ld,\"errors\":%ld,\"connections\":%d,"
	       "\"statuses\":{",
	       sent, (t_end - t0) / 1000.0, done, errors, nconns);
	for (int s = 0, first = 1; s < 600; s++)
		if (statuses[s]) {
			printf("%s\"%d\":%ld", first ? "" : ",", s, statuses[s]);
			first = 0;
		}
	printf("},");
	print_summary("latency", false, true);
	printf(",\"byClass\":{");
	print_summary("cached", true, false);
	printf(",");
	print_summary("uncached", false, false);
	printf("}}\n");
	for (int k = 0; k < nconns; k++)
		evhttp_connection_free(conns[k].evcon);
	event_free(tick);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(base);
	free(queue);
	free(lat_ms);
	free(is_hot);
	return 0;
}
