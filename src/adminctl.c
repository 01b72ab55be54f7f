/*
 * The pure parts of `photofinish admin`: argument parsing, confirmations,
 * tables and progress lines. No I/O; any thread.
 */
#include "photofinish/adminctl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "photofinish/codec.h"
#include "photofinish/util.h"

static const char *const cmd_names[] = {
    [PF_ADMINCTL_NONE] = "",
    [PF_ADMINCTL_STATUS] = "status",
    [PF_ADMINCTL_UNMATCHED] = "unmatched",
    [PF_ADMINCTL_FAILED] = "failed",
    [PF_ADMINCTL_SHOW] = "show",
    [PF_ADMINCTL_CODES] = "codes",
    [PF_ADMINCTL_DELETE] = "delete",
    [PF_ADMINCTL_REPROCESS] = "reprocess",
    [PF_ADMINCTL_CLEAR] = "clear",
    [PF_ADMINCTL_JOBS] = "jobs",
    [PF_ADMINCTL_WATCH] = "watch",
    [PF_ADMINCTL_ERASE] = "erase",
    [PF_ADMINCTL_AUDIT] = "audit",
    [PF_ADMINCTL_CREDENTIALS] = "credentials",
    [PF_ADMINCTL_CLOCK] = "clock",
    [PF_ADMINCTL_CLAIMS] = "claims",
};

#define NCMDS (sizeof(cmd_names) / sizeof(cmd_names[0]))

const char *pf_adminctl_cmd_name(enum pf_adminctl_cmd cmd)
{
	return (size_t)cmd < NCMDS ? cmd_names[cmd] : "";
}

