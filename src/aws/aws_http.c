/*
 * AWS HTTP transport. One curl multi handle, driven by libevent socket and
 * timer events (the pattern of curl's docs/examples/multi-event.c), carries
 * every AWS request of the process, so connections are kept alive and
 * reused across S3, SQS and DynamoDB calls. Each call is signed with SigV4
 * per attempt (fresh date, corrected clock) and retried per the SDKs'
 * standard mode.
 *
 * Loop thread only. Guarantees: the caller's callback runs exactly once,
 * never from inside pf_aws_send; response bodies never exceed the request's
 * limit in memory; request bodies are never copied; credentials and
 * signatures are never logged.
 */
#include "photofinish/aws/aws_http.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "aws/retry_int.h"
#include "photofinish/aws/credentials_provider.h"
#include "photofinish/aws/sigv4.h"
#include "photofinish/codec.h"
#include "photofinish/log.h"
#include "photofinish/util.h"

#ifndef PF_VERSION
#define PF_VERSION "0.0.0"
#endif

enum call_state {
	CALL_STARTING,   /* timer armed to begin the first attempt */
	CALL_WAIT_CREDS, /* waiting for the credentials provider */
	CALL_IN_FLIGHT,  /* easy handle in the multi handle */
	CALL_WAIT_RETRY  /* timer armed with the backoff delay */
};

struct call {
	struct pf_aws *aws;
	struct call *prev, *next;
	enum call_state state;
	bool is_unsigned;
	bool is_head;
	enum pf_aws_service service;
	char *operation;
	char *method;
	char *query;
	struct pf_endpoint_url url;
	struct pf_aws_header *headers;
	size_t nheaders;
	bool has_content_type;
	const char *body;
	size_t body_len;
	bool free_body;
	char payload_sha256[65];
	size_t max_response;
	long timeout_ms;
	pf_aws_done_cb cb;
	void *arg;

	CURL *easy;
	struct curl_slist *slist;
	struct pf_aws_response resp;
	size_t body_cap;
	size_t headers_cap;
	bool too_big;
	char curl_error[CURL_ERROR_SIZE];

	int last_cost; /* quota tokens taken by the last retry */
	int max_attempts;
	struct event *timer;
	int64_t start_ms;
	struct pf_error err;
	enum pf_aws_outcome outcome;
};

struct sock_ctx {
	struct pf_aws *aws;
	curl_socket_t fd;
	struct event *ev;
};

struct pf_aws {
	struct event_base *base;
	CURLM *multi;
	struct event *curl_timer;
	struct pf_endpoints *endpoints;
	struct pf_credentials_provider *credentials;
	struct pf_aws__quota quota;
	int64_t clock_offset_s;
	int max_attempts;
	long connect_timeout_ms;
	long timeout_ms;
	long low_speed_bytes;
	long low_speed_seconds;
	char *ca_file;
	bool no_jitter;
	void (*on_call)(const struct pf_aws_call_info *info, void *arg);
	void *on_call_arg;
	struct pf_aws_counters counters;
	struct call *calls;
	size_t pending;
	struct pf_codec_jitter jitter;
	bool freeing;
};

static void attempt_start(struct call *c);
static void check_multi_info(struct pf_aws *aws);

/* ---- client ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

const char *pf_aws_outcome_name(enum pf_aws_outcome outcome)
{
	switch (outcome) {
	case PF_AWS_OUTCOME_SUCCESS:
		return "success";
	case PF_AWS_OUTCOME_CLIENT_ERROR:
		return "client_error";
	case PF_AWS_OUTCOME_THROTTLED:
		return "throttled";
	case PF_AWS_OUTCOME_SERVER_ERROR:
		return "server_error";
	case PF_AWS_OUTCOME_NETWORK:
		return "network";
	default:
		return "other";
	}
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct sock_ctx *ctx = arg;
	struct pf_aws *aws = ctx->aws;
	int flags = 0;
	int running;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(aws->multi, fd, flags, &running);
	check_multi_info(aws);
}

static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct pf_aws *aws = userp;
	struct sock_ctx *ctx = socketp;
	short events = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (ctx) {
			event_free(ctx->ev);
			free(ctx);
			curl_multi_assign(aws->multi, s, NULL);
		}
		return 0;
	}
	if (!ctx) {
		ctx = pf_xcalloc(1, sizeof(*ctx));
		ctx->aws = aws;
		ctx->fd = s;
		curl_multi_assign(aws->multi, s, ctx);
	} else {
		event_free(ctx->ev);
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= EV_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= EV_WRITE;
	ctx->ev = event_new(aws->base, s, events, on_socket_event, ctx);
	event_add(ctx->ev, NULL);
	return 0;
}

static void on_curl_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct pf_aws *aws = arg;
	int running;

	curl_multi_socket_action(aws->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_multi_info(aws);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct pf_aws *aws = userp;
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(aws->curl_timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(aws->curl_timer, &tv);
	return 0;
}

/* ---- the credentials provider's transport ---- */

