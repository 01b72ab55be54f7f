/*
 * photofinishd: parses arguments and configuration, installs signals and wires
 * the modules together. Nothing else lives here.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/config.h"
#include "photofinish/daemon.h"
#include "photofinish/error.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

#ifndef PF_VERSION
#define PF_VERSION "0.0.0"
#endif

static void usage(FILE *out)
{
	struct pf_buf help;

	pf_buf_init(&help);
	pf_config_print_help(&help);
	fprintf(
	    out,
	    "Usage: photofinishd [--check-config] [--OPTION VALUE]...\n"
	    "Consumes S3 event notifications from an SQS queue, finds participant codes in\n"
	    "race photos, writes variants and catalog records, and serves the participant API.\n"
	    "\n"
	    "  --check-config             validate, print the effective configuration as JSON\n"
	    "                             (secrets redacted) and exit\n"
	    "  --help, --version\n"
	    "\n"
	    "Settings (environment variable, or the flag, which wins):\n%s",
	    help.data);
	pf_buf_free(&help);
}

int main(int argc, char **argv)
{
	struct pf_config cfg;
	struct pf_buf problems;
	bool check_only = false;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("photofinishd %s\n", PF_VERSION);
			return 0;
		}
	}

	pf_buf_init(&problems);
	rc = pf_config_load(&cfg, PF_CONFIG_DAEMON, &argc, argv, true, &problems);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--check-config"))
			check_only = true;
		else
			pf_buf_appendf(&problems, "%s: unknown argument (see --help)\n", argv[i]);
	}
	if (problems.len) {
		fprintf(stderr, "photofinishd: invalid configuration:\n%s", problems.data);
		pf_buf_free(&problems);
		pf_config_free(&cfg);
		return 2;
	}
	pf_buf_free(&problems);
	(void)rc;

	if (check_only) {
		char *json = pf_config_to_json(&cfg);

		printf("%s\n", json);
		free(json);
		pf_config_free(&cfg);
		return 0;
	}

	/* Photos and variants are megabytes each: a fixed mmap threshold keeps
	 * glibc from moving such buffers onto the heap, where freed ones would
	 * stay resident and RSS would creep up over thousands of photos. */
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
	pf_log_set_level((enum pf_log_level)cfg.log_level);
	rc = pf_daemon_run(&cfg);
	pf_config_free(&cfg);
	return rc == 0 ? 0 : 1;
}
