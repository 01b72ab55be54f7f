/*
 * The daemon: builds the loop, the worker pool, the AWS client, the catalog,
 * the consumer and the API server, runs the loop, and drains on SIGTERM /
 * SIGINT. Loop thread only. The only process-wide state lives in struct
 * daemon on run()'s stack.
 */
#include "photofinish/daemon.h"

#include <errno.h>
#include <jansson.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "photofinish/admin.h"
#include "photofinish/api.h"
#include "photofinish/aws/aws_http.h"
#include "photofinish/aws/credentials_provider.h"
#include "photofinish/aws/s3.h"
#include "photofinish/aws/sqs.h"
#include "photofinish/catalog.h"
#include "photofinish/consumer.h"
#include "photofinish/image.h"
#include "photofinish/log.h"
#include "photofinish/metrics.h"
#include "photofinish/pool.h"
#include "photofinish/util.h"

/* The overlay is a logo; anything bigger is a mistake in the configuration. */
#define MAX_OVERLAY_BYTES (16 * 1024 * 1024)
/* After the drain deadline, how long to wait for SQS to take messages back. */
#define RELEASE_GRACE_SECONDS 3

struct daemon {
	const struct pf_config *cfg;
	struct event_base *base;
	struct pf_aws *aws;
	struct pf_pool *pool;
	struct pf_catalog *catalog;
	struct pf_metrics *metrics;
	struct pf_image_ctx *image;
	struct pf_consumer *consumer;
	struct pf_admin *admin;
	struct pf_api *api;
	struct event *sigterm, *sigint, *deadline, *grace, *probe, *settle;
	bool probe_running;
	int64_t probe_started_ms;
	bool draining;
	bool queue_ok; /* the last ReceiveMessage worked */
	/* The queue's depth at the last probe; -1 before the first answer. */
	int64_t queue_visible, queue_hidden;
	bool ever_ready; /* at least one AWS call worked */
	/* start-up: overlay from S3 */
	bool overlay_done;
	struct pf_error overlay_err;
	char *overlay;
	size_t overlay_len;
};

static void queue_depth(void *arg, int64_t *visible, int64_t *in_flight)
{
	struct daemon *d = arg;

	*visible = d->queue_visible;
	*in_flight = d->queue_hidden;
}

static const char *not_ready_reason(void *arg)
{
	struct daemon *d = arg;

	if (d->draining)
		return "draining";
	if (!d->ever_ready)
		return "waiting for the first successful call to the queue";
	if (!d->queue_ok)
		return "the queue is unreachable; retrying";
	return NULL;
}

static void on_receive_status(void *arg, bool ok)
{
	struct daemon *d = arg;

	if (ok && !d->ever_ready)
		pf_info("ready", PF_LS("queue", d->cfg->queue_url));
	if (ok != d->queue_ok && d->ever_ready)
		pf_log(ok ? PF_LOG_INFO : PF_LOG_WARN,
		       ok ? "queue reachable again" : "queue unreachable",
		       PF_LS("queue", d->cfg->queue_url));
	d->queue_ok = ok;
	d->ever_ready = d->ever_ready || ok;
}

static void on_codes_changed(void *arg, char *const *codes, size_t n)
{
	struct daemon *d = arg;

	if (d->api)
		pf_api_invalidate(d->api, codes, n);
}

static void on_aws_call(const struct pf_aws_call_info *info, void *arg)
{
	struct daemon *d = arg;
	char labels[160];

	if (info->unsigned_request)
		return;
	snprintf(labels, sizeof(labels), "service=\"%s\",operation=\"%s\",outcome=\"%s\"",
	         pf_aws_service_name(info->service), info->operation,
	         pf_aws_outcome_name(info->outcome));
	pf_metrics_inc(d->metrics, "photofinish_aws_calls_total",
	               "AWS calls by service, operation and outcome.", labels, 1);
	if (info->attempts > 1) {
		snprintf(labels, sizeof(labels), "service=\"%s\"",
		         pf_aws_service_name(info->service));
		pf_metrics_inc(d->metrics, "photofinish_aws_retries_total",
		               "AWS attempts beyond the first.", labels, info->attempts - 1);
	}
}