struct fetch_call {
	pf_credentials_fetch_cb cb;
	void *arg;
};

static void on_fetched(struct pf_aws_response *resp, const struct pf_error *err, void *arg)
{
	struct fetch_call f = *(struct fetch_call *)arg;

	free(arg);
	f.cb(resp->body ? resp->body : "", resp->body_len, err, f.arg);
}

static int provider_fetch(void *ctx, const struct pf_credentials_fetch *req,
                          pf_credentials_fetch_cb cb, void *arg, struct pf_error *err)
{
	struct pf_aws_header h[PF_CREDENTIALS_MAX_HEADERS];
	struct pf_aws_request r = {
	    .operation = req->operation,
	    .method = req->method,
	    .headers = h,
	    .nheaders = req->nheaders,
	    .max_response_bytes = req->max_response_bytes,
	    .timeout_ms = req->timeout_ms,
	};
	struct fetch_call *f;
	int rc;

	if (req->nheaders > PF_CREDENTIALS_MAX_HEADERS || !cb)
		return pf_error_set(err, PF_EINVAL, "credentials request: too many headers");
	for (size_t i = 0; i < req->nheaders; i++) {
		h[i].name = req->headers[i].name;
		h[i].value = req->headers[i].value;
	}
	f = pf_xmalloc(sizeof(*f));
	f->cb = cb;
	f->arg = arg;
	rc = pf_aws_send_unsigned(ctx, req->url, &r, on_fetched, f, err);
	if (rc < 0)
		free(f);
	return rc;
}

static int64_t provider_now(void *ctx)
{
	return pf_aws_now(ctx);
}

static bool provider_closing(void *ctx)
{
	const struct pf_aws *aws = ctx;

	return aws->freeing;
}

int pf_aws_new(struct event_base *base, const struct pf_aws_options *opts, struct pf_aws **out,
               struct pf_error *err)
{
	struct pf_endpoints_options eo = {
	    .region = opts->region,
	    .endpoint_url = opts->endpoint_url,
	    .endpoint_url_s3 = opts->endpoint_url_s3,
	    .endpoint_url_sqs = opts->endpoint_url_sqs,
	    .endpoint_url_dynamodb = opts->endpoint_url_dynamodb,
	    .s3_force_path_style = opts->s3_force_path_style,
	};
	struct pf_credentials_transport transport;
	struct pf_aws *aws;
	int rc;

	*out = NULL;
	pthread_once(&curl_once, curl_init_once);
	aws = pf_xcalloc(1, sizeof(*aws));
	aws->base = base;
	rc = pf_endpoints_new(&eo, &aws->endpoints, err);
	if (rc < 0)
		goto out_free;
	pf_aws__quota_init(&aws->quota);
	aws->max_attempts =
	    opts->max_attempts > 0 ? opts->max_attempts : PF_AWS_DEFAULT_MAX_ATTEMPTS;
	aws->connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
	                                                       : PF_AWS_DEFAULT_CONNECT_TIMEOUT_MS;
	aws->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : PF_AWS_DEFAULT_TIMEOUT_MS;
	aws->low_speed_bytes =
	    opts->low_speed_bytes > 0 ? opts->low_speed_bytes : PF_AWS_DEFAULT_LOW_SPEED_BYTES;
	aws->low_speed_seconds = opts->low_speed_seconds > 0 ? opts->low_speed_seconds
	                                                     : PF_AWS_DEFAULT_LOW_SPEED_SECONDS;
	aws->ca_file = opts->ca_file ? pf_xstrdup(opts->ca_file) : NULL;
	aws->no_jitter = opts->no_jitter;
	aws->on_call = opts->on_call;
	aws->on_call_arg = opts->on_call_arg;
	pf_codec_jitter_init(&aws->jitter, (uint64_t)pf_now_ms() ^ ((uint64_t)getpid() << 32) ^
	                                       (uint64_t)(uintptr_t)aws);