bool pf_adminctl_is_photo_id(const char *s)
{
	return strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

bool pf_adminctl_is_photographer(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= 40 && s[0] != '_' && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

bool pf_adminctl_is_job_id(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 64 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* Options and which commands accept them (a bit per enum pf_adminctl_cmd;
 * 0: every command). */
enum opt_id {
	O_HELP,
	O_URL,
	O_TOKEN_FILE,
	O_JSON,
	O_TIMEOUT,
	O_LIMIT,
	O_ALL,
	O_PREFIX,
	O_ORIGINALS,
	O_CONFIRM,
	O_YES,
	O_WATCH,
	O_ADD,
	O_REMOVE,
	O_NONE,
	O_DAYS,
	O_STATE,
	O_SECRET /* refused: a token in argv is visible to every user of the machine */
};

#define C(cmd) (1u << (cmd))

static const struct {
	const char *name;
	enum opt_id id;
	bool value;
	unsigned cmds;
} options[] = {
    {"--help", O_HELP, false, 0},
    {"-h", O_HELP, false, 0},
    {"--url", O_URL, true, 0},
    {"--token-file", O_TOKEN_FILE, true, 0},
    {"--json", O_JSON, false, 0},
    {"--timeout", O_TIMEOUT, true, 0},
    {"--limit", O_LIMIT, true,
     C(PF_ADMINCTL_UNMATCHED) | C(PF_ADMINCTL_FAILED) | C(PF_ADMINCTL_JOBS) | C(PF_ADMINCTL_AUDIT) |
         C(PF_ADMINCTL_CLAIMS)},
    {"--all", O_ALL, false,
     C(PF_ADMINCTL_UNMATCHED) | C(PF_ADMINCTL_FAILED) | C(PF_ADMINCTL_AUDIT)},
    {"--prefix", O_PREFIX, true, C(PF_ADMINCTL_REPROCESS)},
    {"--originals", O_ORIGINALS, false, C(PF_ADMINCTL_CLEAR)},
    {"--yes-i-mean-it", O_CONFIRM, true, C(PF_ADMINCTL_CLEAR) | C(PF_ADMINCTL_ERASE)},
    {"--yes", O_YES, false, C(PF_ADMINCTL_DELETE)},
    {"-y", O_YES, false, C(PF_ADMINCTL_DELETE)},
    {"--watch", O_WATCH, false,
     C(PF_ADMINCTL_REPROCESS) | C(PF_ADMINCTL_CLEAR) | C(PF_ADMINCTL_ERASE) | C(PF_ADMINCTL_CLOCK)},
    {"--add", O_ADD, false, C(PF_ADMINCTL_CODES)},
    {"--remove", O_REMOVE, false, C(PF_ADMINCTL_CODES)},
    {"--none", O_NONE, false, C(PF_ADMINCTL_CODES)},
    {"--days", O_DAYS, true, C(PF_ADMINCTL_CREDENTIALS)},
    {"--state", O_STATE, true, C(PF_ADMINCTL_CLAIMS)},
    {"--token", O_SECRET, true, 0},
    {"--admin-token", O_SECRET, true, 0},
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static bool printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}

/* Positional arguments: non-empty, bounded, no control characters. */
static int check_word(const char *s, const char *what, struct pf_error *err)
{
	if (!*s)
		return pf_error_set(err, PF_EINVAL, "%s is empty", what);
	if (strlen(s) > PF_ADMINCTL_MAX_ARG)
		return pf_error_set(err, PF_EINVAL, "%s is longer than %d bytes", what,
		                    PF_ADMINCTL_MAX_ARG);
	if (!printable(s))
		return pf_error_set(err, PF_EINVAL, "%s contains control characters", what);
	return 0;
}

static void push(const char ***list, size_t *n, const char *s)
{
	*list = pf_xrealloc((void *)*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = s;
}

struct seen {
	unsigned used;  /* bit per option id given */
	int codes_list; /* where `codes` puts the next code: 0 set, 1 add, 2 remove */
};

static int take_value(enum opt_id id, const char *name, const char *value,
                      struct pf_adminctl_args *a, struct pf_error *err)
{
	int64_t n;

	switch (id) {
	case O_URL:
		if (check_word(value, "--url", err) < 0)
			return PF_EINVAL;
		if (strncmp(value, "http://", 7) && strncmp(value, "https://", 8))
			return pf_error_set(err, PF_EINVAL,
			                    "--url must start with http:// or https://");
		a->url = value;
		return 0;
	case O_TOKEN_FILE:
		if (check_word(value, "--token-file", err) < 0)
			return PF_EINVAL;
		a->token_file = value;
		return 0;
	case O_TIMEOUT:
		if (!pf_parse_int64(value, 1, 3600, &n))
			return pf_error_set(err, PF_EINVAL,
			                    "--timeout: \"%.40s\" is not a whole number of seconds "
			                    "from 1 to 3600",
			                    value);
		a->timeout_s = (int)n;
		return 0;
	case O_LIMIT:
		if (!pf_parse_int64(value, 1, PF_ADMINCTL_MAX_LIMIT, &n))
			return pf_error_set(err, PF_EINVAL,
			                    "--limit: \"%.40s\" is not a whole number from 1 to %d",
			                    value, PF_ADMINCTL_MAX_LIMIT);
		a->limit = (int)n;
		return 0;
	case O_PREFIX:
		if (check_word(value, "--prefix", err) < 0)
			return PF_EINVAL;
		a->prefix = value;
		return 0;
	case O_CONFIRM:
		if (check_word(value, "--yes-i-mean-it", err) < 0)
			return PF_EINVAL;
		a->confirm = value;
		return 0;
	case O_DAYS:
		if (!pf_parse_int64(value, 1, 90, &n))
			return pf_error_set(err, PF_EINVAL,
			                    "--days: \"%.40s\" is not a whole number from 1 to 90",
			                    value);
		a->days = (int)n;
		return 0;
	case O_STATE:
		if (strcmp(value, "pending") && strcmp(value, "approved") &&
		    strcmp(value, "rejected"))
			return pf_error_set(
			    err, PF_EINVAL,
			    "--state: \"%.40s\" is not pending, approved or rejected", value);
		a->state = value;
		return 0;
	case O_SECRET:
		return pf_error_set(err, PF_EINVAL,
		                    "%s: a token on the command line is visible to every user of "
		                    "this machine; set PHOTOFINISH_ADMIN_TOKEN or use --token-file",
		                    name);
	default:
		return pf_error_set(err, PF_EINVAL, "%s takes no value", name);
	}
}

static void take_flag(enum opt_id id, struct pf_adminctl_args *a, struct seen *s)
{
	switch (id) {
	case O_HELP:
		a->help = true;
		break;
	case O_JSON:
		a->json = true;
		break;
	case O_ALL:
		a->all = true;
		break;
	case O_ORIGINALS:
		a->originals = true;
		break;
	case O_YES:
		a->yes = true;
		break;
	case O_WATCH:
		a->watch = true;
		break;
	case O_ADD:
		s->codes_list = 1;
		break;
	case O_REMOVE:
		s->codes_list = 2;
		break;
	case O_NONE:
		a->codes_mode = PF_ADMINCTL_CODES_NONE;
		break;
	default:
		break;
	}
}

static int positional(struct pf_adminctl_args *a, struct seen *s, const char *arg,
                      struct pf_error *err)
{
	if (a->cmd == PF_ADMINCTL_NONE) {
		for (size_t c = 1; c < NCMDS; c++) {
			if (!strcmp(arg, cmd_names[c])) {
				a->cmd = (enum pf_adminctl_cmd)c;
				return 0;
			}
		}
		return pf_error_set(err, PF_EINVAL, "unknown command \"%.40s\" (see --help)", arg);
	}
	switch (a->cmd) {
	case PF_ADMINCTL_SHOW:
	case PF_ADMINCTL_WATCH:
	case PF_ADMINCTL_ERASE:
		if (a->target)
			return pf_error_set(err, PF_EINVAL, "%s takes one argument",
			                    cmd_names[a->cmd]);
		if (check_word(arg, "the argument", err) < 0)
			return PF_EINVAL;
		a->target = arg;
		return 0;
	case PF_ADMINCTL_CODES:
		if (check_word(arg, a->target ? "a code" : "the photo", err) < 0)
			return PF_EINVAL;
		if (!a->target)
			a->target = arg;
		else if (s->codes_list == 1)
			push(&a->add, &a->nadd, arg);
		else if (s->codes_list == 2)
			push(&a->remove, &a->nremove, arg);
		else
			push(&a->targets, &a->ntargets, arg);
		return 0;
	case PF_ADMINCTL_DELETE:
		if (check_word(arg, "a photo", err) < 0)
			return PF_EINVAL;
		if (a->ntargets >= PF_ADMINCTL_MAX_TARGETS)
			return pf_error_set(err, PF_EINVAL, "at most %d photos per delete",
			                    PF_ADMINCTL_MAX_TARGETS);
		push(&a->targets, &a->ntargets, arg);
		return 0;
	case PF_ADMINCTL_CREDENTIALS:
		if (check_word(arg, "the argument", err) < 0)
			return PF_EINVAL;
		if (!a->action) {
			if (strcmp(arg, "create") && strcmp(arg, "list") && strcmp(arg, "revoke"))
				return pf_error_set(
				    err, PF_EINVAL,
				    "credentials create|list|revoke (got \"%.40s\")", arg);
			a->action = arg;
			return 0;
		}
		if (a->target || !strcmp(a->action, "list"))
			return pf_error_set(err, PF_EINVAL, "credentials %s takes %s", a->action,
			                    strcmp(a->action, "list") ? "one photographer"
			                                              : "no arguments");
		a->target = arg;
		return 0;
	case PF_ADMINCTL_CLOCK:
		if (check_word(arg, "the argument", err) < 0)
			return PF_EINVAL;
		if (!a->target) {
			a->target = arg;
			return 0;
		}
		if (a->have_offset)
			return pf_error_set(err, PF_EINVAL,
			                    "clock takes a photographer and seconds");
		if (!pf_parse_int64(arg, -PF_ADMINCTL_MAX_CLOCK_OFFSET,
		                    PF_ADMINCTL_MAX_CLOCK_OFFSET, &a->offset_s))
			return pf_error_set(
			    err, PF_EINVAL,
			    "clock: \"%.40s\" is not a whole number of seconds from "
			    "-%d to %d (7 days)",
			    arg, PF_ADMINCTL_MAX_CLOCK_OFFSET, PF_ADMINCTL_MAX_CLOCK_OFFSET);
		a->have_offset = true;
		return 0;
	case PF_ADMINCTL_CLAIMS:
		if (check_word(arg, "the argument", err) < 0)
			return PF_EINVAL;
		if (!a->action) {
			if (strcmp(arg, "list") && strcmp(arg, "approve") && strcmp(arg, "reject"))
				return pf_error_set(
				    err, PF_EINVAL,
				    "claims list|approve ID|reject ID (got \"%.40s\")", arg);
			a->action = arg;
			return 0;
		}
		if (a->target || !strcmp(a->action, "list"))
			return pf_error_set(err, PF_EINVAL, "claims %s takes %s", a->action,
			                    strcmp(a->action, "list") ? "one claim id"
			                                              : "no arguments");
		a->target = arg;
		return 0;
	default:
		return pf_error_set(err, PF_EINVAL, "%s takes no arguments (got \"%.40s\")",
		                    cmd_names[a->cmd], arg);
	}
}

/* What each command needs once everything is read. */
static int check_command(struct pf_adminctl_args *a, const struct seen *s, struct pf_error *err)
{
	const char *name = cmd_names[a->cmd];

	for (size_t i = 0; i < NOPTIONS; i++) {
		if ((s->used & (1u << options[i].id)) && options[i].cmds &&
		    !(options[i].cmds & C(a->cmd)))
			return pf_error_set(err, PF_EINVAL, "%s does not apply to %s",
			                    options[i].name, name);
	}
	switch (a->cmd) {
	case PF_ADMINCTL_NONE:
		return pf_error_set(err, PF_EINVAL, "no command given (see --help)");
	case PF_ADMINCTL_SHOW:
		if (!a->target)
			return pf_error_set(err, PF_EINVAL, "show needs a photo id or key");
		return 0;
	case PF_ADMINCTL_WATCH:
		if (!a->target)
			return pf_error_set(err, PF_EINVAL, "watch needs a job id");
		if (!pf_adminctl_is_job_id(a->target))
			return pf_error_set(err, PF_EINVAL, "\"%.64s\" is not a job id", a->target);
		return 0;
	case PF_ADMINCTL_ERASE:
		if (!a->target)
			return pf_error_set(err, PF_EINVAL, "erase needs a participant code");
		return 0;
	case PF_ADMINCTL_CREDENTIALS:
		if (!a->action)
			return pf_error_set(err, PF_EINVAL, "credentials create|list|revoke");
		if (strcmp(a->action, "list") && !pf_adminctl_is_photographer(a->target))
			return pf_error_set(err, PF_EINVAL,
			                    "credentials %s needs a photographer name: 1 to 40 of "
			                    "a-z 0-9 _ - starting with a letter or digit",
			                    a->action);
		if (a->days && strcmp(a->action, "create"))
			return pf_error_set(err, PF_EINVAL, "--days applies to credentials create");
		return 0;
	case PF_ADMINCTL_CLOCK:
		if (!pf_adminctl_is_photographer(a->target))
			return pf_error_set(
			    err, PF_EINVAL,
			    "clock needs a photographer name (1 to 40 of a-z 0-9 _ - "
			    "starting with a letter or digit), then seconds");
		if (!a->have_offset)
			return pf_error_set(err, PF_EINVAL,
			                    "clock needs the seconds to add to the camera's times "
			                    "(positive when its clock was behind)");
		return 0;
	case PF_ADMINCTL_CLAIMS:
		if (!a->action)
			a->action = "list";
		if (strcmp(a->action, "list")) {
			if (!a->target || !pf_adminctl_is_photo_id(a->target))
				return pf_error_set(err, PF_EINVAL, "claims %s needs a claim id",
				                    a->action);
			if (a->state || a->limit)
				return pf_error_set(err, PF_EINVAL,
				                    "--state and --limit apply to claims list");
		}
		return 0;
	case PF_ADMINCTL_DELETE:
		if (!a->ntargets)
			return pf_error_set(err, PF_EINVAL,
			                    "delete needs one or more photo ids or keys");
		return 0;
	case PF_ADMINCTL_CODES:
		if (!a->target)
			return pf_error_set(err, PF_EINVAL,
			                    "codes needs a photo id or key, then codes");
		if (a->nadd + a->nremove + a->ntargets > PF_ADMINCTL_MAX_CODES * 2)
			return pf_error_set(err, PF_EINVAL,
			                    "too many codes (a photo keeps at most %d)",
			                    PF_ADMINCTL_MAX_CODES);
		if (a->codes_mode == PF_ADMINCTL_CODES_NONE) {
			if (a->ntargets || a->nadd || a->nremove)
				return pf_error_set(err, PF_EINVAL, "--none takes no codes");
			return 0;
		}
		if ((s->used & (1u << O_ADD)) && !a->nadd)
			return pf_error_set(err, PF_EINVAL, "--add needs codes after it");
		if ((s->used & (1u << O_REMOVE)) && !a->nremove)
			return pf_error_set(err, PF_EINVAL, "--remove needs codes after it");
		if (a->nadd || a->nremove) {
			if (a->ntargets)
				return pf_error_set(
				    err, PF_EINVAL,
				    "give the codes to set, or --add/--remove, not both");
			a->codes_mode = PF_ADMINCTL_CODES_EDIT;
			return 0;
		}
		if (!a->ntargets)
			return pf_error_set(
			    err, PF_EINVAL,
			    "codes needs the codes to set (or --add, --remove, --none)");
		if (a->ntargets > PF_ADMINCTL_MAX_CODES)
			return pf_error_set(err, PF_EINVAL, "a photo keeps at most %d codes",
			                    PF_ADMINCTL_MAX_CODES);
		a->codes_mode = PF_ADMINCTL_CODES_SET;
		return 0;
	default:
		return 0;
	}
}

int pf_adminctl_parse_args(int argc, char **argv, struct pf_adminctl_args *a, struct pf_error *err)
{
	struct seen s = {0};
	bool only_positional = false;

	memset(a, 0, sizeof(*a));
	a->timeout_s = PF_ADMINCTL_DEFAULT_TIMEOUT;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *eq;
		size_t nlen;
		size_t k;

		/* A negative clock offset is a number, not an option. */
		bool negative_number =
		    a->cmd == PF_ADMINCTL_CLOCK && arg[0] == '-' && arg[1] >= '0' && arg[1] <= '9';

		if (only_positional || negative_number || arg[0] != '-' || !strcmp(arg, "-")) {
			if (positional(a, &s, arg, err) < 0)
				goto fail;
			continue;
		}
		if (!strcmp(arg, "--")) {
			only_positional = true;
			continue;
		}
		eq = strchr(arg, '=');
		nlen = eq ? (size_t)(eq - arg) : strlen(arg);
		for (k = 0; k < NOPTIONS; k++) {
			if (strlen(options[k].name) == nlen && !strncmp(options[k].name, arg, nlen))
				break;
		}
		if (k == NOPTIONS) {
			pf_error_set(err, PF_EINVAL, "unknown option %.*s (see --help)",
			             (int)(nlen > 40 ? 40 : nlen), arg);
			goto fail;
		}
		s.used |= 1u << options[k].id;
		if (options[k].value || options[k].id == O_SECRET) {
			const char *value = eq ? eq + 1 : NULL;

			if (!value && options[k].id != O_SECRET) {
				if (i + 1 >= argc) {
					pf_error_set(err, PF_EINVAL, "%s needs a value",
					             options[k].name);
					goto fail;
				}
				value = argv[++i];
			}
			if (take_value(options[k].id, options[k].name, value ? value : "", a, err) <
			    0)
				goto fail;
			continue;
		}
		if (eq) {
			pf_error_set(err, PF_EINVAL, "%s takes no value", options[k].name);
			goto fail;
		}
		take_flag(options[k].id, a, &s);
	}
	if (a->help)
		return 0;
	if (check_command(a, &s, err) < 0)
		goto fail;
	return 0;
fail:
	pf_adminctl_args_free(a);
	return PF_EINVAL;
}

void pf_adminctl_args_free(struct pf_adminctl_args *a)
{
	free((void *)a->targets);
	free((void *)a->add);
	free((void *)a->remove);
	a->targets = a->add = a->remove = NULL;
	a->ntargets = a->nadd = a->nremove = 0;
}

bool pf_adminctl_confirmed(const char *typed, const char *expected)
{
	size_t n;

	if (!typed || !expected || !*expected)
		return false;
	n = strlen(typed);
	while (n > 0 && (typed[n - 1] == '\n' || typed[n - 1] == '\r' || typed[n - 1] == ' ' ||
	                 typed[n - 1] == '\t'))
		n--;
	return n == strlen(expected) && !memcmp(typed, expected, n);
}

char *pf_adminctl_token_from_text(const char *text, size_t len, struct pf_error *err)
{
	size_t start = 0, end;

	while (start < len && (text[start] == ' ' || text[start] == '\t'))
		start++;
	end = start;
	while (end < len && text[end] != '\n' && text[end] != '\r')
		end++;
	while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\t'))
		end--;
	if (end - start < 16 || end - start > 4096) {
		pf_error_set(err, PF_EINVAL,
		             "the token (first line of the file) must be 16 to 4096 characters");
		return NULL;
	}
	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c <= 0x20 || c >= 0x7f) {
			pf_error_set(err, PF_EINVAL,
			             "the token has a blank or a non-printable character");
			return NULL;
		}
	}
	return pf_xstrndup(text + start, end - start);
}

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0; *shown says
 * whether it may reach a terminal as is. */
static size_t utf8_len(const unsigned char *s, size_t avail, bool *shown)
{
	uint32_t cp = 0;
	size_t n = pf_codec_utf8_decode(s, avail, &cp);

	/* C0 controls, DEL and the C1 controls: a terminal takes U+009B as CSI. */
	*shown = n > 0 && cp >= 0x20 && !(cp >= 0x7F && cp <= 0x9F);
	return n;
}

size_t pf_adminctl_sanitize(struct pf_buf *out, const char *s, size_t max_chars)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *end = p + strlen(s);
	size_t chars = 0;

	if (max_chars == 0)
		return 0;
	while (*p) {
		bool shown;
		size_t n = utf8_len(p, (size_t)(end - p), &shown);
		size_t step = n ? n : 1;

		if (chars + 1 == max_chars && p[step]) {
			/* More than fits: the last character is an ellipsis. */
			pf_buf_append_str(out, "\xe2\x80\xa6");
			return chars + 1;
		}
		if (shown)
			pf_buf_append(out, p, n);
		else
			pf_buf_append(out, "?", 1);
		p += step;
		chars++;
	}
	return chars;
}