static void render_extra_metrics(void *arg, struct pf_buf *out)
{
	struct daemon *d = arg;
	struct pf_aws_counters counters;

	pf_aws_get_counters(d->aws, &counters);
	pf_buf_appendf(out,
	               "# HELP photofinish_aws_retry_quota Retry tokens left (500 at most; a retry "
	               "takes 5, 10 after a timeout; successes give them back).\n"
	               "# TYPE photofinish_aws_retry_quota gauge\nphotofinish_aws_retry_quota %d\n",
	               counters.retry_quota);

	pf_buf_appendf(out,
	               "# HELP photofinish_pool_pending_jobs Jobs queued or running on the worker "
	               "pool.\n# TYPE photofinish_pool_pending_jobs gauge\n"
	               "photofinish_pool_pending_jobs %d\n"
	               "# HELP photofinish_ready 1 when /readyz answers 200.\n"
	               "# TYPE photofinish_ready gauge\nphotofinish_ready %d\n",
	               d->pool ? pf_pool_pending(d->pool) : 0, not_ready_reason(d) ? 0 : 1);
}

/* ---- readiness probe ---------------------------------------------------- */

/* A long poll can hang for its full wait when AWS stops answering, so
 * readiness comes from a short, frequent call of its own; it also gives the
 * queue depth for /metrics. */
#define PROBE_INTERVAL_MS 2000
#define PROBE_TIMEOUT_MS 3000

/* Sets the gauge and *out (the depth /admin/status reports) from attr. */
static void set_queue_gauge(struct daemon *d, json_t *attrs, const char *attr, const char *metric,
                            const char *help, int64_t *out)
{
	const char *v = json_string_value(json_object_get(attrs, attr));
	int64_t n;

	if (v && pf_parse_int64(v, 0, INT64_MAX, &n)) {
		pf_metrics_set(d->metrics, metric, help, NULL, (double)n);
		*out = n;
	}
}

static void on_probe(json_t *attrs, const struct pf_error *err, void *arg)
{
	struct daemon *d = arg;

	d->probe_running = false;
	if (err->code == PF_ECANCELED)
		return;
	on_receive_status(d, err->code == 0);
	if (err->code)
		return;
	set_queue_gauge(d, attrs, "ApproximateNumberOfMessages",
	                "photofinish_queue_visible_messages",
	                "Messages waiting in the queue (approximate).", &d->queue_visible);
	set_queue_gauge(d, attrs, "ApproximateNumberOfMessagesNotVisible",
	                "photofinish_queue_invisible_messages",
	                "Messages received by some consumer and not yet deleted (approximate).",
	                &d->queue_hidden);
}

static void on_probe_timer(evutil_socket_t fd, short what, void *arg)
{
	static const char *const names[] = {"ApproximateNumberOfMessages",
	                                    "ApproximateNumberOfMessagesNotVisible"};
	static const struct pf_sqs_call_options call = {.timeout_ms = PROBE_TIMEOUT_MS};
	struct daemon *d = arg;
	struct pf_error err;

	if (d->draining)
		return;
	if (d->probe_running) {
		/* No answer within the timeout is already an answer. */
		if (pf_monotonic_ms() - d->probe_started_ms > PROBE_TIMEOUT_MS)
			on_receive_status(d, false);
		return;
	}
	if (pf_sqs_get_queue_attributes(d->aws, d->cfg->queue_url, names, 2, &call, on_probe, d,
	                                &err) == 0) {
		d->probe_running = true;
		d->probe_started_ms = pf_monotonic_ms();
	}
}

/* ---- shutdown ---------------------------------------------------------- */

/* The photo counters updated after the last writes are let finish (within
 * the drain deadline) rather than cut off: a count lost here stays off. */
static void on_settle(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = {0, 20000};

	if (pf_catalog_background(d->catalog) > 0) {
		evtimer_add(d->settle, &tv);
		return;
	}
	pf_info("drained, exiting", PF_LI("inflight", pf_consumer_inflight(d->consumer)));
	event_base_loopbreak(d->base);
}

static void on_drained(void *arg)
{
	struct daemon *d = arg;

	d->settle = evtimer_new(d->base, on_settle, d);
	on_settle(-1, 0, d);
}

