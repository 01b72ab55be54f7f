/*
 * The daemon: wires loop, pool, consumer and API together. Loop thread only.
 */
#include "photofinish/daemon.h"

#include "photofinish/log.h"

int pf_daemon_run(const struct pf_config *cfg)
{
	pf_error_log("daemon not yet available", PF_LS("listen", cfg->listen));
	return -1;
}