void pf_adminctl_table_init(struct pf_adminctl_table *t, size_t ncols, const char *const *headers)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->headers = headers;
	t->max_cell = 60;
}

void pf_adminctl_table_add(struct pf_adminctl_table *t, const char *const *row)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = pf_xrealloc(t->cells, t->cap * t->ncols * sizeof(char *));
	}
	for (size_t c = 0; c < t->ncols; c++) {
		struct pf_buf b;

		pf_buf_init(&b);
		pf_adminctl_sanitize(&b, row[c] ? row[c] : "-", t->max_cell);
		t->cells[t->nrows * t->ncols + c] =
		    b.data ? pf_buf_steal(&b, NULL) : pf_xstrdup("");
	}
	t->nrows++;
}

/* Characters (not bytes) of sanitised UTF-8. */
static size_t chars_of(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void render_row(struct pf_buf *out, const char *const *cells, size_t ncols,
                       const size_t *width)
{
	for (size_t c = 0; c < ncols; c++) {
		pf_buf_append_str(out, cells[c]);
		if (c + 1 < ncols) {
			for (size_t k = chars_of(cells[c]); k < width[c] + 2; k++)
				pf_buf_append(out, " ", 1);
		}
	}
	pf_buf_append(out, "\n", 1);
}

void pf_adminctl_table_render(const struct pf_adminctl_table *t, struct pf_buf *out)
{
	size_t *width = pf_xcalloc(t->ncols ? t->ncols : 1, sizeof(size_t));

	for (size_t c = 0; c < t->ncols; c++) {
		width[c] = chars_of(t->headers[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = chars_of(t->cells[r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	}
	render_row(out, t->headers, t->ncols, width);
	for (size_t r = 0; r < t->nrows; r++)
		render_row(out, (const char *const *)&t->cells[r * t->ncols], t->ncols, width);
	free(width);
}

void pf_adminctl_table_free(struct pf_adminctl_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

/* A sanitised copy cut to fit n bytes at a character boundary. */
static void copy_field(char *dst, size_t n, const json_t *v)
{
	struct pf_buf b;
	size_t len;

	dst[0] = '\0';
	if (!json_is_string(v))
		return;
	pf_buf_init(&b);
	pf_adminctl_sanitize(&b, json_string_value(v), n - 1);
	len = b.len < n - 1 ? b.len : n - 1;
	while (len > 0 && len < b.len && ((unsigned char)b.data[len] & 0xC0) == 0x80)
		len--;
	if (len)
		memcpy(dst, b.data, len);
	dst[len] = '\0';
	pf_buf_free(&b);
}

static int64_t int_field(const json_t *job, const char *name, int64_t dflt)
{
	const json_t *v = json_object_get(job, name);

	return json_is_integer(v) && json_integer_value(v) >= 0 ? (int64_t)json_integer_value(v)
	                                                        : dflt;
}

int pf_adminctl_progress_from_job(const json_t *job, struct pf_adminctl_progress *p,
                                  struct pf_error *err)
{
	memset(p, 0, sizeof(*p));
	if (!json_is_object(job) || !json_is_string(json_object_get(job, "id")) ||
	    !json_is_string(json_object_get(job, "state")) ||
	    !json_is_string(json_object_get(job, "kind")))
		return pf_error_set(err, PF_EINVAL, "the daemon's answer is not a job");
	copy_field(p->id, sizeof(p->id), json_object_get(job, "id"));
	copy_field(p->kind, sizeof(p->kind), json_object_get(job, "kind"));
	copy_field(p->state, sizeof(p->state), json_object_get(job, "state"));
	copy_field(p->phase, sizeof(p->phase), json_object_get(job, "phase"));
	copy_field(p->error, sizeof(p->error), json_object_get(job, "error"));
	p->seconds = int_field(job, "seconds", 0);
	p->done = int_field(job, "done", 0);
	p->total = int_field(job, "total", -1);
	return 0;
}

bool pf_adminctl_progress_finished(const struct pf_adminctl_progress *p)
{
	return strcmp(p->state, "running") != 0;
}

static void format_seconds(int64_t s, char out[32])
{
	if (s >= 3600)
		snprintf(out, 32, "%" PRId64 ":%02d:%02d", s / 3600, (int)(s / 60 % 60),
		         (int)(s % 60));
	else
		snprintf(out, 32, "%d:%02d", (int)(s / 60), (int)(s % 60));
}

static int percent(const struct pf_adminctl_progress *p)
{
	if (p->total <= 0)
		return p->total == 0 && pf_adminctl_progress_finished(p) ? 100 : 0;
	if (p->done >= p->total)
		return 100;
	return (int)(p->done * 100 / p->total);
}

void pf_adminctl_progress_bar(struct pf_buf *out, const struct pf_adminctl_progress *p, int width)
{
	char tail[192], when[32];
	int bar, filled;

	format_seconds(p->seconds, when);
	if (p->total >= 0)
		snprintf(tail, sizeof(tail), " %3d%%  %" PRId64 "/%" PRId64 "  %s %s  %s",
		         percent(p), p->done, p->total, p->kind, *p->phase ? p->phase : p->state,
		         when);
	else
		snprintf(tail, sizeof(tail), " %" PRId64 " done  %s %s  %s", p->done, p->kind,
		         *p->phase ? p->phase : p->state, when);
	if (p->total < 0) {
		pf_buf_append_str(out, tail + 1);
		return;
	}
	/* One column spare: writing the last one wraps some terminals. */
	bar = width - (int)strlen(tail) - 3;
	if (bar > 40)
		bar = 40;
	if (bar < 5)
		bar = 5;
	filled = bar * percent(p) / 100;
	pf_buf_append(out, "[", 1);
	for (int i = 0; i < bar; i++)
		pf_buf_append(out, i < filled ? "#" : "-", 1);
	pf_buf_append(out, "]", 1);
	pf_buf_append_str(out, tail);
}

void pf_adminctl_progress_line(struct pf_buf *out, const struct pf_adminctl_progress *p)
{
	pf_buf_appendf(out, "%s %s", p->id, p->state);
	if (*p->phase)
		pf_buf_appendf(out, " %s", p->phase);
	if (p->total >= 0)
		pf_buf_appendf(out, " %" PRId64 "/%" PRId64 " (%d%%)", p->done, p->total,
		               percent(p));
	else
		pf_buf_appendf(out, " %" PRId64 " done", p->done);
	pf_buf_appendf(out, " %" PRId64 "s", p->seconds);
	if (*p->error)
		pf_buf_appendf(out, ": %s", p->error);
	pf_buf_append(out, "\n", 1);
}
