/* photofinish process: the image pipeline on local files. Main thread + pool. */
#include <stdio.h>

#include "photofinish/cli.h"

int pf_cli_process(int argc, char **argv)
{
	fputs("photofinish process: not available yet\n", stderr);
	return 2;
}
