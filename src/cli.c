/*
 * photofinish: the command-line tool. Dispatches to the subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "photofinish/cli.h"

#ifndef PF_VERSION
#define PF_VERSION "0.0.0"
#endif

static void usage(FILE *out)
{
	fputs("Usage: photofinish COMMAND [OPTIONS]...\n"
	      "Commands:\n"
	      "  process [options] FILE...   run the image pipeline on local files (no AWS)\n"
	      "  upload DIR|FILE...          upload photos to the ingress bucket\n"
	      "  admin COMMAND               operate a race through a daemon's admin API\n"
	      "Run 'photofinish COMMAND --help' for a command's options.\n"
	      "  --help, --version\n",
	      out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("photofinish %s\n", PF_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "process"))
		return pf_cli_process(argc - 1, argv + 1);
	if (!strcmp(argv[1], "upload"))
		return pf_cli_upload(argc - 1, argv + 1);
	if (!strcmp(argv[1], "admin"))
		return pf_cli_admin(argc - 1, argv + 1);
	fprintf(stderr, "photofinish: unknown command \"%s\" (see --help)\n", argv[1]);
	return 2;
}