static void on_grace_over(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	pf_info("exiting after releasing unfinished messages",
	        PF_LI("unanswered", pf_consumer_releases_pending(d->consumer)));
	event_base_loopbreak(d->base);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = {RELEASE_GRACE_SECONDS, 0};

	pf_warn("drain deadline reached; releasing unfinished messages",
	        PF_LI("inflight", pf_consumer_inflight(d->consumer)));
	pf_consumer_release_all(d->consumer);
	d->grace = evtimer_new(d->base, on_grace_over, d);
	evtimer_add(d->grace, &tv);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = {d->cfg->drain_seconds, 0};

	if (d->draining) {
		pf_warn("second signal: exiting now", PF_LI("signal", sig));
		event_base_loopbreak(d->base);
		return;
	}
	d->draining = true;
	pf_info("draining", PF_LI("signal", sig),
	        PF_LI("inflight", pf_consumer_inflight(d->consumer)),
	        PF_LI("deadlineSeconds", d->cfg->drain_seconds));
	pf_api_stop_accepting(d->api);
	if (d->probe)
		event_del(d->probe);
	d->deadline = evtimer_new(d->base, on_deadline, d);
	evtimer_add(d->deadline, &tv);
	pf_consumer_drain(d->consumer, on_drained, d);
}

/* ---- start-up ---------------------------------------------------------- */

static int read_file(const char *path, size_t max, char **out, size_t *len, struct pf_error *err)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;

	if (!f)
		return pf_error_set(err, PF_EIO, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		fclose(f);
		return pf_error_set(err, PF_EINVAL, "%s is not a regular file of at most %zu bytes",
		                    path, max);
	}
	buf = pf_xmalloc((size_t)st.st_size + 1);
	if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(buf);
		fclose(f);
		return pf_error_set(err, PF_EIO, "cannot read %s", path);
	}
	fclose(f);
	*out = buf;
	*len = (size_t)st.st_size;
	return 0;
}

static void on_overlay(struct pf_s3_get_result *res, const struct pf_error *err, void *arg)
{
	struct daemon *d = arg;

	d->overlay_done = true;
	if (err->code) {
		d->overlay_err = *err;
		return;
	}
	d->overlay = res->body;
	d->overlay_len = res->len;
	res->body = NULL;
}

static int load_overlay(struct daemon *d, struct pf_error *err)
{
	const char *src = d->cfg->overlay;
	char *bucket;
	const char *slash;
	int rc;

	if (!src)
		return 0;
	if (strncmp(src, "s3://", 5) != 0)
		return read_file(src, MAX_OVERLAY_BYTES, &d->overlay, &d->overlay_len, err);
	slash = strchr(src + 5, '/');
	bucket = pf_xstrndup(src + 5, (size_t)(slash - src - 5));
	rc = pf_s3_get_object(d->aws, bucket, slash + 1, MAX_OVERLAY_BYTES, on_overlay, d, err);
	free(bucket);
	if (rc < 0)
		return rc;
	/* Start-up only: nothing else runs on the loop yet. */
	while (!d->overlay_done && event_base_loop(d->base, EVLOOP_ONCE) == 0)
		;
	if (d->overlay_err.code) {
		*err = d->overlay_err;
		pf_error_prefix(err, "loading the overlay %s", src);
		return err->code;
	}
	return 0;
}

static void on_initial_credentials(const struct pf_sigv4_credentials *creds,
                                   const struct pf_error *err, void *arg)
{
	struct daemon *d = arg;

	if (err->code)
		pf_warn("no AWS credentials yet; retrying with each request",
		        PF_LS("error", err->message));
	else
		pf_info("AWS credentials loaded", PF_LS("source", pf_credentials_provider_source(
		                                                      pf_aws_credentials(d->aws))));
}

