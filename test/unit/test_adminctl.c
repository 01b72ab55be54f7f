/* Unit tests for `photofinish admin`'s pure parts: arguments, confirmations,
 * tokens, sanitising, tables and progress lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "photofinish/adminctl.h"
#include "photofinish/error.h"
#include "photofinish/util.h"

#define ARGV(...) ((char *[]){"admin", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"admin", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(a, err, ...) pf_adminctl_parse_args(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (a), (err))

static void expect_usage(int argc, char **argv, const char *needle)
{
	struct pf_adminctl_args a;
	struct pf_error err;

	pf_error_clear(&err);
	assert_int_equal(pf_adminctl_parse_args(argc, argv, &a, &err), PF_EINVAL);
	if (!strstr(err.message, needle))
		fail_msg("expected \"%s\" in \"%s\"", needle, err.message);
	/* Freed by the parser on failure: nothing left to free. */
	assert_null(a.targets);
}

#define EXPECT_USAGE(needle, ...) expect_usage(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), needle)

static void test_commands_and_global_options(void **state)
{
	struct pf_adminctl_args a;
	struct pf_error err;

	assert_int_equal(PARSE(&a, &err, "--url", "http://h:1", "status", "--json"), 0);
	assert_int_equal(a.cmd, PF_ADMINCTL_STATUS);
	assert_string_equal(a.url, "http://h:1");
	assert_true(a.json);
	assert_int_equal(a.timeout_s, PF_ADMINCTL_DEFAULT_TIMEOUT);
	pf_adminctl_args_free(&a);

	assert_int_equal(PARSE(&a, &err, "unmatched", "--limit=20", "--all", "--timeout", "5"), 0);
	assert_int_equal(a.cmd, PF_ADMINCTL_UNMATCHED);
	assert_int_equal(a.limit, 20);
	assert_true(a.all);
	assert_int_equal(a.timeout_s, 5);
	pf_adminctl_args_free(&a);

	assert_int_equal(PARSE(&a, &err, "--help"), 0);
	assert_true(a.help);
	pf_adminctl_args_free(&a);

	assert_int_equal(PARSE(&a, &err, "watch", "reprocess-3-123"), 0);
	assert_int_equal(a.cmd, PF_ADMINCTL_WATCH);
	assert_string_equal(a.target, "reprocess-3-123");
	pf_adminctl_args_free(&a);

	assert_int_equal(PARSE(&a, &err, "reprocess", "--prefix", "race/", "--watch"), 0);
	assert_string_equal(a.prefix, "race/");
	assert_true(a.watch);
	pf_adminctl_args_free(&a);

	assert_int_equal(PARSE(&a, &err, "clear", "--originals", "--yes-i-mean-it=race-table"), 0);
	assert_true(a.originals);
	assert_string_equal(a.confirm, "race-table");
	pf_adminctl_args_free(&a);

	/* After "--" a key that starts with a dash is a key. */
	assert_int_equal(PARSE(&a, &err, "delete", "--yes", "--", "-odd.jpg", "b.jpg"), 0);
	assert_int_equal(a.ntargets, 2);
	assert_string_equal(a.targets[0], "-odd.jpg");
	assert_true(a.yes);
	pf_adminctl_args_free(&a);
}

