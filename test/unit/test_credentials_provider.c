/*
 * Unit tests for the credentials provider through a fake transport (no
 * network): the environment source, the container endpoint request and its
 * answer, waiters answered once and later (never from inside get), cancel,
 * refusal while the transport closes, and waiters failed at free.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "photofinish/aws/credentials_provider.h"
#include "photofinish/error.h"
#include "photofinish/util.h"

#define NOW 1714566896 /* 2024-05-01T12:34:56Z */

struct fake {
	struct event_base *base;
	bool closing;
	int fetches;
	char method[8];
	char url[256];
	char auth[128];
	pf_credentials_fetch_cb cb;
	void *arg;
};

static int64_t fake_now(void *ctx)
{
	return NOW;
}

static bool fake_closing(void *ctx)
{
	return ((struct fake *)ctx)->closing;
}

static int fake_fetch(void *ctx, const struct pf_credentials_fetch *req, pf_credentials_fetch_cb cb,
                      void *arg, struct pf_error *err)
{
	struct fake *f = ctx;

	f->fetches++;
	snprintf(f->method, sizeof(f->method), "%s", req->method);
	snprintf(f->url, sizeof(f->url), "%s", req->url);
	f->auth[0] = '\0';
	for (size_t i = 0; i < req->nheaders; i++)
		if (strcmp(req->headers[i].name, "Authorization") == 0)
			snprintf(f->auth, sizeof(f->auth), "%s", req->headers[i].value);
	f->cb = cb;
	f->arg = arg;
	return 0;
}

struct answer {
	int calls;
	int code;
	char key_id[64];
	char token[64];
};

static void on_creds(const struct pf_sigv4_credentials *creds, const struct pf_error *err,
                     void *arg)
{
	struct answer *a = arg;

	a->calls++;
	a->code = err->code;
	if (creds) {
		snprintf(a->key_id, sizeof(a->key_id), "%s", creds->access_key_id);
		snprintf(a->token, sizeof(a->token), "%s",
		         creds->session_token ? creds->session_token : "");
	}
}

static struct pf_credentials_provider *provider(struct fake *f, char **env)
{
	struct pf_credentials_transport t = {
	    .base = f->base,
	    .ctx = f,
	    .now = fake_now,
	    .closing = fake_closing,
	    .fetch = fake_fetch,
	};
	struct pf_credentials_provider *p = NULL;
	struct pf_error e;

	pf_error_clear(&e);
	assert_int_equal(pf_credentials_provider_new(&t, env, &p, &e), 0);
	return p;
}

static void run_loop(struct fake *f)
{
	event_base_loop(f->base, EVLOOP_NONBLOCK);
}

static void test_environment(void **state)
{
	char *env[] = {"AWS_ACCESS_KEY_ID=AKIDENV", "AWS_SECRET_ACCESS_KEY=secret",
	               "HOME=/nonexistent", NULL};
	struct fake f = {.base = event_base_new()};
	struct pf_credentials_provider *p = provider(&f, env);
	struct pf_sigv4_credentials c;
	struct answer a = {0}, b = {0};
	struct pf_error e;

	assert_null(pf_credentials_provider_source(p));
	assert_int_equal(pf_credentials_provider_get(p, on_creds, &a, &e), 0);
	assert_int_equal(pf_credentials_provider_get(p, on_creds, &b, &e), 0);
	/* answered later, from the loop, not from inside get */
	assert_int_equal(a.calls, 0);
	run_loop(&f);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 1);
	assert_int_equal(a.code, 0);
	assert_string_equal(a.key_id, "AKIDENV");
	assert_string_equal(pf_credentials_provider_source(p), "environment");
	assert_int_equal(pf_credentials_provider_expiration(p), 0);
	assert_true(pf_credentials_provider_peek(p, &c));
	assert_string_equal(c.access_key_id, "AKIDENV");
	assert_int_equal(f.fetches, 0);
	run_loop(&f);
	assert_int_equal(a.calls, 1);
	pf_credentials_provider_free(p);
	event_base_free(f.base);
}