	aws->multi = curl_multi_init();
	aws->curl_timer = evtimer_new(base, on_curl_timeout, aws);
	if (!aws->multi || !aws->curl_timer) {
		rc = pf_error_set(err, PF_ENOMEM, "cannot create the HTTP client");
		goto out_free;
	}
	curl_multi_setopt(aws->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(aws->multi, CURLMOPT_SOCKETDATA, aws);
	curl_multi_setopt(aws->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(aws->multi, CURLMOPT_TIMERDATA, aws);
	curl_multi_setopt(aws->multi, CURLMOPT_MAXCONNECTS, 64L);

	transport.base = base;
	transport.ctx = aws;
	transport.now = provider_now;
	transport.closing = provider_closing;
	transport.fetch = provider_fetch;
	rc = pf_credentials_provider_new(&transport, opts->envp, &aws->credentials, err);
	if (rc < 0)
		goto out_free;
	*out = aws;
	return 0;

out_free:
	pf_aws_free(aws);
	return rc;
}

struct event_base *pf_aws_base(const struct pf_aws *aws)
{
	return aws->base;
}

const struct pf_endpoints *pf_aws_endpoints(const struct pf_aws *aws)
{
	return aws->endpoints;
}

struct pf_credentials_provider *pf_aws_credentials(const struct pf_aws *aws)
{
	return aws->credentials;
}

int64_t pf_aws_now(const struct pf_aws *aws)
{
	return pf_now_ms() / 1000 + aws->clock_offset_s;
}

int64_t pf_aws_clock_offset(const struct pf_aws *aws)
{
	return aws->clock_offset_s;
}

void pf_aws_get_counters(const struct pf_aws *aws, struct pf_aws_counters *out)
{
	*out = aws->counters;
	out->retry_quota = aws->quota.tokens;
}

size_t pf_aws_pending(const struct pf_aws *aws)
{
	return aws->pending;
}

int pf_aws_wait(struct pf_aws *aws, const int *counter)
{
	while (counter ? *counter > 0 : aws->pending > 0) {
		/* 1 means no events are registered: nothing can ever finish */
		if (event_base_loop(aws->base, EVLOOP_ONCE) != 0)
			return PF_EIO;
	}
	return 0;
}

const char *pf_aws_response_header(const struct pf_aws_response *resp, const char *name)
{
	for (size_t i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

/* ---- one call ---- */

static void response_reset(struct call *c)
{
	for (size_t i = 0; i < c->resp.nheaders; i++) {
		free(c->resp.headers[i].name);
		free(c->resp.headers[i].value);
	}
	c->resp.nheaders = 0;
	free(c->resp.body);
	c->resp.body = NULL;
	c->resp.body_len = 0;
	c->body_cap = 0;
	c->resp.status = 0;
	c->too_big = false;
}

static void call_free(struct call *c)
{
	response_reset(c);
	free(c->resp.headers);
	if (c->timer)
		event_free(c->timer);
	if (c->easy) {
		curl_multi_remove_handle(c->aws->multi, c->easy);
		curl_easy_cleanup(c->easy);
	}
	curl_slist_free_all(c->slist);
	for (size_t i = 0; i < c->nheaders; i++) {
		free((char *)c->headers[i].name);
		free((char *)c->headers[i].value);
	}
	free(c->headers);
	if (c->free_body)
		free((void *)c->body);
	free(c->operation);
	free(c->method);
	free(c->query);
	pf_endpoint_url_free(&c->url);
	free(c);
}

static enum pf_aws_outcome outcome_for(const struct pf_error *e)
{
	if (e->code == 0)
		return PF_AWS_OUTCOME_SUCCESS;
	if (e->code == PF_ENET)
		return PF_AWS_OUTCOME_NETWORK;
	if (e->http_status == 0)
		return PF_AWS_OUTCOME_OTHER;
	if (pf_aws__classify(e->http_status, e->service_code) == PF_AWS__ERR_THROTTLING)
		return PF_AWS_OUTCOME_THROTTLED;
	if (e->http_status >= 500)
		return PF_AWS_OUTCOME_SERVER_ERROR;
	return PF_AWS_OUTCOME_CLIENT_ERROR;
}

/* Delivers the result: stats first, then the caller, then the memory. */
static void call_finish(struct call *c, const struct pf_error *e)
{
	struct pf_aws *aws = c->aws;
	struct pf_aws_call_info info;

	if (c->prev)
		c->prev->next = c->next;
	else
		aws->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	aws->pending--;

	memset(&info, 0, sizeof(info));
	info.service = c->service;
	info.unsigned_request = c->is_unsigned;
	info.operation = c->operation;
	info.outcome = outcome_for(e);
	info.http_status = c->resp.status;
	info.attempts = c->resp.attempts > 0 ? c->resp.attempts : 0;
	info.duration_ms = pf_monotonic_ms() - c->start_ms;
	info.service_code = e->code ? e->service_code : "";
	if (!c->is_unsigned)
		aws->counters.calls[c->service][info.outcome]++;
	if (e->code)
		pf_debug("aws call failed",
		         PF_LS("service",
		               c->is_unsigned ? "credentials" : pf_aws_service_name(c->service)),
		         PF_LS("operation", c->operation), PF_LI("status", c->resp.status),
		         PF_LS("code", e->service_code), PF_LI("attempts", c->resp.attempts),
		         PF_LS("request_id", e->request_id));
	if (aws->on_call)
		aws->on_call(&info, aws->on_call_arg);
	c->cb(&c->resp, e, c->arg);
	call_free(c);
}

static void call_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct call *c = arg;

	attempt_start(c);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct call *c = userdata;
	size_t n = size * nmemb;
	size_t need;

	if (c->resp.body_len + n > c->max_response) {
		c->too_big = true;
		return 0;
	}
	need = c->resp.body_len + n + 1;
	if (need > c->body_cap) {
		size_t cap = c->body_cap ? c->body_cap * 2 : 16384;

		while (cap < need)
			cap *= 2;
		if (cap > c->max_response + 1)
			cap = c->max_response + 1;
		c->resp.body = pf_xrealloc(c->resp.body, cap);
		c->body_cap = cap;
	}
	memcpy(c->resp.body + c->resp.body_len, ptr, n);
	c->resp.body_len += n;
	c->resp.body[c->resp.body_len] = '\0';
	return n;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct call *c = userdata;
	size_t n = size * nitems;
	size_t len = n;
	const char *colon;
	size_t namelen;
	const char *v;
	char *name;
	int64_t cl;

	while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == '\n'))
		len--;
	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		/* a new status line (100 Continue, then the real one): start over */
		const char *sp = memchr(buf, ' ', len);

		response_reset(c);
		if (sp && (size_t)(sp - buf) + 4 <= len)
			c->resp.status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
		return n;
	}
	colon = memchr(buf, ':', len);
	if (!colon || colon == buf)
		return n;
	namelen = (size_t)(colon - buf);
	v = colon + 1;
	while (v < buf + len && (*v == ' ' || *v == '\t'))
		v++;
	if (c->resp.nheaders == c->headers_cap) {
		c->headers_cap = c->headers_cap ? c->headers_cap * 2 : 16;
		c->resp.headers =
		    pf_xrealloc(c->resp.headers, c->headers_cap * sizeof(*c->resp.headers));
	}
	name = pf_xstrndup(buf, namelen);
	for (char *p = name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	c->resp.headers[c->resp.nheaders].name = name;
	c->resp.headers[c->resp.nheaders].value = pf_xstrndup(v, (size_t)(buf + len - v));
	c->resp.nheaders++;

	if (!c->is_head && strcmp(name, "content-length") == 0 &&
	    pf_parse_int64(c->resp.headers[c->resp.nheaders - 1].value, 0, INT64_MAX, &cl)) {
		/* refuse before the body arrives, and size the buffer once */
		if ((uint64_t)cl > c->max_response) {
			c->too_big = true;
			return 0;
		}
		if ((size_t)cl + 1 > c->body_cap && c->resp.body_len == 0) {
			c->resp.body = pf_xrealloc(c->resp.body, (size_t)cl + 1);
			c->body_cap = (size_t)cl + 1;
			c->resp.body[0] = '\0';
		}
	}
	return n;
}

static struct curl_slist *slist_add(struct curl_slist *l, const char *name, const char *value)
{
	char *line = pf_xasprintf("%s: %s", name, value);
	struct curl_slist *n = curl_slist_append(l, line);

