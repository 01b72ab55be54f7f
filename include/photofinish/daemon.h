/*
 * The daemon: owns the event loop, the worker pool, the consumer and the API
 * server for the lifetime of the process. Runs on the main (loop) thread.
 */
#ifndef PHOTOFINISH_DAEMON_H
#define PHOTOFINISH_DAEMON_H

#include "photofinish/config.h"

/* Runs until SIGTERM/SIGINT and the drain finish. Returns 0 on a clean exit. */
int pf_daemon_run(const struct pf_config *cfg);

#endif