static void test_codes_modes(void **state)
{
	struct pf_adminctl_args a;
	struct pf_error err;

	assert_int_equal(PARSE(&a, &err, "codes", "IMG_1.jpg", "10423", "10577"), 0);
	assert_int_equal(a.codes_mode, PF_ADMINCTL_CODES_SET);
	assert_string_equal(a.target, "IMG_1.jpg");
	assert_int_equal(a.ntargets, 2);
	assert_string_equal(a.targets[1], "10577");
	pf_adminctl_args_free(&a);

	assert_int_equal(PARSE(&a, &err, "codes", "--add", "id1", "1", "2", "--remove", "3"), 0);
	/* The photo is the first word whatever the options around it. */
	assert_string_equal(a.target, "id1");
	assert_int_equal(a.codes_mode, PF_ADMINCTL_CODES_EDIT);
	assert_int_equal(a.nadd, 2);
	assert_int_equal(a.nremove, 1);
	assert_string_equal(a.remove[0], "3");
	pf_adminctl_args_free(&a);

	assert_int_equal(PARSE(&a, &err, "codes", "id1", "--none"), 0);
	assert_int_equal(a.codes_mode, PF_ADMINCTL_CODES_NONE);
	pf_adminctl_args_free(&a);

	EXPECT_USAGE("not both", "codes", "id1", "5", "--add", "6");
	EXPECT_USAGE("--add needs codes", "codes", "id1", "--add");
	EXPECT_USAGE("--none takes no codes", "codes", "id1", "--none", "4");
	EXPECT_USAGE("codes needs the codes", "codes", "id1");
	EXPECT_USAGE("codes needs a photo", "codes");
}

static void test_refusals(void **state)
{
	EXPECT_USAGE("no command", "--json");
	EXPECT_USAGE("unknown command", "frobnicate");
	EXPECT_USAGE("unknown option --frob", "status", "--frob");
	/* A token on the command line is refused, with or without a value. */
	EXPECT_USAGE("visible to every user", "status", "--token=s3cr3t-s3cr3t-s3cr3t");
	EXPECT_USAGE("visible to every user", "--admin-token", "status");
	EXPECT_USAGE("--prefix does not apply to clear", "clear", "--prefix", "a/");
	EXPECT_USAGE("--originals does not apply to reprocess", "reprocess", "--originals");
	EXPECT_USAGE("--yes does not apply to clear", "clear", "--yes");
	EXPECT_USAGE("--limit: \"0\"", "jobs", "--limit", "0");
	EXPECT_USAGE("--limit: \"501\"", "jobs", "--limit=501");
	EXPECT_USAGE("--timeout", "status", "--timeout", "0");
	EXPECT_USAGE("--url must start", "status", "--url", "ftp://x");
	EXPECT_USAGE("--url needs a value", "status", "--url");
	EXPECT_USAGE("--json takes no value", "status", "--json=1");
	EXPECT_USAGE("status takes no arguments", "status", "extra");
	EXPECT_USAGE("show takes one argument", "show", "a", "b");
	EXPECT_USAGE("show needs", "show");
	EXPECT_USAGE("is not a job id", "watch", "../../etc");
	EXPECT_USAGE("erase needs", "erase");
	EXPECT_USAGE("delete needs", "delete", "--yes");
	EXPECT_USAGE("is empty", "show", "");
	EXPECT_USAGE("control characters", "show", "a\033[2Jb");
	EXPECT_USAGE("--yes-i-mean-it is empty", "clear", "--yes-i-mean-it=");
}

static void test_delete_bound(void **state)
{
	int argc = PF_ADMINCTL_MAX_TARGETS + 3;
	char **argv = pf_xcalloc((size_t)argc + 1, sizeof(char *));
	struct pf_adminctl_args a;
	struct pf_error err;

	argv[0] = "admin";
	argv[1] = "delete";
	for (int i = 2; i < argc; i++)
		argv[i] = "k.jpg";
	assert_int_equal(pf_adminctl_parse_args(argc, argv, &a, &err), PF_EINVAL);
	assert_non_null(strstr(err.message, "at most 1000"));
	assert_int_equal(pf_adminctl_parse_args(argc - 1, argv, &a, &err), 0);
	assert_int_equal(a.ntargets, PF_ADMINCTL_MAX_TARGETS);
	pf_adminctl_args_free(&a);
	free(argv);
}

