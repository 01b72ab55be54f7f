/* photofinish upload: photos to the ingress bucket. Main thread. */
#include <stdio.h>

#include "photofinish/cli.h"

int pf_cli_upload(int argc, char **argv)
{
	fputs("photofinish upload: not available yet\n", stderr);
	return 2;
}
