/*
 * Unit tests for the pure credentials code: environment, shared files
 * (temporary files: profiles, comments, precedence, missing keys, oversized
 * and unreadable files), container/IMDS JSON,, the container URL
 * rules and the IMDSv2 helpers. Every failure path also checks that no
 * secret leaked into the error message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "photofinish/aws/credentials.h"
#include "photofinish/error.h"
#include "photofinish/util.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN "IQoJb3JpZ2luX2VjEXAMPLETOKEN//////////+=="

static char tmpdir[256];

static void no_secret(const struct pf_error *err)
{
	assert_null(strstr(err->message, "wJalr"));
	assert_null(strstr(err->message, "EXAMPLETOKEN"));
	assert_null(strstr(err->message, "SUPERSECRET"));
}

static void expect_fail(int rc, const struct pf_error *err, int code, const char *needle)
{
	assert_int_equal(rc, code);
	if (needle && !strstr(err->message, needle))
		fail_msg("expected \"%s\" in \"%s\"", needle, err->message);
	no_secret(err);
}

/* ---- environment ------------------------------------------------------------------ */

static void test_env(void **state)
{
	char *full[] = {"AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=" SECRET,
	                "AWS_SESSION_TOKEN=" TOKEN, "AWS_ACCESS_KEY_ID=SECOND", NULL};
	char *no_token[] = {"AWS_SECRET_ACCESS_KEY=" SECRET, "AWS_ACCESS_KEY_ID=AKID2",
	                    "AWS_SESSION_TOKEN=", NULL};
	char *none[] = {"HOME=/nonexistent", "AWS_ACCESS_KEY_ID=", NULL};
	char *only_id[] = {"AWS_ACCESS_KEY_ID=AKID", NULL};
	char *only_secret[] = {"AWS_SECRET_ACCESS_KEY=" SECRET, NULL};
	char *bad_secret[] = {"AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=wJalr x", NULL};
	char *bad_token[] = {"AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=" SECRET,
	                     "AWS_SESSION_TOKEN=EXAMPLETOKEN\r\nX: y", NULL};
	char *bad_id[] = {"AWS_ACCESS_KEY_ID=AK/ID", "AWS_SECRET_ACCESS_KEY=" SECRET, NULL};
	struct pf_credentials *c = NULL;
	struct pf_error err;
	struct pf_sigv4_credentials sc;

	pf_error_clear(&err);
	assert_int_equal(pf_credentials_from_env(full, &c, &err), 0);
	assert_string_equal(c->access_key_id, "AKIDEXAMPLE");
	assert_string_equal(c->secret_access_key, SECRET);
	assert_string_equal(c->session_token, TOKEN);
	assert_int_equal(c->expiration, 0);
	assert_string_equal(c->source, "environment");
	pf_credentials_to_sigv4(c, &sc);
	assert_ptr_equal(sc.secret_access_key, c->secret_access_key);
	assert_false(pf_credentials_is_expiring(c, INT64_C(4000000000), 300));
	pf_credentials_free(c);

	assert_int_equal(pf_credentials_from_env(no_token, &c, &err), 0);
	assert_string_equal(c->access_key_id, "AKID2");
	assert_null(c->session_token);
	pf_credentials_free(c);

	expect_fail(pf_credentials_from_env(none, &c, &err), &err, PF_ENOTFOUND, "not set");
	assert_null(c);
	expect_fail(pf_credentials_from_env(NULL, &c, &err), &err, PF_ENOTFOUND, NULL);
	expect_fail(pf_credentials_from_env(only_id, &c, &err), &err, PF_EINVAL,
	            "AWS_SECRET_ACCESS_KEY is not");
	expect_fail(pf_credentials_from_env(only_secret, &c, &err), &err, PF_EINVAL,
	            "AWS_ACCESS_KEY_ID is not");
	expect_fail(pf_credentials_from_env(bad_secret, &c, &err), &err, PF_EINVAL,
	            "AWS_SECRET_ACCESS_KEY");
	expect_fail(pf_credentials_from_env(bad_token, &c, &err), &err, PF_EINVAL,
	            "AWS_SESSION_TOKEN");
	expect_fail(pf_credentials_from_env(bad_id, &c, &err), &err, PF_EINVAL,
	            "AWS_ACCESS_KEY_ID");
	assert_null(c);
	pf_credentials_free(NULL);
}