static void test_container_endpoint(void **state)
{
	char *env[] = {"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9/creds",
	               "AWS_CONTAINER_AUTHORIZATION_TOKEN=tok-1", "AWS_EC2_METADATA_DISABLED=true",
	               "HOME=/nonexistent", NULL};
	static const char body[] = "{\"AccessKeyId\":\"AKIDECS\",\"SecretAccessKey\":\"s\","
	                           "\"Token\":\"session\",\"Expiration\":\"2024-05-01T18:00:00Z\"}";
	struct fake f = {.base = event_base_new()};
	struct pf_credentials_provider *p = provider(&f, env);
	struct pf_sigv4_credentials c;
	struct answer a = {0};
	struct pf_error e, ok;

	assert_false(pf_credentials_provider_peek(p, &c));
	assert_int_equal(pf_credentials_provider_get(p, on_creds, &a, &e), 0);
	assert_int_equal(f.fetches, 1);
	assert_string_equal(f.method, "GET");
	assert_string_equal(f.url, "http://127.0.0.1:9/creds");
	assert_string_equal(f.auth, "tok-1");
	run_loop(&f);
	assert_int_equal(a.calls, 0); /* still waiting for the endpoint */
	pf_error_clear(&ok);
	f.cb(body, strlen(body), &ok, f.arg);
	run_loop(&f);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.code, 0);
	assert_string_equal(a.key_id, "AKIDECS");
	assert_string_equal(a.token, "session");
	assert_string_equal(pf_credentials_provider_source(p), "ecs");
	assert_int_equal(pf_credentials_provider_expiration(p), INT64_C(1714586400) * 1000);
	pf_credentials_provider_free(p);
	event_base_free(f.base);
}

static void test_endpoint_failure(void **state)
{
	char *env[] = {"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9/creds",
	               "AWS_EC2_METADATA_DISABLED=true", "HOME=/nonexistent", NULL};
	struct fake f = {.base = event_base_new()};
	struct pf_credentials_provider *p = provider(&f, env);
	struct answer a = {0};
	struct pf_error e, down;

	assert_int_equal(pf_credentials_provider_get(p, on_creds, &a, &e), 0);
	pf_error_clear(&down);
	pf_error_set(&down, PF_ENET, "connection refused");
	f.cb("", 0, &down, f.arg);
	run_loop(&f);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.code, PF_ENET);
	assert_null(pf_credentials_provider_source(p));
	pf_credentials_provider_free(p);
	event_base_free(f.base);
}

static void test_cancel_closing_and_free(void **state)
{
	char *env[] = {"AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9/creds",
	               "AWS_EC2_METADATA_DISABLED=true", "HOME=/nonexistent", NULL};
	struct fake f = {.base = event_base_new()};
	struct pf_credentials_provider *p = provider(&f, env);
	struct answer gone = {0}, kept = {0}, late = {0};
	struct pf_error e;

	assert_int_equal(pf_credentials_provider_get(p, on_creds, &gone, &e), 0);
	assert_int_equal(pf_credentials_provider_get(p, on_creds, &kept, &e), 0);
	pf_credentials_provider_cancel(p, on_creds, &gone);
	/* a closing transport takes no new waiters */
	f.closing = true;
	assert_int_equal(pf_credentials_provider_get(p, on_creds, &late, &e), PF_ECANCELED);
	assert_int_equal(pf_credentials_provider_get(p, NULL, NULL, &e), PF_EINVAL);
	/* free fails the waiters left, once each; the cancelled one never runs */
	pf_credentials_provider_free(p);
	assert_int_equal(gone.calls, 0);
	assert_int_equal(late.calls, 0);
	assert_int_equal(kept.calls, 1);
	assert_int_equal(kept.code, PF_ECANCELED);
	event_base_free(f.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_environment),
	    cmocka_unit_test(test_container_endpoint),
	    cmocka_unit_test(test_endpoint_failure),
	    cmocka_unit_test(test_cancel_closing_and_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
