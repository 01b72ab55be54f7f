/*
 * photofinish: the command-line tool (process local files, upload, admin).
 * Parses arguments and dispatches to the subcommands' modules.
 */
#include <stdio.h>
#include <string.h>

#ifndef PF_VERSION
#define PF_VERSION "0.0.0"
#endif

static void usage(FILE *out)
{
	fputs("Usage: photofinish COMMAND [OPTIONS]...\n"
	      "Commands:\n"
	      "  process [options] FILE...   run the image pipeline on local files\n"
	      "  upload DIR|FILE...          upload photos to the ingress bucket\n"
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
	fprintf(stderr, "photofinish: unknown command \"%s\" (see --help)\n", argv[1]);
	return 2;
}