	free(line);
	if (!n) {
		curl_slist_free_all(l);
		return NULL;
	}
	return n;
}

static int build_headers(struct call *c, const struct pf_sigv4_credentials *creds,
                         struct pf_error *err)
{
	struct pf_aws *aws = c->aws;
	struct curl_slist *l = NULL;
	struct pf_sigv4_header *sh = NULL;
	struct pf_sigv4_signed sig;
	int rc = 0;

	curl_slist_free_all(c->slist);
	c->slist = NULL;
	memset(&sig, 0, sizeof(sig));
	for (size_t i = 0; i < c->nheaders; i++)
		l = slist_add(l, c->headers[i].name, c->headers[i].value);
	/* curl would otherwise add its own: a 1 s stall for Expect, a form type */
	l = curl_slist_append(l, "Expect:");
	if (!c->has_content_type)
		l = curl_slist_append(l, "Content-Type:");
	l = curl_slist_append(l, "User-Agent: photofinish/" PF_VERSION);
	if (!c->is_unsigned) {
		struct pf_sigv4_request sr;
		struct pf_sigv4_params sp;

		l = slist_add(l, "Host", c->url.host);
		sh = pf_xcalloc(c->nheaders + 1, sizeof(*sh));
		sh[0].name = "Host";
		sh[0].value = c->url.host;
		for (size_t i = 0; i < c->nheaders; i++) {
			sh[i + 1].name = c->headers[i].name;
			sh[i + 1].value = c->headers[i].value;
		}
		memset(&sr, 0, sizeof(sr));
		sr.method = c->method;
		sr.path = c->url.path;
		sr.query = c->query;
		sr.headers = sh;
		sr.nheaders = c->nheaders + 1;
		sr.payload_hash = c->payload_sha256;
		memset(&sp, 0, sizeof(sp));
		sp.region = pf_endpoints_region(aws->endpoints);
		sp.service = pf_aws_service_name(c->service);
		sp.time = pf_aws_now(aws);
		sp.s3 = c->service == PF_AWS_S3;
		rc = pf_sigv4_sign_headers(&sr, &sp, creds, &sig, err);
		if (rc < 0)
			goto out;
		for (size_t i = 0; i < sig.nadd_headers; i++)
			l = slist_add(l, sig.add_headers[i].name, sig.add_headers[i].value);
	}
	if (!l) {
		rc = pf_error_set(err, PF_ENOMEM, "cannot build request headers");
		goto out;
	}
	c->slist = l;
	l = NULL;
out:
	curl_slist_free_all(l);
	pf_sigv4_signed_free(&sig);
	free(sh);
	return rc;
}

static void launch(struct call *c, const struct pf_sigv4_credentials *creds)
{
	struct pf_aws *aws = c->aws;
	struct pf_error e;
	CURL *h;

	pf_error_clear(&e);
	response_reset(c);
	if (build_headers(c, creds, &e) < 0)
		goto out_fail;
	h = curl_easy_init();
	if (!h) {
		pf_error_set(&e, PF_ENOMEM, "cannot create an HTTP request");
		goto out_fail;
	}
	c->easy = h;
	c->curl_error[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, c->url.url);
	curl_easy_setopt(h, CURLOPT_PRIVATE, c);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->slist);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_error);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (aws->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, aws->ca_file);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, aws->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, aws->low_speed_bytes);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, aws->low_speed_seconds);
	if (c->is_head) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (c->body || strcmp(c->method, "POST") == 0 || strcmp(c->method, "PUT") == 0) {
		/* POSTFIELDS points at the caller's memory: no copy, rewinds free */
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body ? c->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
		if (strcmp(c->method, "POST") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
	} else if (strcmp(c->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
	}
	if (curl_multi_add_handle(aws->multi, h) != CURLM_OK) {
		pf_error_set(&e, PF_ENOMEM, "cannot start an HTTP request");
		goto out_fail;
	}
	c->state = CALL_IN_FLIGHT;
	c->resp.attempts++;
	if (!c->is_unsigned)
		aws->counters.attempts[c->service]++;
	return;

out_fail:
	c->err = e;
	call_finish(c, &c->err);
}

static void on_credentials(const struct pf_sigv4_credentials *creds, const struct pf_error *err,
                           void *arg)
{
	struct call *c = arg;

	if (err->code) {
		c->err = *err;
		pf_error_prefix(&c->err, "no AWS credentials");
		call_finish(c, &c->err);
		return;
	}
	launch(c, creds);
}

static void attempt_start(struct call *c)
{
	struct pf_sigv4_credentials creds;
	struct pf_error e;

	if (c->is_unsigned) {
		launch(c, NULL);
		return;
	}
	if (pf_credentials_provider_peek(c->aws->credentials, &creds)) {
		launch(c, &creds);
		return;
	}
	c->state = CALL_WAIT_CREDS;
	pf_error_clear(&e);
	if (pf_credentials_provider_get(c->aws->credentials, on_credentials, c, &e) < 0) {
		c->err = e;
		call_finish(c, &c->err);
	}
}

/* Corrects the clock offset when AWS says our clock is off; true when it
 * changed enough that a re-signed retry can succeed. */
static bool correct_clock(struct call *c)
{
	struct pf_aws *aws = c->aws;
	int64_t server;
	int64_t local = pf_now_ms() / 1000;
	int64_t skew;

	if (!pf_codec_parse_http_date(pf_aws_response_header(&c->resp, "date"), &server))
		return false;
	skew = server - (local + aws->clock_offset_s);
	if (skew <= PF_AWS__MAX_SKEW_S && skew >= -PF_AWS__MAX_SKEW_S)
		return false;
	aws->clock_offset_s = server - local;
	aws->counters.clock_skew_corrections++;
	pf_warn("aws clock skew corrected", PF_LI("offset_s", aws->clock_offset_s),
	        PF_LS("service", pf_aws_service_name(c->service)));
	return true;
}

static void attempt_done(struct call *c, CURLcode rc)
{
	struct pf_aws *aws = c->aws;
	struct pf_error e;
	enum pf_aws__error_kind kind;
	bool conn_error = false;
	int cost;
	int64_t delay;
	struct timeval tv;

	pf_error_clear(&e);
	if (rc != CURLE_OK && c->too_big) {
		pf_error_set(&e, PF_ETOOBIG, "%s %s: response larger than %zu bytes",
		             c->is_unsigned ? "credentials" : pf_aws_service_name(c->service),
		             c->operation, c->max_response);
		e.http_status = c->resp.status;
		call_finish(c, &e);
		return;
	}
	if (rc != CURLE_OK) {
		pf_error_set(&e, PF_ENET, "%s %s: %s%s%s",
		             c->is_unsigned ? "credentials" : pf_aws_service_name(c->service),
		             c->operation, curl_easy_strerror(rc), c->curl_error[0] ? ": " : "",
		             c->curl_error);
		e.retryable = true;
		c->resp.status = 0;
		kind = PF_AWS__ERR_TRANSIENT;
		conn_error = true;
	} else if (c->resp.status >= 200 && c->resp.status < 300) {
		pf_aws__quota_release(&aws->quota, c->last_cost);
		call_finish(c, &e);
		return;
	} else {
		pf_aws__parse_error(c->service, c->is_unsigned, c->resp.status, c->resp.body,
		                    c->resp.body_len,
		                    pf_aws_response_header(&c->resp, "x-amz-request-id")
		                        ? pf_aws_response_header(&c->resp, "x-amz-request-id")
		                        : pf_aws_response_header(&c->resp, "x-amzn-requestid"),
		                    pf_aws_response_header(&c->resp, "x-amzn-errortype"),
		                    pf_aws_response_header(&c->resp, "x-amzn-query-error"), &e);
		kind = pf_aws__classify(c->resp.status, e.service_code);
		if (kind == PF_AWS__ERR_CLOCK_SKEW && !c->is_unsigned)
			kind = correct_clock(c) ? PF_AWS__ERR_TRANSIENT : PF_AWS__ERR_CLIENT;
		if (!c->is_unsigned && kind == PF_AWS__ERR_THROTTLING)
			aws->counters.throttled_attempts[c->service]++;
	}
	if ((kind == PF_AWS__ERR_THROTTLING || kind == PF_AWS__ERR_TRANSIENT) &&
	    c->resp.attempts < c->max_attempts && !aws->freeing) {
		cost = pf_aws__quota_acquire(&aws->quota, conn_error);
		if (cost >= 0) {
			c->last_cost = cost;
			if (!c->is_unsigned)
				aws->counters.retries[c->service]++;
			delay = pf_aws__backoff_ms(
			    c->resp.attempts, kind == PF_AWS__ERR_THROTTLING,
			    aws->no_jitter ? 1.0 : pf_codec_jitter_next(&aws->jitter));
			pf_debug("aws retry",
			         PF_LS("service", c->is_unsigned ? "credentials"
			                                         : pf_aws_service_name(c->service)),
			         PF_LS("operation", c->operation),
			         PF_LI("attempt", c->resp.attempts),
			         PF_LI("status", c->resp.status), PF_LS("code", e.service_code),
			         PF_LI("delay_ms", delay));
			c->state = CALL_WAIT_RETRY;
			tv.tv_sec = (time_t)(delay / 1000);
			tv.tv_usec = (suseconds_t)((delay % 1000) * 1000);
			evtimer_add(c->timer, &tv);
			return;
		}
		pf_error_prefix(&e, "retry quota exhausted");
	}
	call_finish(c, &e);
}

static void check_multi_info(struct pf_aws *aws)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(aws->multi, &left)) != NULL) {
		struct call *c = NULL;
		CURL *h = msg->easy_handle;
		CURLcode rc = msg->data.result;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&c);
		curl_multi_remove_handle(aws->multi, h);
		curl_easy_cleanup(h);
		c->easy = NULL;
		attempt_done(c, rc);
	}
}