static void test_ids_and_confirmation(void **state)
{
	assert_true(pf_adminctl_is_photo_id("9f2c6b0d3c4e4a1f8d8e2b7c1a0f5e3d"));
	assert_false(pf_adminctl_is_photo_id("9F2C6B0D3C4E4A1F8D8E2B7C1A0F5E3D"));
	assert_false(pf_adminctl_is_photo_id("9f2c6b0d3c4e4a1f8d8e2b7c1a0f5e3"));
	assert_false(pf_adminctl_is_photo_id("IMG_0042.jpg"));
	assert_true(pf_adminctl_is_job_id("20260503T091407Z-3f9a"));
	assert_false(pf_adminctl_is_job_id("a/b"));
	assert_false(pf_adminctl_is_job_id(""));

	assert_true(pf_adminctl_confirmed("race-table\n", "race-table"));
	assert_true(pf_adminctl_confirmed("race-table \r\n", "race-table"));
	assert_false(pf_adminctl_confirmed("race-tabl\n", "race-table"));
	assert_false(pf_adminctl_confirmed("race-table-2\n", "race-table"));
	assert_false(pf_adminctl_confirmed("RACE-TABLE\n", "race-table"));
	assert_false(pf_adminctl_confirmed(" race-table\n", "race-table"));
	assert_false(pf_adminctl_confirmed("\n", ""));
	assert_false(pf_adminctl_confirmed(NULL, "race-table"));
}

static void test_token_text(void **state)
{
	struct pf_error err;
	char *t = pf_adminctl_token_from_text("  0123456789abcdef-xyz \nsecond line\n", 36, &err);

	assert_non_null(t);
	assert_string_equal(t, "0123456789abcdef-xyz");
	free(t);
	assert_null(pf_adminctl_token_from_text("short\n", 6, &err));
	assert_non_null(strstr(err.message, "16 to 4096"));
	assert_null(pf_adminctl_token_from_text("0123456789 abcdef\n", 18, &err));
	assert_non_null(strstr(err.message, "blank"));
	assert_null(pf_adminctl_token_from_text("", 0, &err));
}

static char *sanitized(const char *s, size_t max)
{
	struct pf_buf b;

	pf_buf_init(&b);
	pf_adminctl_sanitize(&b, s, max);
	return b.data ? pf_buf_steal(&b, NULL) : pf_xstrdup("");
}

static void test_sanitize(void **state)
{
	char *s;

	s = sanitized("plain.jpg", 60);
	assert_string_equal(s, "plain.jpg");
	free(s);
	/* Escape sequences, C1 CSI (U+009B), DEL, invalid UTF-8 all become '?'. */
	s = sanitized("a\033[2Jb\xc2\x9b"
	              "c\x7f\xff"
	              "d",
	              60);
	assert_string_equal(s, "a?[2Jb?c??d");
	free(s);
	s = sanitized("é.jpg", 60);
	assert_string_equal(s, "é.jpg");
	free(s);
	/* Cut with an ellipsis as the last character; exact fits are not cut. */
	s = sanitized("abcdefgh", 5);
	assert_string_equal(s, "abcd\xe2\x80\xa6");
	free(s);
	s = sanitized("abcde", 5);
	assert_string_equal(s, "abcde");
	free(s);
}

static void test_table(void **state)
{
	static const char *const h[] = {"ID", "KEY", "TAKEN"};
	struct pf_adminctl_table t;
	struct pf_buf out;
	const char *r1[] = {"a1", "race/IMG_0001.jpg", NULL};
	const char *r2[] = {"b22", "é\033x.jpg", "2026-05-03T09:00:00Z"};

	pf_adminctl_table_init(&t, 3, h);
	pf_adminctl_table_add(&t, r1);
	pf_adminctl_table_add(&t, r2);
	pf_buf_init(&out);
	pf_adminctl_table_render(&t, &out);
	assert_string_equal(out.data, "ID   KEY                TAKEN\n"
	                              "a1   race/IMG_0001.jpg  -\n"
	                              "b22  é?x.jpg            2026-05-03T09:00:00Z\n");
	pf_buf_free(&out);
	pf_adminctl_table_free(&t);

	/* Long cells are cut so that one key cannot push the columns off screen. */
	pf_adminctl_table_init(&t, 3, h);
	t.max_cell = 8;
	{
		const char *r[] = {"x", "a-very-long-key-name.jpg", "t"};

		pf_adminctl_table_add(&t, r);
	}
	pf_buf_init(&out);
	pf_adminctl_table_render(&t, &out);
	assert_string_equal(out.data, "ID  KEY       TAKEN\n"
	                              "x   a-very-\xe2\x80\xa6  t\n");
	pf_buf_free(&out);
	pf_adminctl_table_free(&t);
}

