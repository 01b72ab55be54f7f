/*
 * The connection gate: a cap on the API's open connections, with a clear
 * refusal beyond it. libevent 2.1's evhttp has no connection limit and
 * tells nobody when a connection that never sent a request closes, so the
 * gate counts descriptors instead: the kernel hands out the lowest free
 * one, so when the lowest free descriptor is at or above `threshold`, at
 * least that many are open. Past it the gate stops evhttp's listener and
 * answers every new connection itself with a 503 and closes it, until
 * descriptors are free again. The process's open-files limit is raised so
 * that the cap plus a reserve for AWS connections and files fits: the
 * descriptors are never exhausted. Loop thread only.
 */
#ifndef PHOTOFINISH_CONN_GATE_H
#define PHOTOFINISH_CONN_GATE_H

#include "photofinish/error.h"

struct event_base;
struct evhttp;
struct evhttp_bound_socket;
struct pf_metrics;
struct pf_conn_gate;

/* Guards `sock` of `http` (already bound), allowing about max_connections
 * connections beyond the descriptors open now. Installs evhttp's
 * bufferevent callback. The effective cap (lower when the open-files limit
 * cannot be raised far enough) is logged at start. */
int pf_conn_gate_new(struct event_base *base, struct evhttp *http, struct evhttp_bound_socket *sock,
                     int max_connections, struct pf_metrics *metrics, struct pf_conn_gate **out,
                     struct pf_error *err);

/* Connections refused so far. */
long pf_conn_gate_refused(const struct pf_conn_gate *gate);

/* Stops refusing; call before the bound socket is removed from evhttp. */
void pf_conn_gate_free(struct pf_conn_gate *gate);

#endif