static int call_new(struct pf_aws *aws, const struct pf_aws_request *req, pf_aws_done_cb cb,
                    void *arg, struct call **out, struct pf_error *err)
{
	struct call *c;

	*out = NULL;
	if (aws->freeing)
		return pf_error_set(err, PF_ECANCELED, "the AWS client is shutting down");
	if (!req->method || !req->operation || !cb || (req->body_len && !req->body))
		return pf_error_set(err, PF_EINVAL,
		                    "AWS request: method, operation, callback and body required");
	c = pf_xcalloc(1, sizeof(*c));
	c->aws = aws;
	c->service = req->service;
	c->operation = pf_xstrdup(req->operation);
	c->method = pf_xstrdup(req->method);
	c->is_head = strcmp(req->method, "HEAD") == 0;
	c->query = req->query && *req->query ? pf_xstrdup(req->query) : NULL;
	c->headers = pf_xcalloc(req->nheaders ? req->nheaders : 1, sizeof(*c->headers));
	for (size_t i = 0; i < req->nheaders; i++) {
		c->headers[i].name = pf_xstrdup(req->headers[i].name);
		c->headers[i].value = pf_xstrdup(req->headers[i].value);
		if (strcasecmp(req->headers[i].name, "Content-Type") == 0)
			c->has_content_type = true;
	}
	c->nheaders = req->nheaders;
	c->body = req->body;
	c->body_len = req->body_len;
	c->free_body = req->free_body;
	c->max_response =
	    req->max_response_bytes ? req->max_response_bytes : PF_AWS_DEFAULT_MAX_RESPONSE_BYTES;
	c->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : aws->timeout_ms;
	c->max_attempts = req->max_attempts > 0 ? req->max_attempts : aws->max_attempts;
	c->cb = cb;
	c->arg = arg;
	c->timer = evtimer_new(aws->base, call_timer_cb, c);
	if (!c->timer) {
		c->free_body = false; /* the caller's error path frees it */
		call_free(c);
		return pf_error_set(err, PF_ENOMEM, "cannot create a timer");
	}
	*out = c;
	return 0;
}

