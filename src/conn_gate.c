/*
 * The connection gate (see conn_gate.h): descriptors counted by the lowest
 * free one, evhttp's listener paused past the cap, a second listener on the
 * same socket answering 503 meanwhile. Loop thread only.
 */
#include "photofinish/conn_gate.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "photofinish/log.h"
#include "photofinish/metrics.h"
#include "photofinish/util.h"

/* Descriptors kept for everything but API clients: AWS connections (curl
 * caches 64 and opens more under load), the overlay, logs, libuv. */
#define RESERVE_FDS 256
/* Below the cap by this much before connections are accepted again, so the
 * gate does not flap on every close. */
#define HYSTERESIS_FDS 16
/* While refusing, how often to look whether descriptors were freed. */
#define RECHECK_MS 200
/* At most one log line per this many ms while refusing. */
#define LOG_EVERY_MS 10000

static const char REFUSAL[] = "HTTP/1.1 503 Service Unavailable\r\n"
                              "Content-Type: application/json\r\n"
                              "Cache-Control: no-store\r\n"
                              "Retry-After: 1\r\n"
                              "Connection: close\r\n"
                              "Content-Length: 91\r\n"
                              "\r\n"
                              "{\"error\":{\"code\":\"too_many_connections\",\"message\":\"the "
                              "server is at its connection limit\"}}";

struct pf_conn_gate {
	struct event_base *base;
	struct evhttp *http;
	struct evconnlistener *http_listener; /* evhttp's; not ours to free */
	struct evconnlistener *refuser;
	struct event *recheck;
	struct pf_metrics *metrics;
	int listen_fd;
	int threshold; /* refuse once the lowest free descriptor reaches this */
	bool refusing;
	long refused;
	long refused_logged;
	int64_t last_log_ms;
};

/* The lowest free descriptor: every one below it is open. */
static int lowest_free_fd(const struct pf_conn_gate *g)
{
	int fd = fcntl(g->listen_fd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		return g->threshold; /* EMFILE: as full as it gets */
	close(fd);
	return fd;
}

static void set_refusing(struct pf_conn_gate *g, bool on)
{
	struct timeval tv = {0, RECHECK_MS * 1000};

	if (g->refusing == on)
		return;
	g->refusing = on;
	if (on) {
		evconnlistener_disable(g->http_listener);
		evconnlistener_enable(g->refuser);
		event_add(g->recheck, &tv);
		pf_warn("connection limit reached; refusing new connections",
		        PF_LI("openDescriptors", g->threshold));
		g->last_log_ms = pf_monotonic_ms();
		g->refused_logged = g->refused;
	} else {
		evconnlistener_disable(g->refuser);
		evconnlistener_enable(g->http_listener);
		event_del(g->recheck);
		pf_info("accepting connections again",
		        PF_LI("refused", g->refused - g->refused_logged));
	}
}

static void on_recheck(evutil_socket_t fd, short what, void *arg)
{
	struct pf_conn_gate *g = arg;

	if (lowest_free_fd(g) < g->threshold - HYSTERESIS_FDS)
		set_refusing(g, false);
}

/* Every connection evhttp accepts passes here first (evhttp_set_bevcb). */
static struct bufferevent *on_new_connection(struct event_base *base, void *arg)
{
	struct pf_conn_gate *g = arg;

	if (lowest_free_fd(g) >= g->threshold)
		set_refusing(g, true);
	/* What evhttp makes itself when no callback is set. */
	return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
}

static void on_refuse(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
	struct pf_conn_gate *g = arg;
	char drain[4096];
	int64_t now = pf_monotonic_ms();

	/* A fresh socket's send buffer takes these few bytes at once; whatever
	 * the client already sent is read away so that the close is a FIN the
	 * client reads the answer before, not a reset. */
	(void)!send(fd, REFUSAL, sizeof(REFUSAL) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(fd, SHUT_WR);
	(void)!recv(fd, drain, sizeof(drain), MSG_DONTWAIT);
	close(fd);
	g->refused++;
	pf_metrics_inc(g->metrics, "photofinish_api_connections_refused_total",
	               "Connections answered 503 and closed at the connection limit.", NULL, 1);
	if (now - g->last_log_ms >= LOG_EVERY_MS) {
		pf_warn("connections refused at the limit",
		        PF_LI("refused", g->refused - g->refused_logged));
		g->refused_logged = g->refused;
		g->last_log_ms = now;
	}
	if (lowest_free_fd(g) < g->threshold - HYSTERESIS_FDS)
		set_refusing(g, false);
}

int pf_conn_gate_new(struct event_base *base, struct evhttp *http, struct evhttp_bound_socket *sock,
                     int max_connections, struct pf_metrics *metrics, struct pf_conn_gate **out,
                     struct pf_error *err)
{
	struct pf_conn_gate *g = pf_xcalloc(1, sizeof(*g));
	struct rlimit rl;
	rlim_t want;
	int open_now;

	g->base = base;
	g->http = http;
	g->metrics = metrics;
	g->http_listener = evhttp_bound_socket_get_listener(sock);
	g->listen_fd = evhttp_bound_socket_get_fd(sock);
	g->threshold = 1 << 30;
	open_now = lowest_free_fd(g);
	g->threshold = open_now + max_connections;

	/* Room for the cap and the reserve: raise the soft limit towards the
	 * hard one (ECS on Fargate starts containers at 1024 / 65535). */
	want = (rlim_t)g->threshold + RESERVE_FDS;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
			rl.rlim_cur =
			    rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
			int fit = (int)rl.rlim_cur - RESERVE_FDS - open_now;

			if (fit < 16) {
				free(g);
				return pf_error_set(err, PF_EINVAL,
				                    "the open-files limit (%ld) leaves no room for "
				                    "connections; raise it (ulimit -n)",
				                    (long)rl.rlim_cur);
			}
			pf_warn("the open-files limit lowers the connection limit",
			        PF_LI("openFilesLimit", (int64_t)rl.rlim_cur),
			        PF_LI("maxConnections", fit));
			g->threshold = open_now + fit;
		}
	}
	/* The same listening socket, answering 503 while evhttp's rests; it
	 * must not close the socket, which stays evhttp's. */
	g->refuser = evconnlistener_new(base, on_refuse, g, LEV_OPT_DISABLED, 0, g->listen_fd);
	g->recheck = event_new(base, -1, EV_PERSIST, on_recheck, g);
	if (!g->refuser || !g->recheck) {
		if (g->refuser)
			evconnlistener_free(g->refuser);
		if (g->recheck)
			event_free(g->recheck);
		free(g);
		return pf_error_set(err, PF_EIO, "cannot set up the connection limit");
	}
	evhttp_set_bevcb(http, on_new_connection, g);
	pf_info("connection limit", PF_LI("maxConnections", g->threshold - open_now),
	        PF_LI("openFilesLimit", (int64_t)rl.rlim_cur));
	*out = g;
	return 0;
}

long pf_conn_gate_refused(const struct pf_conn_gate *gate)
{
	return gate ? gate->refused : 0;
}

void pf_conn_gate_free(struct pf_conn_gate *g)
{
	if (!g)
		return;
	evhttp_set_bevcb(g->http, NULL, NULL);
	if (g->refusing)
		evconnlistener_enable(g->http_listener);
	evconnlistener_free(g->refuser);
	event_free(g->recheck);
	free(g);
}
