/* Unit tests for the JSON-lines logger: escaping, fields, levels, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "photofinish/log.h"
#include "photofinish/util.h"

/* Parses a formatted line with jansson: proves it is valid JSON. */
static json_t *parse_line(const char *line)
{
	json_error_t jerr;
	json_t *j = json_loads(line, 0, &jerr);

	if (!j)
		fail_msg("not JSON (%s): %s", jerr.text, line);
	return j;
}

static void test_basic_fields(void **state)
{
	const struct pf_log_field f[] = {PF_LS("key", "a/b.jpg"), PF_LI("ms", 42),
	                                 PF_LD("ratio", 0.5),     PF_LB("ok", true),
	                                 PF_LS("nothing", NULL),  PF_LJ("codes", "[\"1\",\"2\"]")};
	char *line = pf_log_format(0, PF_LOG_WARN, "image processed", f, 6);
	json_t *j;

	assert_non_null(strstr(line, "\n"));
	assert_int_equal(line[strlen(line) - 1], '\n');
	j = parse_line(line);
	assert_string_equal(json_string_value(json_object_get(j, "ts")),
	                    "1970-01-01T00:00:00.000Z");
	assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
	assert_string_equal(json_string_value(json_object_get(j, "msg")), "image processed");
	assert_string_equal(json_string_value(json_object_get(j, "key")), "a/b.jpg");
	assert_int_equal(json_integer_value(json_object_get(j, "ms")), 42);
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_true(json_is_null(json_object_get(j, "nothing")));
	assert_int_equal(json_array_size(json_object_get(j, "codes")), 2);
	json_decref(j);
	free(line);
}

static void test_escapes_everything(void **state)
{
	/* quotes, backslash, control chars, DEL, valid UTF-8, invalid UTF-8,
	 * an overlong encoding and a UTF-16 surrogate encoded in UTF-8 */
	const char *nasty = "q\"b\\n\nr\rt\t\x01\x1f\x7f é 😀 \xff\xfe \xc0\xaf \xed\xa0\x80 end";
	const struct pf_log_field f[] = {PF_LS(nasty, nasty)};
	char *line = pf_log_format(1700000000123, PF_LOG_INFO, nasty, f, 1);
	json_t *j = parse_line(line);
	const char *msg = json_string_value(json_object_get(j, "msg"));

	assert_non_null(msg);
	assert_non_null(strstr(msg, "q\"b\\n\nr\rt\t\x01\x1f\x7f é 😀 "));
	assert_non_null(strstr(msg, "\xef\xbf\xbd")); /* U+FFFD */
	assert_non_null(strstr(msg, " end"));
	/* The only raw newline is the terminator: one event, one line. */
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	assert_string_equal(json_string_value(json_object_get(j, "ts")),
	                    "2023-11-14T22:13:20.123Z");
	json_decref(j);
	free(line);
}

static void test_reserved_keys_not_duplicated(void **state)
{
	const struct pf_log_field f[] = {PF_LS("msg", "spoof"), PF_LS("level", "error")};
	char *line = pf_log_format(0, PF_LOG_INFO, "real", f, 2);
	json_t *j = parse_line(line);

	assert_string_equal(json_string_value(json_object_get(j, "msg")), "real");
	assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
	assert_null(strstr(line, "spoof"));
	json_decref(j);
	free(line);
}

static void test_levels(void **state)
{
	enum pf_log_level l;

	assert_true(pf_log_level_parse("WARNING", &l));
	assert_int_equal(l, PF_LOG_WARN);
	assert_false(pf_log_level_parse("trace", &l));
	pf_log_set_level(PF_LOG_WARN);
	assert_false(pf_log_enabled(PF_LOG_INFO));
	assert_true(pf_log_enabled(PF_LOG_ERROR));
	pf_log_set_level(PF_LOG_INFO);
}

static void *log_many(void *arg)
{
	for (int i = 0; i < 200; i++)
		pf_info("from thread", PF_LI("thread", (long)(intptr_t)arg), PF_LI("i", i));
	return NULL;
}

static void test_threads_write_whole_lines(void **state)
{
	char path[] = "/tmp/pf-test-log-XXXXXX";
	int fd = mkstemp(path);
	pthread_t t[4];
	FILE *f;
	char line[512];
	int n = 0;

	assert_true(fd >= 0);
	pf_log_set_fd(fd);
	for (intptr_t i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, log_many, (void *)i);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	pf_log_set_fd(1);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		json_t *j = parse_line(line);

		json_decref(j);
		n++;
	}
	fclose(f);
	close(fd);
	unlink(path);
	assert_int_equal(n, 800);
}

static void test_level_filter_suppresses(void **state)
{
	char path[] = "/tmp/pf-test-log-XXXXXX";
	int fd = mkstemp(path);
	off_t size;

	pf_log_set_fd(fd);
	pf_log_set_level(PF_LOG_ERROR);
	pf_info("hidden", PF_LI("x", 1));
	pf_debug("hidden too", PF_LI("x", 1));
	size = lseek(fd, 0, SEEK_END);
	pf_error_log("shown", PF_LI("x", 1));
	pf_log_set_level(PF_LOG_INFO);
	pf_log_set_fd(1);
	assert_int_equal(size, 0);
	assert_true(lseek(fd, 0, SEEK_END) > 0);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic_fields),
	    cmocka_unit_test(test_escapes_everything),
	    cmocka_unit_test(test_reserved_keys_not_duplicated),
	    cmocka_unit_test(test_levels),
	    cmocka_unit_test(test_threads_write_whole_lines),
	    cmocka_unit_test(test_level_filter_suppresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