int pf_daemon_run(const struct pf_config *cfg)
{
	struct daemon d;
	struct pf_aws_options aopts;
	struct pf_image_options iopts;
	struct pf_consumer_deps cdeps;
	struct pf_api_deps adeps;
	struct pf_error err;
	int rc = -1;

	memset(&d, 0, sizeof(d));
	d.queue_visible = d.queue_hidden = -1;
	pf_error_clear(&err);
	d.cfg = cfg;
	signal(SIGPIPE, SIG_IGN);
	d.base = event_base_new();
	if (!d.base) {
		pf_error_log("cannot create the event loop", PF_LS("error", "event_base_new"));
		return -1;
	}
	pf_metrics_new(&d.metrics);

	pf_config_aws_options(cfg, &aopts);
	aopts.on_call = on_aws_call;
	aopts.on_call_arg = &d;
	if (pf_aws_new(d.base, &aopts, &d.aws, &err) < 0)
		goto fail;
	if (pf_image_global_init("photofinishd", &err) < 0)
		goto fail;
	if (load_overlay(&d, &err) < 0)
		goto fail;
	pf_config_image_options(cfg, &iopts);
	if (pf_image_ctx_new(&iopts, d.overlay, d.overlay_len, &d.image, &err) < 0)
		goto fail;
	free(d.overlay);
	d.overlay = NULL;
	if (pf_pool_new(d.base, cfg->workers, &d.pool, &err) < 0)
		goto fail;
	if (pf_catalog_new(d.aws, cfg->table, &d.catalog, &err) < 0)
		goto fail;

	{
		struct pf_admin_deps admin_deps = {.base = d.base,
		                                   .aws = d.aws,
		                                   .catalog = d.catalog,
		                                   .cfg = cfg,
		                                   .on_codes_changed = on_codes_changed,
		                                   .arg = &d};

		if (pf_admin_new(&admin_deps, &d.admin, &err) < 0)
			goto fail;
	}

	memset(&adeps, 0, sizeof(adeps));
	adeps.admin = d.admin;
	adeps.base = d.base;
	adeps.cfg = cfg;
	adeps.aws = d.aws;
	adeps.catalog = d.catalog;
	adeps.metrics = d.metrics;
	adeps.not_ready_reason = not_ready_reason;
	adeps.queue_depth = queue_depth;
	adeps.render_metrics = render_extra_metrics;
	adeps.arg = &d;
	if (pf_api_new(&adeps, &d.api, &err) < 0)
		goto fail;

	memset(&cdeps, 0, sizeof(cdeps));
	cdeps.base = d.base;
	cdeps.aws = d.aws;
	cdeps.pool = d.pool;
	cdeps.catalog = d.catalog;
	cdeps.image = d.image;
	cdeps.metrics = d.metrics;
	cdeps.cfg = cfg;
	cdeps.on_codes_changed = on_codes_changed;
	cdeps.on_receive_status = on_receive_status;
	cdeps.arg = &d;
	if (pf_consumer_new(&cdeps, &d.consumer, &err) < 0)
		goto fail;

	d.sigterm = evsignal_new(d.base, SIGTERM, on_signal, &d);
	d.sigint = evsignal_new(d.base, SIGINT, on_signal, &d);
	event_add(d.sigterm, NULL);
	event_add(d.sigint, NULL);

	if (pf_credentials_provider_get(pf_aws_credentials(d.aws), on_initial_credentials, &d,
	                                &err) < 0)
		pf_warn("no AWS credentials source", PF_LS("error", err.message));
	pf_error_clear(&err);

	pf_info("photofinishd started", PF_LS("listen", cfg->listen),
	        PF_LI("workers", cfg->workers), PF_LI("maxInflight", cfg->max_inflight),
	        PF_LS("queue", cfg->queue_url), PF_LS("table", cfg->table),
	        PF_LS("ingressBucket", cfg->ingress_bucket),
	        PF_LS("processedBucket", cfg->processed_bucket));
	{
		struct timeval tv = {PROBE_INTERVAL_MS / 1000, (PROBE_INTERVAL_MS % 1000) * 1000};

		d.probe = event_new(d.base, -1, EV_PERSIST, on_probe_timer, &d);
		event_add(d.probe, &tv);
	}
	pf_consumer_start(d.consumer);
	event_base_dispatch(d.base);
	rc = 0;

	/* Work still on the pool cannot be stopped; the process exits around it. */
	if (d.pool && pf_pool_pending(d.pool) > 0) {
		pf_info("photofinishd stopped", PF_LI("abandonedJobs", pf_pool_pending(d.pool)));
		fflush(stdout);
		_Exit(0);
	}
	pf_info("photofinishd stopped", PF_LI("abandonedJobs", 0));
	goto out;

fail:
	pf_error_log("cannot start", PF_LS("error", err.message));
out:
	if (d.sigterm)
		event_free(d.sigterm);
	if (d.sigint)
		event_free(d.sigint);
	if (d.deadline)
		event_free(d.deadline);
	if (d.settle)
		event_free(d.settle);
	if (d.grace)
		event_free(d.grace);
	if (d.probe)
		event_free(d.probe);
	/* Cancel AWS requests first: their callbacks still find the API, the
	 * consumer and the admin alive, and new requests fail at once. */
	pf_aws_free(d.aws);
	pf_api_free(d.api);
	pf_consumer_free(d.consumer);
	pf_admin_free(d.admin);
	pf_catalog_free(d.catalog);
	if (d.pool)
		pf_pool_free(d.pool);
	pf_image_ctx_free(d.image);
	free(d.overlay);
	pf_metrics_free(d.metrics);
	event_base_free(d.base);
	return rc;
}