static void test_object_helpers(void **state)
{
	char *env[] = {"AWS_ACCESS_KEY_ID=AKID", "AWS_SECRET_ACCESS_KEY=" SECRET,
	               "AWS_SESSION_TOKEN=" TOKEN, NULL};
	struct pf_credentials *c, *d;

	assert_int_equal(pf_credentials_from_env(env, &c, NULL), 0);
	c->expiration = 1000;
	d = pf_credentials_dup(c);
	pf_credentials_free(c);
	assert_string_equal(d->secret_access_key, SECRET);
	assert_string_equal(d->session_token, TOKEN);
	assert_string_equal(d->source, "environment");
	assert_false(pf_credentials_is_expiring(d, 600, 300));
	assert_true(pf_credentials_is_expiring(d, 700, 300));
	assert_true(pf_credentials_is_expiring(d, 2000, 0));
	pf_credentials_free(d);
}

/* ---- shared files ---------------------------------------------------------------- */

static char *write_tmp(const char *name, const char *text)
{
	char *path = pf_xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int setup_tmp(void **state)
{
	char *aws;

	snprintf(tmpdir, sizeof(tmpdir), "%s/pf-cred-XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	aws = pf_xasprintf("%s/.aws", tmpdir);
	mkdir(aws, 0700);
	free(aws);
	return 0;
}

static int teardown_tmp(void **state)
{
	char *cmd = pf_xasprintf("rm -rf '%s'", tmpdir);
	int rc = system(cmd);

	free(cmd);
	return rc == 0 ? 0 : -1;
}

static int from_files(const char *profile, const char *cred_file, const char *conf_file,
                      struct pf_credentials **c, struct pf_error *err)
{
	char *env[8];
	size_t n = 0;
	int rc;

	env[n++] = pf_xasprintf("HOME=%s", tmpdir);
	if (profile)
		env[n++] = pf_xasprintf("AWS_PROFILE=%s", profile);
	if (cred_file)
		env[n++] = pf_xasprintf("AWS_SHARED_CREDENTIALS_FILE=%s", cred_file);
	if (conf_file)
		env[n++] = pf_xasprintf("AWS_CONFIG_FILE=%s", conf_file);
	env[n] = NULL;
	pf_error_clear(err);
	rc = pf_credentials_from_shared_files(env, c, err);
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	return rc;
}

static void test_shared_files_default_paths(void **state)
{
	struct pf_credentials *c = NULL;
	struct pf_error err;
	char *cred, *conf;

	/* No files at all: nothing to offer. */
	expect_fail(from_files(NULL, NULL, NULL, &c, &err), &err, PF_ENOTFOUND, "default");
	expect_fail(from_files("dev", NULL, NULL, &c, &err), &err, PF_EINVAL, "'dev'");

	cred =
	    write_tmp(".aws/credentials", "\xef\xbb\xbf# comment\r\n"
	                                  "; another\r\n"
	                                  "[default]\r\n"
	                                  "aws_access_key_id = AKIDDEFAULT   # inline comment\r\n"
	                                  "AWS_Secret_Access_Key=" SECRET " ; inline\r\n"
	                                  "\r\n"
	                                  "[ other ]\n"
	                                  "aws_access_key_id=AKIDOTHER\n"
	                                  "aws_secret_access_key=" SECRET "\n"
	                                  "aws_session_token=\t" TOKEN "\t\n");
	conf = write_tmp(".aws/config", "[default]\n"
	                                "region = eu-west-1\n"
	                                "s3 =\n"
	                                "  max_concurrent_requests = 20\n"
	                                "[profile dev]\n"
	                                "aws_access_key_id = AKIDDEV\n"
	                                "aws_secret_access_key = " SECRET "\n"
	                                "[profile other]\n"
	                                "aws_access_key_id = FROMCONFIG\n"
	                                "[dev]\n"
	                                "aws_access_key_id = NOTAPROFILE\n");

	assert_int_equal(from_files(NULL, NULL, NULL, &c, &err), 0);
	assert_string_equal(c->access_key_id, "AKIDDEFAULT");
	assert_string_equal(c->secret_access_key, SECRET);
	assert_null(c->session_token);
	assert_string_equal(c->source, "shared-file");
	pf_credentials_free(c);

	/* Credentials file wins over config, key by key. */
	assert_int_equal(from_files("other", NULL, NULL, &c, &err), 0);
	assert_string_equal(c->access_key_id, "AKIDOTHER");
	assert_string_equal(c->session_token, TOKEN);
	pf_credentials_free(c);

	/* "[profile dev]" in config; "[dev]" there is not a profile. */
	assert_int_equal(from_files("dev", NULL, NULL, &c, &err), 0);
	assert_string_equal(c->access_key_id, "AKIDDEV");
	pf_credentials_free(c);

	expect_fail(from_files("nope", NULL, NULL, &c, &err), &err, PF_EINVAL, "'nope'");
	expect_fail(from_files("a]b", NULL, NULL, &c, &err), &err, PF_EINVAL, "AWS_PROFILE");
	assert_null(c);
	unlink(cred);
	unlink(conf);
	free(cred);
	free(conf);
}

static void test_shared_files_env_paths(void **state)
{
	struct pf_credentials *c = NULL;
	struct pf_error err;
	char *cred = write_tmp("creds", "[ci]\naws_access_key_id=AKIDCI\n");
	char *conf = write_tmp("conf", "[profile ci]\naws_secret_access_key=" SECRET "\n"
	                               "[profile half]\naws_access_key_id=AKIDHALF\n"
	                               "[profile role]\nrole_arn=arn:aws:iam::1:role/x\n"
	                               "source_profile=default\n"
	                               "[profile empty]\nregion=us-east-1\n");

	/* Keys split over both files still make one profile. */
	assert_int_equal(from_files("ci", cred, conf, &c, &err), 0);
	assert_string_equal(c->access_key_id, "AKIDCI");
	assert_string_equal(c->secret_access_key, SECRET);
	pf_credentials_free(c);

	/* "~/" is expanded from HOME. */
	assert_int_equal(from_files("ci", "~/creds", "~/conf", &c, &err), 0);
	pf_credentials_free(c);

	expect_fail(from_files("half", cred, conf, &c, &err), &err, PF_EINVAL,
	            "has aws_access_key_id but no aws_secret_access_key");
	expect_fail(from_files("role", cred, conf, &c, &err), &err, PF_EINVAL,
	            "role_arn, which is not supported");
	expect_fail(from_files("empty", cred, conf, &c, &err), &err, PF_EINVAL,
	            "has no aws_access_key_id");
	assert_null(c);
	unlink(cred);
	unlink(conf);
	free(cred);
	free(conf);
}

static void test_shared_files_bad(void **state)
{
	struct pf_credentials *c = NULL;
	struct pf_error err;
	char *big_text = pf_xmalloc(PF_CREDENTIALS_MAX_FILE + 2);
	char *big, *junk, *nosection, *open_section, *cont, *bad_value, *dir;

	memset(big_text, '#', PF_CREDENTIALS_MAX_FILE + 1);
	big_text[PF_CREDENTIALS_MAX_FILE + 1] = '\0';
	big = write_tmp("big", big_text);
	/* Exactly at the limit is still read. */
	big_text[PF_CREDENTIALS_MAX_FILE] = '\0';
	free(write_tmp("limit", big_text));
	free(big_text);
	junk = write_tmp("junk", "[default]\naws_access_key_id = A\nwJalrXUtnFEMI\n");
	nosection = write_tmp("nosection", "aws_access_key_id = A\n");
	open_section = write_tmp("open", "[default\n");
	cont = write_tmp("cont", "[default]\naws_secret_access_key = wJalr\n  continued\n");
	bad_value = write_tmp("badvalue", "[default]\naws_access_key_id = A\n"
	                                  "aws_secret_access_key = wJalr\x01x\n");
	dir = pf_xasprintf("%s/.aws", tmpdir);

	expect_fail(from_files(NULL, big, NULL, &c, &err), &err, PF_ETOOBIG, "1048576");
	expect_fail(from_files(NULL, NULL, big, &c, &err), &err, PF_ETOOBIG, NULL);
	expect_fail(from_files(NULL, junk, NULL, &c, &err), &err, PF_EINVAL, "line 3");
	expect_fail(from_files(NULL, nosection, NULL, &c, &err), &err, PF_EINVAL, "line 1");
	expect_fail(from_files(NULL, open_section, NULL, &c, &err), &err, PF_EINVAL, "']'");
	expect_fail(from_files(NULL, cont, NULL, &c, &err), &err, PF_EINVAL, "indented");
	expect_fail(from_files(NULL, bad_value, NULL, &c, &err), &err, PF_EINVAL,
	            "aws_secret_access_key");
	expect_fail(from_files(NULL, dir, NULL, &c, &err), &err, PF_EIO, "cannot read");
	{
		char *limit = pf_xasprintf("%s/limit", tmpdir);

		expect_fail(from_files(NULL, limit, NULL, &c, &err), &err, PF_ENOTFOUND, NULL);
		free(limit);
	}
	assert_null(c);
	free(big);
	free(junk);
	free(nosection);
	free(open_section);
	free(cont);
	free(bad_value);
	free(dir);
}

static void test_parse_profile(void **state)
{
	const char *conf = "[profile default]\naws_access_key_id=A1\naws_secret_access_key=S1\n";
	const char *nul = "[default]\naws_access_key_id=A\0\n";
	struct pf_credentials *c = NULL;
	struct pf_error err;

	pf_error_clear(&err);
	assert_int_equal(
	    pf_credentials_parse_profile(conf, strlen(conf), "default", true, &c, &err), 0);
	assert_string_equal(c->access_key_id, "A1");
	pf_credentials_free(c);
	expect_fail(pf_credentials_parse_profile(conf, strlen(conf), "default", false, &c, &err),
	            &err, PF_ENOTFOUND, NULL);
	expect_fail(pf_credentials_parse_profile(nul, 31, "default", false, &c, &err), &err,
	            PF_EINVAL, "NUL");
	expect_fail(pf_credentials_parse_profile("", 0, "", false, &c, &err), &err, PF_EINVAL,
	            "profile name");
	expect_fail(pf_credentials_parse_profile(conf, PF_CREDENTIALS_MAX_FILE + 1, "default", true,
	                                         &c, &err),
	            &err, PF_ETOOBIG, NULL);
	assert_null(c);
}

/* ---- container JSON ------------------------------------------------------------------ */

static int parse_json(const char *json, struct pf_credentials **c, struct pf_error *err)
{
	pf_error_clear(err);
	return pf_credentials_parse_container_json(json, strlen(json), "ecs", c, err);
}

static void test_container_json(void **state)
{
	const char *ecs = "{\"RoleArn\":\"arn:aws:iam::1:role/r\",\"AccessKeyId\":\"ASIAEXAMPLE\","
	                  "\"SecretAccessKey\":\"" SECRET "\",\"Token\":\"" TOKEN "\","
	                  "\"Expiration\":\"2024-05-01T12:34:56Z\"}";
	const char *imds =
	    "{\"Code\":\"Success\",\"LastUpdated\":\"2024-05-01T06:00:00Z\","
	    "\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIA2\",\"SecretAccessKey\":\"" SECRET
	    "\",\"Token\":\"" TOKEN "\",\"Expiration\":\"2024-05-01T14:34:56.123+02:00\"}";
	struct pf_credentials *c = NULL;
	struct pf_error err;
	char *big;

	assert_int_equal(parse_json(ecs, &c, &err), 0);
	assert_string_equal(c->access_key_id, "ASIAEXAMPLE");
	assert_string_equal(c->secret_access_key, SECRET);
	assert_string_equal(c->session_token, TOKEN);
	assert_int_equal(c->expiration, 1714566896);
	assert_string_equal(c->source, "ecs");
	assert_true(pf_credentials_is_expiring(c, 1714566896 - 299, 300));
	pf_credentials_free(c);

	assert_int_equal(pf_credentials_parse_container_json(imds, strlen(imds), "imds", &c, &err),
	                 0);
	assert_int_equal(c->expiration, 1714566896);
	assert_string_equal(c->source, "imds");
	pf_credentials_free(c);

	/* Long-term keys from a custom FULL_URI endpoint: no token, no expiry. */
	assert_int_equal(parse_json("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\"}", &c, &err),
	                 0);
	assert_null(c->session_token);
	assert_int_equal(c->expiration, 0);
	pf_credentials_free(c);

	expect_fail(parse_json("{\"SecretAccessKey\":\"" SECRET "\"}", &c, &err), &err, PF_EINVAL,
	            "lacks AccessKeyId");
	expect_fail(parse_json("{\"AccessKeyId\":\"A\",\"Token\":\"" TOKEN "\"}", &c, &err), &err,
	            PF_EINVAL, "lacks SecretAccessKey");
	expect_fail(parse_json("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
	                       "\"Expiration\":\"tomorrow\"}",
	                       &c, &err),
	            &err, PF_EINVAL, "RFC 3339");
	expect_fail(parse_json("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
	                       "\"Expiration\":\"2024-02-30T00:00:00Z\"}",
	                       &c, &err),
	            &err, PF_EINVAL, "RFC 3339");
	expect_fail(parse_json("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
	                       "\"Expiration\":1714566896}",
	                       &c, &err),
	            &err, PF_EINVAL, "non-string");
	expect_fail(
	    parse_json("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"SUPERSECRET\" junk", &c, &err),
	    &err, PF_EINVAL, "not valid JSON");
	expect_fail(parse_json("SUPERSECRET", &c, &err), &err, PF_EINVAL, "not valid JSON");
	expect_fail(parse_json("", &c, &err), &err, PF_EINVAL, "not valid JSON");
	expect_fail(parse_json("[1,2]", &c, &err), &err, PF_EINVAL, "not a JSON object");
	expect_fail(parse_json("{\"AccessKeyId\":\"A\",\"AccessKeyId\":\"B\","
	                       "\"SecretAccessKey\":\"S\"}",
	                       &c, &err),
	            &err, PF_EINVAL, "JSON");
	expect_fail(parse_json("{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"AccessKeyId\":\"A\","
	                       "\"SecretAccessKey\":\"S\"}",
	                       &c, &err),
	            &err, PF_EINVAL, "Success");
	assert_string_equal(err.service_code, "AssumeRoleUnauthorizedAccess");
	expect_fail(
	    parse_json("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"SUPERSECRET\\n\"}", &c, &err),
	    &err, PF_EINVAL, "SecretAccessKey");
	expect_fail(parse_json("{\"code\":\"InvalidToken\",\"message\":\"no\"}", &c, &err), &err,
	            PF_EINVAL, "lacks AccessKeyId");
	big = pf_xmalloc(PF_CREDENTIALS_MAX_JSON + 2);
	memset(big, ' ', PF_CREDENTIALS_MAX_JSON + 1);
	big[PF_CREDENTIALS_MAX_JSON + 1] = '\0';
	expect_fail(parse_json(big, &c, &err), &err, PF_ETOOBIG, NULL);
	free(big);
	expect_fail(pf_credentials_parse_container_json(NULL, 0, "ecs", &c, &err), &err, PF_EINVAL,
	            NULL);
	assert_null(c);
}

/* ---- container endpoint ------------------------------------------------------------- */

static void test_full_uri(void **state)
{
	static const char *const allowed[] = {
	    "https://example.com/creds",
	    "HTTPS://anything.internal:8443/x?y=1",
	    "http://127.0.0.1/creds",
	    "http://127.0.0.1:51679/v2/credentials",
	    "http://127.255.3.4",
	    "http://localhost:8080/",
	    "http://LOCALHOST/x",
	    "http://[::1]:8080/x",
	    "http://[0:0:0:0:0:0:0:1]/",
	    "http://169.254.170.2/v2/credentials/abc",
	    "http://169.254.170.23/v1/credentials",
	    "http://[fd00:ec2::23]/v1/credentials",
	    "http://[fd00:ec2:0::23]:80/v1/credentials",
	};
	static const char *const refused[] = {
	    "",
	    "ftp://127.0.0.1/",
	    "127.0.0.1/creds",
	    "http://example.com/creds",
	    "http://169.254.169.254/latest",
	    "http://169.254.170.3/",
	    "http://128.0.0.1/",
	    "http://127.0.0.1.evil.com/",
	    "http://127.1/",
	    "http://0x7f.0.0.1/",
	    "http://0177.0.0.1/",
	    "http://localhost.evil.com/",
	    "http://169.254.170.2@evil.com/",
	    "http://user:pw@127.0.0.1/",
	    "http://[::2]/",
	    "http://[fd00:ec2::24]/",
	    "http://[::1/",
	    "http://[::1]x/",
	    "http://127.0.0.1:0/",
	    "http://127.0.0.1:65536/",
	    "http://127.0.0.1:-1/",
	    "http://127.0.0.1:/",
	    "http://127.0.0.1 /",
	    "http://127.0.0.1\\@evil.com/",
	    "http:///creds",
	    "https://",
	};
	struct pf_error err;

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		pf_error_clear(&err);
		if (pf_credentials_check_full_uri(allowed[i], &err) != 0)
			fail_msg("%s refused: %s", allowed[i], err.message);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		pf_error_clear(&err);
		if (pf_credentials_check_full_uri(refused[i], &err) != PF_EINVAL)
			fail_msg("%s allowed", refused[i]);
		assert_non_null(strstr(err.message, "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
	}
	assert_int_equal(pf_credentials_check_full_uri(NULL, NULL), PF_EINVAL);
}

static void test_container_endpoint(void **state)
{
	char *both[] = {"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1/x",
	                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/abc-123", NULL};
	char *full[] = {"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.23/v1/credentials",
	                "AWS_CONTAINER_AUTHORIZATION_TOKEN=  Basic EXAMPLETOKEN\n", NULL};
	char *file[] = {"AWS_CONTAINER_CREDENTIALS_FULL_URI=https://x/",
	                "AWS_CONTAINER_AUTHORIZATION_TOKEN=ignored",
	                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=/var/run/token", NULL};
	char *bad_full[] = {"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://10.0.0.1/", NULL};
	char *bad_rel[] = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=v2/creds", NULL};
	char *bad_token[] = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2",
	                     "AWS_CONTAINER_AUTHORIZATION_TOKEN=EXAMPLETOKEN\r\nX-Injected: 1",
	                     NULL};
	char *none[] = {"AWS_CONTAINER_CREDENTIALS_FULL_URI=", NULL};
	struct pf_credentials_container_endpoint ep;
	struct pf_error err;

	pf_error_clear(&err);
	assert_int_equal(pf_credentials_container_endpoint(both, &ep, &err), 0);
	assert_string_equal(ep.url, "http://169.254.170.2/v2/credentials/abc-123");
	assert_null(ep.auth_token);
	assert_null(ep.auth_token_file);
	pf_credentials_container_endpoint_free(&ep);

	assert_int_equal(pf_credentials_container_endpoint(full, &ep, &err), 0);
	assert_string_equal(ep.url, "http://169.254.170.23/v1/credentials");
	assert_string_equal(ep.auth_token, "Basic EXAMPLETOKEN");
	pf_credentials_container_endpoint_free(&ep);

	assert_int_equal(pf_credentials_container_endpoint(file, &ep, &err), 0);
	assert_string_equal(ep.auth_token_file, "/var/run/token");
	assert_null(ep.auth_token);
	pf_credentials_container_endpoint_free(&ep);

	expect_fail(pf_credentials_container_endpoint(bad_full, &ep, &err), &err, PF_EINVAL,
	            "http is allowed only");
	expect_fail(pf_credentials_container_endpoint(bad_rel, &ep, &err), &err, PF_EINVAL,
	            "RELATIVE_URI");
	expect_fail(pf_credentials_container_endpoint(bad_token, &ep, &err), &err, PF_EINVAL,
	            "AWS_CONTAINER_AUTHORIZATION_TOKEN");
	assert_null(ep.url);
	expect_fail(pf_credentials_container_endpoint(none, &ep, &err), &err, PF_ENOTFOUND, NULL);
	pf_credentials_container_endpoint_free(NULL);
}

static void test_auth_token_file(void **state)
{
	char *good = write_tmp("token", "EXAMPLETOKEN-abc\n");
	char *bad = write_tmp("badtoken", "EXAMPLETOKEN\nX: y\n");
	char *empty = write_tmp("emptytoken", " \n");
	char *missing = pf_xasprintf("%s/missing", tmpdir);
	char *tok = NULL;
	struct pf_error err;

	pf_error_clear(&err);
	assert_int_equal(pf_credentials_read_auth_token_file(good, &tok, &err), 0);
	assert_string_equal(tok, "EXAMPLETOKEN-abc");
	free(tok);
	expect_fail(pf_credentials_read_auth_token_file(bad, &tok, &err), &err, PF_EINVAL,
	            "line break");
	expect_fail(pf_credentials_read_auth_token_file(empty, &tok, &err), &err, PF_EINVAL,
	            "empty");
	expect_fail(pf_credentials_read_auth_token_file(missing, &tok, &err), &err, PF_EIO,
	            "does not exist");
	assert_null(tok);
	free(good);
	free(bad);
	free(empty);
	free(missing);
}

/* ---- IMDSv2 ------------------------------------------------------------------------- */

static void test_imds(void **state)
{
	char *dflt[] = {NULL};
	char *v6[] = {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=ipv6", NULL};
	char *custom[] = {"AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1338//",
	                  "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6", NULL};
	char *off[] = {"AWS_EC2_METADATA_DISABLED=TRUE", NULL};
	char *bad_mode[] = {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv5", NULL};
	char *bad_ep[] = {"AWS_EC2_METADATA_SERVICE_ENDPOINT=http://a b/", NULL};
	char *base = NULL, *url, *s = NULL;
	struct pf_error err;

	pf_error_clear(&err);
	assert_int_equal(pf_credentials_imds_endpoint(dflt, &base, &err), 0);
	assert_string_equal(base, "http://169.254.169.254");
	url = pf_credentials_imds_url(base, PF_CREDENTIALS_IMDS_TOKEN_PATH);
	assert_string_equal(url, "http://169.254.169.254/latest/api/token");
	free(url);
	url = pf_credentials_imds_url(base, PF_CREDENTIALS_IMDS_ROLE_PATH);
	assert_string_equal(url,
	                    "http://169.254.169.254/latest/meta-data/iam/security-credentials/");
	free(url);
	free(base);
	assert_int_equal(pf_credentials_imds_endpoint(v6, &base, &err), 0);
	assert_string_equal(base, "http://[fd00:ec2::254]");
	free(base);
	assert_int_equal(pf_credentials_imds_endpoint(custom, &base, &err), 0);
	assert_string_equal(base, "http://127.0.0.1:1338");
	url = pf_credentials_imds_url("http://h/", "/latest/api/token");
	assert_string_equal(url, "http://h/latest/api/token");
	free(url);
	free(base);
	expect_fail(pf_credentials_imds_endpoint(off, &base, &err), &err, PF_ENOTFOUND, "disabled");
	expect_fail(pf_credentials_imds_endpoint(bad_mode, &base, &err), &err, PF_EINVAL, "IPv4");
	expect_fail(pf_credentials_imds_endpoint(bad_ep, &base, &err), &err, PF_EINVAL,
	            "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	assert_null(base);
	assert_string_equal(PF_CREDENTIALS_IMDS_TOKEN_TTL_HEADER,
	                    "X-aws-ec2-metadata-token-ttl-seconds");

	assert_int_equal(pf_credentials_imds_check_token("AQAEAEXAMPLE==\n", 15, &s, &err), 0);
	assert_string_equal(s, "AQAEAEXAMPLE==");
	free(s);
	expect_fail(pf_credentials_imds_check_token("", 0, &s, &err), &err, PF_EINVAL, NULL);
	expect_fail(pf_credentials_imds_check_token("a b", 3, &s, &err), &err, PF_EINVAL, NULL);
	expect_fail(pf_credentials_imds_check_token("a\r\nb", 4, &s, &err), &err, PF_EINVAL, NULL);
	assert_null(s);

	assert_int_equal(pf_credentials_imds_parse_role("photofinish-role\n", 17, &s, &err), 0);
	assert_string_equal(s, "photofinish-role");
	free(s);
	assert_int_equal(
	    pf_credentials_imds_parse_role("\n  a+=,.@_-Z9 \r\nsecond\n", 23, &s, &err), 0);
	assert_string_equal(s, "a+=,.@_-Z9");
	free(s);
	expect_fail(pf_credentials_imds_parse_role("", 0, &s, &err), &err, PF_ENOTFOUND, NULL);
	expect_fail(pf_credentials_imds_parse_role("../../x", 7, &s, &err), &err, PF_EINVAL, NULL);
	expect_fail(pf_credentials_imds_parse_role("a/b", 3, &s, &err), &err, PF_EINVAL, NULL);
	expect_fail(pf_credentials_imds_parse_role("a b", 3, &s, &err), &err, PF_EINVAL, NULL);
	assert_null(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_env),
	    cmocka_unit_test(test_object_helpers),
	    cmocka_unit_test(test_shared_files_default_paths),
	    cmocka_unit_test(test_shared_files_env_paths),
	    cmocka_unit_test(test_shared_files_bad),
	    cmocka_unit_test(test_parse_profile),
	    cmocka_unit_test(test_container_json),
	    cmocka_unit_test(test_full_uri),
	    cmocka_unit_test(test_container_endpoint),
	    cmocka_unit_test(test_auth_token_file),
	    cmocka_unit_test(test_imds),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