static void test_progress(void **state)
{
	struct pf_adminctl_progress p;
	struct pf_error err;
	struct pf_buf out;
	json_t *job = json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:i}", "id", "reprocess-1", "kind",
	                        "reprocess", "state", "running", "phase", "queueing", "done", 400,
	                        "total", 1000, "seconds", 72);

	assert_int_equal(pf_adminctl_progress_from_job(job, &p, &err), 0);
	assert_false(pf_adminctl_progress_finished(&p));
	pf_buf_init(&out);
	pf_adminctl_progress_line(&out, &p);
	assert_string_equal(out.data, "reprocess-1 running queueing 400/1000 (40%) 72s\n");
	pf_buf_free(&out);

	pf_buf_init(&out);
	pf_adminctl_progress_bar(&out, &p, 80);
	/* 80 columns with one spare: a 36-column bar, 40 % of it filled. */
	assert_string_equal(out.data, "[##############----------------------]  40%  400/1000  "
	                              "reprocess queueing  1:12");
	assert_int_equal(strlen(out.data), 79);
	pf_buf_free(&out);

	/* A narrow terminal keeps a short bar; an unknown total shows the count. */
	pf_buf_init(&out);
	pf_adminctl_progress_bar(&out, &p, 40);
	assert_string_equal(out.data, "[##---]  40%  400/1000  reprocess queueing  1:12");
	pf_buf_free(&out);
	json_object_del(job, "total");
	assert_int_equal(pf_adminctl_progress_from_job(job, &p, &err), 0);
	assert_int_equal(p.total, -1);
	pf_buf_init(&out);
	pf_adminctl_progress_bar(&out, &p, 80);
	assert_string_equal(out.data, "400 done  reprocess queueing  1:12");
	pf_buf_free(&out);

	/* The end: interrupted with how far it got, and the error. */
	json_object_set_new(job, "state", json_string("interrupted"));
	json_object_set_new(job, "error", json_string("the task running it went away"));
	json_object_set_new(job, "total", json_integer(1000));
	assert_int_equal(pf_adminctl_progress_from_job(job, &p, &err), 0);
	assert_true(pf_adminctl_progress_finished(&p));
	pf_buf_init(&out);
	pf_adminctl_progress_line(&out, &p);
	assert_string_equal(out.data, "reprocess-1 interrupted queueing 400/1000 (40%) 72s: the "
	                              "task running it went away\n");
	pf_buf_free(&out);

	/* Hostile text from the daemon cannot reach the terminal raw. */
	json_object_set_new(job, "phase", json_string("x\033]0;owned\007"));
	assert_int_equal(pf_adminctl_progress_from_job(job, &p, &err), 0);
	assert_null(strchr(p.phase, '\033'));

	json_object_del(job, "state");
	assert_int_equal(pf_adminctl_progress_from_job(job, &p, &err), PF_EINVAL);
	json_decref(job);
}

static void test_credentials(void **state)
{
	struct pf_adminctl_args a;
	struct pf_error err;

	assert_int_equal(PARSE(&a, &err, "credentials", "create", "photographer-a", "--days", "3"),
	                 0);
	assert_int_equal(a.cmd, PF_ADMINCTL_CREDENTIALS);
	assert_string_equal(a.action, "create");
	assert_string_equal(a.target, "photographer-a");
	assert_int_equal(a.days, 3);
	pf_adminctl_args_free(&a);
	assert_int_equal(PARSE(&a, &err, "credentials", "list", "--json"), 0);
	assert_string_equal(a.action, "list");
	assert_null(a.target);
	pf_adminctl_args_free(&a);
	assert_int_equal(PARSE(&a, &err, "credentials", "revoke", "alice"), 0);
	assert_string_equal(a.action, "revoke");
	pf_adminctl_args_free(&a);
	EXPECT_USAGE("credentials create|list|revoke", "credentials");
	EXPECT_USAGE("credentials create|list|revoke", "credentials", "rotate");
	EXPECT_USAGE("needs a photographer name", "credentials", "create");
	EXPECT_USAGE("needs a photographer name", "credentials", "revoke", "Alice");
	EXPECT_USAGE("needs a photographer name", "credentials", "create", "--", "-a");
	EXPECT_USAGE("takes no arguments", "credentials", "list", "alice");
	EXPECT_USAGE("takes one photographer", "credentials", "create", "a", "b");
	EXPECT_USAGE("--days: \"91\"", "credentials", "create", "a", "--days", "91");
	EXPECT_USAGE("--days applies to credentials create", "credentials", "revoke", "a", "--days",
	             "2");
	EXPECT_USAGE("--days does not apply to status", "status", "--days", "2");
}

