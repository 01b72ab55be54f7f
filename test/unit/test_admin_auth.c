/* Unit tests for named admin tokens: configuration and the bearer check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "photofinish/admin_auth.h"
#include "photofinish/config.h"
#include "photofinish/util.h"

static char *base_env[] = {
    "PHOTOFINISH_INGRESS_BUCKET=race-ingress",
    "PHOTOFINISH_PROCESSED_BUCKET=race-processed",
    "PHOTOFINISH_TABLE=race-table",
    "PHOTOFINISH_QUEUE_URL=http://127.0.0.1:4566/000000000000/race-queue",
    "AWS_REGION=eu-west-1",
    NULL,
};

static int load(char **extra, struct pf_config *cfg, struct pf_buf *problems)
{
	char *env[32];
	size_t n = 0;

	for (char **e = extra; e && *e; e++)
		env[n++] = *e;
	for (char **e = base_env; *e; e++)
		env[n++] = *e;
	env[n] = NULL;
	pf_buf_init(problems);
	return pf_config_load_env(cfg, PF_CONFIG_DAEMON, env, NULL, NULL, false, problems);
}

static void test_named_tokens(void **state)
{
	char *extra[] = {"PHOTOFINISH_ADMIN_TOKEN=legacy-secret-0123456789",
	                 "PHOTOFINISH_ADMIN_TOKENS=alice:alice-secret-0123456789, "
	                 "bob:bob-secret-0123456789abcdef",
	                 NULL};
	struct pf_config cfg;
	struct pf_buf problems;
	struct pf_admin_auth *auth;
	char *json;

	assert_int_equal(load(extra, &cfg, &problems), 0);
	assert_int_equal(cfg.nadmin_tokens, 3);
	assert_string_equal(cfg.admin_token_list[0].name, "admin");
	assert_string_equal(cfg.admin_token_list[1].name, "alice");
	assert_string_equal(cfg.admin_token_list[2].name, "bob");
	json = pf_config_to_json(&cfg);
	assert_null(strstr(json, "secret-0123"));
	assert_non_null(strstr(json, "\"PHOTOFINISH_ADMIN_TOKENS\":\"(redacted)\""));
	free(json);

	pf_admin_auth_new(&cfg, &auth);
	assert_true(pf_admin_auth_is_enabled(auth));
	assert_string_equal(pf_admin_auth_check(auth, "Bearer alice-secret-0123456789"), "alice");
	assert_string_equal(pf_admin_auth_check(auth, "Bearer bob-secret-0123456789abcdef"), "bob");
	assert_string_equal(pf_admin_auth_check(auth, "bearer legacy-secret-0123456789"), "admin");
	assert_null(pf_admin_auth_check(auth, "Bearer alice-secret-012345678"));
	assert_null(pf_admin_auth_check(auth, "Bearer alice-secret-01234567890"));
	assert_null(pf_admin_auth_check(auth, "Bearer alice"));
	assert_null(pf_admin_auth_check(auth, "Basic alice-secret-0123456789"));
	assert_null(pf_admin_auth_check(auth, "alice-secret-0123456789"));
	assert_null(pf_admin_auth_check(auth, "Bearer "));
	assert_null(pf_admin_auth_check(auth, NULL));
	pf_admin_auth_free(auth);
	pf_config_free(&cfg);
	pf_buf_free(&problems);
}

static void test_tokens_file(void **state)
{
	char path[] = "/tmp/pf-tokens-XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "# operators of the 2026 race\n"
	                    "carol:carol-secret-0123456789\n"
	                    "\n"
	                    "  dave@example.org:dave-secret-0123456789  \r\n";
	char *file_env;
	struct pf_config cfg;
	struct pf_buf problems;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	file_env = pf_xasprintf("PHOTOFINISH_ADMIN_TOKENS_FILE=%s", path);
	{
		char *extra[] = {file_env, NULL};

		assert_int_equal(load(extra, &cfg, &problems), 0);
	}
	assert_int_equal(cfg.nadmin_tokens, 2);
	assert_string_equal(cfg.admin_token_list[0].name, "carol");
	assert_string_equal(cfg.admin_token_list[1].name, "dave@example.org");
	assert_string_equal(cfg.admin_token_list[1].secret, "dave-secret-0123456789");
	pf_config_free(&cfg);
	pf_buf_free(&problems);
	unlink(path);
	free(file_env);
}

static void expect_token_problem(char *setting, const char *needle)
{
	char *extra[] = {setting, NULL};
	struct pf_config cfg;
	struct pf_buf problems;

	assert_int_not_equal(load(extra, &cfg, &problems), 0);
	if (!strstr(problems.data, needle))
		fail_msg("expected \"%s\" in %s", needle, problems.data);
	/* A problem never quotes a secret. */
	assert_null(strstr(problems.data, "0123456789"));
	pf_config_free(&cfg);
	pf_buf_free(&problems);
}

static void test_token_problems(void **state)
{
	expect_token_problem("PHOTOFINISH_ADMIN_TOKENS=alice", "entry 1 is not name:secret");
	expect_token_problem("PHOTOFINISH_ADMIN_TOKENS=alice:short", "16 to 4096");
	expect_token_problem("PHOTOFINISH_ADMIN_TOKENS=al ice:secret-0123456789abc", "the name");
	expect_token_problem("PHOTOFINISH_ADMIN_TOKENS=a:x-0123456789abcdef,a:y-0123456789abcdef",
	                     "the name a is given twice");
	expect_token_problem("PHOTOFINISH_ADMIN_TOKENS=a:x-0123456789abcdef,b:x-0123456789abcdef",
	                     "the same secret as a");
	expect_token_problem("PHOTOFINISH_ADMIN_TOKENS=a:x-0123456789abcdef,,b:y-0123456789abcdef",
	                     "entry 2 is empty");
	expect_token_problem("PHOTOFINISH_ADMIN_TOKENS_FILE=/nonexistent/tokens", "cannot read");
}

static void test_no_tokens(void **state)
{
	struct pf_config cfg;
	struct pf_buf problems;
	struct pf_admin_auth *auth;

	assert_int_equal(load(NULL, &cfg, &problems), 0);
	pf_admin_auth_new(&cfg, &auth);
	assert_false(pf_admin_auth_is_enabled(auth));
	assert_null(pf_admin_auth_check(auth, "Bearer anything-at-all-0123456789"));
	pf_admin_auth_free(auth);
	pf_config_free(&cfg);
	pf_buf_free(&problems);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_named_tokens),
	    cmocka_unit_test(test_tokens_file),
	    cmocka_unit_test(test_token_problems),
	    cmocka_unit_test(test_no_tokens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