static void call_start(struct call *c)
{
	static const struct timeval zero = {0, 0};
	struct pf_aws *aws = c->aws;

	c->start_ms = pf_monotonic_ms();
	c->next = aws->calls;
	if (aws->calls)
		aws->calls->prev = c;
	aws->calls = c;
	aws->pending++;
	c->state = CALL_STARTING;
	evtimer_add(c->timer, &zero);
}

int pf_aws_send(struct pf_aws *aws, const struct pf_aws_request *req, pf_aws_done_cb cb, void *arg,
                struct pf_error *err)
{
	struct call *c;
	int rc;

	rc = call_new(aws, req, cb, arg, &c, err);
	if (rc < 0)
		goto out_free_body;
	if ((int)req->service < 0 || req->service >= PF_AWS_SERVICE_COUNT) {
		rc = pf_error_set(err, PF_EINVAL, "AWS request: unknown service");
		goto out_free_call;
	}
	rc = pf_endpoints_url(
	    aws->endpoints, req->service, req->service == PF_AWS_S3 ? req->bucket : NULL,
	    req->service == PF_AWS_S3 && req->bucket ? req->key : NULL, req->query, &c->url, err);
	if (rc < 0)
		goto out_free_call;
	if (req->payload_sha256 && strlen(req->payload_sha256) == 64)
		memcpy(c->payload_sha256, req->payload_sha256, 65);
	else
		pf_codec_sha256_hex(req->body ? req->body : "", req->body_len, c->payload_sha256);
	call_start(c);
	return 0;

out_free_call:
	c->free_body = false;
	call_free(c);
out_free_body:
	if (req->free_body)
		free((void *)req->body);
	return rc;
}