static void test_clock_and_claims(void **state)
{
	struct pf_adminctl_args a;
	struct pf_error err;
	char id[] = "0123456789abcdef0123456789abcdef";

	assert_int_equal(PARSE(&a, &err, "clock", "cam-2", "-3600", "--watch"), 0);
	assert_int_equal(a.cmd, PF_ADMINCTL_CLOCK);
	assert_string_equal(a.target, "cam-2");
	assert_true(a.have_offset);
	assert_int_equal(a.offset_s, -3600);
	assert_true(a.watch);
	pf_adminctl_args_free(&a);
	assert_int_equal(PARSE(&a, &err, "clock", "alice", "604800"), 0);
	assert_int_equal(a.offset_s, 604800);
	pf_adminctl_args_free(&a);
	assert_int_equal(PARSE(&a, &err, "clock", "alice", "0"), 0);
	assert_true(a.have_offset);
	pf_adminctl_args_free(&a);
	EXPECT_USAGE("needs the seconds", "clock", "alice");
	EXPECT_USAGE("needs a photographer name", "clock");
	EXPECT_USAGE("needs a photographer name", "clock", "Alice", "60");
	EXPECT_USAGE("from -604800 to 604800", "clock", "alice", "604801");
	EXPECT_USAGE("from -604800 to 604800", "clock", "alice", "1h");
	EXPECT_USAGE("unknown option -x", "clock", "alice", "-x");
	EXPECT_USAGE("takes a photographer and seconds", "clock", "alice", "1", "2");

	assert_int_equal(PARSE(&a, &err, "claims"), 0);
	assert_int_equal(a.cmd, PF_ADMINCTL_CLAIMS);
	assert_string_equal(a.action, "list");
	assert_null(a.state);
	pf_adminctl_args_free(&a);
	assert_int_equal(PARSE(&a, &err, "claims", "list", "--state", "approved", "--limit", "5"),
	                 0);
	assert_string_equal(a.state, "approved");
	assert_int_equal(a.limit, 5);
	pf_adminctl_args_free(&a);
	assert_int_equal(PARSE(&a, &err, "claims", "approve", id), 0);
	assert_string_equal(a.action, "approve");
	assert_string_equal(a.target, id);
	pf_adminctl_args_free(&a);
	EXPECT_USAGE("needs a claim id", "claims", "reject");
	EXPECT_USAGE("needs a claim id", "claims", "reject", "10423");
	EXPECT_USAGE("claims list|approve ID|reject ID", "claims", "delete", id);
	EXPECT_USAGE("--state: \"open\"", "claims", "--state", "open");
	EXPECT_USAGE("apply to claims list", "claims", "approve", id, "--state", "pending");
	EXPECT_USAGE("takes no arguments", "claims", "list", id);
	EXPECT_USAGE("--state does not apply to status", "status", "--state", "pending");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_commands_and_global_options),
	    cmocka_unit_test(test_codes_modes),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_delete_bound),
	    cmocka_unit_test(test_ids_and_confirmation),
	    cmocka_unit_test(test_token_text),
	    cmocka_unit_test(test_sanitize),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_progress),
	    cmocka_unit_test(test_credentials),
	    cmocka_unit_test(test_clock_and_claims),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
