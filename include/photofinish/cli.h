/*
 * Subcommands of the `photofinish` command-line tool. Each takes the
 * arguments after the command name (argv[0] is the command) and returns the
 * process exit status.
 */
#ifndef PHOTOFINISH_CLI_H
#define PHOTOFINISH_CLI_H

/* photofinish process [options] FILE...: the image pipeline on local files. */
int pf_cli_process(int argc, char **argv);

/* photofinish upload DIR|FILE...: photos to the ingress bucket. */
int pf_cli_upload(int argc, char **argv);

/* photofinish admin COMMAND: a daemon's admin API for operators. */
int pf_cli_admin(int argc, char **argv);

#endif