int pf_aws_send_unsigned(struct pf_aws *aws, const char *url, const struct pf_aws_request *req,
                         pf_aws_done_cb cb, void *arg, struct pf_error *err)
{
	struct call *c;
	int rc;

	if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
		rc = pf_error_set(err, PF_EINVAL, "credentials endpoint URL must be http(s)");
		goto out_free_body;
	}
	rc = call_new(aws, req, cb, arg, &c, err);
	if (rc < 0)
		goto out_free_body;
	c->is_unsigned = true;
	c->url.url = pf_xstrdup(url);
	call_start(c);
	return 0;

out_free_body:
	if (req->free_body)
		free((void *)req->body);
	return rc;
}

void pf_aws_free(struct pf_aws *aws)
{
	struct pf_error e;

	if (!aws)
		return;
	aws->freeing = true;
	pf_error_clear(&e);
	pf_error_set(&e, PF_ECANCELED, "the AWS client is shutting down");
	while (aws->calls) {
		struct call *c = aws->calls;

		if (c->state == CALL_WAIT_CREDS)
			pf_credentials_provider_cancel(aws->credentials, on_credentials, c);
		if (c->easy) {
			curl_multi_remove_handle(aws->multi, c->easy);
			curl_easy_cleanup(c->easy);
			c->easy = NULL;
		}
		evtimer_del(c->timer);
		call_finish(c, &e);
	}
	pf_credentials_provider_free(aws->credentials);
	if (aws->multi)
		curl_multi_cleanup(aws->multi);
	if (aws->curl_timer)
		event_free(aws->curl_timer);
	pf_endpoints_free(aws->endpoints);
	free(aws->ca_file);
	free(aws);
}
