/*
 * The queue consumer's messages: the receive loop, heartbeats, and deleting
 * or retrying a message once its jobs (consumer_job.c) are done. Loop thread
 * only: every callback here runs on the loop.
 *
 * Guarantees: a message is deleted only after every one of its events is
 * durably done (variants uploaded and catalog written, or the photo recorded
 * as failed, or the event found stale/irrelevant); a transient failure never
 * deletes; an older event (lower S3 sequencer) never overwrites a newer one.
 */
#include "consumer_int.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "photofinish/aws/sqs.h"
#include "photofinish/config.h"
#include "photofinish/events.h"
#include "photofinish/log.h"
#include "photofinish/metrics.h"
#include "photofinish/util.h"

static void maybe_receive(struct pf_consumer *c);

bool pf_consumer_key_is_wanted(const char *key, const char *prefix)
{
	static const char *const suffixes[] = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"};
	size_t n = strlen(key);

	if (prefix && *prefix && strncmp(key, prefix, strlen(prefix)) != 0)
		return false;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t s = strlen(suffixes[i]);

		if (n > s && !strcasecmp(key + n - s, suffixes[i]))
			return true;
	}
	return false;
}

int pf_consumer_retry_visibility(int receive_count)
{
	int v = 15;

	for (int i = 1; i < receive_count && v < 900; i++)
		v *= 2;
	return v > 900 ? 900 : v;
}

/* ---- messages ---------------------------------------------------------- */

static void check_drained(struct pf_consumer *c)
{
	if (c->draining && c->inflight == 0 && !c->receiving && c->releases_pending == 0 &&
	    c->on_drained) {
		void (*cb)(void *) = c->on_drained;

		c->on_drained = NULL;
		cb(c->drained_arg);
	}
}

static void msg_free(struct pf_consumer__msg *m)
{
	struct pf_consumer *c = m->c;

	if (m->prev)
		m->prev->next = m->next;
	else
		c->msgs = m->next;
	if (m->next)
		m->next->prev = m->prev;
	if (m->heartbeat)
		event_free(m->heartbeat);
	free(m->receipt);
	free(m->message_id);
	free(m);
	c->inflight--;
	pf_metrics_set(c->d.metrics, "photofinish_queue_inflight_messages",
	               "Messages received and not yet finished.", NULL, c->inflight);
}

static void on_deleted(const struct pf_sqs_batch_result *res, const struct pf_error *err, void *arg)
{
	struct pf_consumer__msg *m = arg;
	struct pf_consumer *c = m->c;

	if (err->code || (res && res->nfailed))
		pf_warn("message delete failed; it will be delivered again and skipped as done",
		        PF_LS("messageId", m->message_id),
		        PF_LS("error", err->code ? err->message : res->entries[0].message));
	msg_free(m);
	maybe_receive(c);
	check_drained(c);
}

static void on_visibility_changed(const struct pf_error *err, void *arg)
{
	struct pf_consumer__msg *m = arg;
	struct pf_consumer *c = m->c;

	if (err->code)
		pf_warn("changing message visibility failed", PF_LS("messageId", m->message_id),
		        PF_LS("error", err->message));
	msg_free(m);
	maybe_receive(c);
	check_drained(c);
}

static void msg_finish(struct pf_consumer__msg *m)
{
	struct pf_consumer *c = m->c;
	struct pf_error err;

	pf_error_clear(&err);
	m->finishing = true;
	if (m->heartbeat)
		event_del(m->heartbeat);
	if (m->transient && !m->released) {
		int vis = pf_consumer_retry_visibility(m->receive_count);

		pf_info("message kept for a retry", PF_LS("messageId", m->message_id),
		        PF_LI("receiveCount", m->receive_count), PF_LI("visibilitySeconds", vis));
		if (pf_sqs_change_message_visibility(c->d.aws, c->d.cfg->queue_url, m->receipt, vis,
		                                     on_visibility_changed, m, &err) == 0)
			return;
	} else if (!m->transient) {
		struct pf_sqs_batch_entry e = {.id = "m", .receipt_handle = m->receipt};

		if (pf_sqs_delete_message_batch(c->d.aws, c->d.cfg->queue_url, &e, 1, on_deleted, m,
		                                &err) == 0)
			return;
	}
	if (err.code)
		pf_warn("could not finish message", PF_LS("messageId", m->message_id),
		        PF_LS("error", err.message));
	msg_free(m);
	maybe_receive(c);
	check_drained(c);
}

void pf_consumer__msg_work_done(struct pf_consumer__msg *m)
{
	m->jobs_pending--;
	if (m->jobs_pending == 0)
		msg_finish(m);
}

static void on_heartbeat_done(const struct pf_error *err, void *arg)
{
	struct pf_consumer__msg *m = arg;

	if (err->code)
		pf_warn("visibility heartbeat failed", PF_LS("messageId", m->message_id),
		        PF_LS("error", err->message));
	pf_consumer__msg_work_done(m);
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct pf_consumer__msg *m = arg;
	struct pf_consumer *c = m->c;
	struct pf_error err;

	/* The heartbeat counts as pending work so the message outlives it. */
	m->jobs_pending++;
	if (pf_sqs_change_message_visibility(c->d.aws, c->d.cfg->queue_url, m->receipt,
	                                     c->d.cfg->visibility_timeout, on_heartbeat_done, m,
	                                     &err) < 0)
		m->jobs_pending--;
}

static void on_released(const struct pf_error *err, void *arg)
{
	struct pf_consumer__msg *m = arg;
	struct pf_consumer *c = m->c;

	c->releases_pending--;
	if (err->code)
		pf_warn("releasing a message failed; it reappears after its visibility timeout",
		        PF_LS("messageId", m->message_id), PF_LS("error", err->message));
	m->jobs_pending--;
	if (m->jobs_pending == 0)
		msg_finish(m);
	else
		check_drained(c);
}

static void release_now(struct pf_consumer__msg *m)
{
	struct pf_consumer *c = m->c;
	struct pf_error err;

	m->released = true;
	/* A heartbeat now would hide the message again. */
	if (m->heartbeat)
		event_del(m->heartbeat);
	m->jobs_pending++;
	c->releases_pending++;
	if (pf_sqs_change_message_visibility(c->d.aws, c->d.cfg->queue_url, m->receipt, 0,
	                                     on_released, m, &err) < 0) {
		m->jobs_pending--;
		c->releases_pending--;
	}
}

static void on_messages(struct pf_sqs_message *msgs, size_t n, const struct pf_error *err,
                        void *arg)
{
	struct pf_consumer *c = arg;

	c->receiving = false;
	if (err->code == PF_ECANCELED)
		return; /* the process is exiting */
	if (c->d.on_receive_status)
		c->d.on_receive_status(c->d.arg, err->code == 0);
	if (err->code) {
		struct timeval tv;
		int delay = 1 << (c->receive_failures < 5 ? c->receive_failures : 5);

		c->receive_failures++;
		pf_warn("receiving from the queue failed; retrying", PF_LS("error", err->message),
		        PF_LS("code", err->service_code), PF_LI("retryInSeconds", delay));
		tv.tv_sec = delay;
		tv.tv_usec = 0;
		if (!c->draining)
			evtimer_add(c->retry_timer, &tv);
		check_drained(c);
		return;
	}
	c->receive_failures = 0;
	for (size_t i = 0; i < n; i++) {
		struct pf_consumer__msg *m = pf_xcalloc(1, sizeof(*m));
		struct pf_event_list events;
		struct pf_error perr;
		struct timeval hb;

		m->c = c;
		m->receipt = msgs[i].receipt_handle;
		msgs[i].receipt_handle = NULL;
		m->message_id = msgs[i].message_id;
		msgs[i].message_id = NULL;
		m->receive_count = msgs[i].receive_count;
		m->next = c->msgs;
		if (c->msgs)
			c->msgs->prev = m;
		c->msgs = m;
		c->inflight++;
		pf_metrics_set(c->d.metrics, "photofinish_queue_inflight_messages",
		               "Messages received and not yet finished.", NULL, c->inflight);

		if (c->draining) {
			/* Received while shutting down: hand it straight back. */
			m->transient = true;
			release_now(m);
			if (m->jobs_pending == 0)
				msg_finish(m);
			continue;
		}

		m->jobs_pending = 1; /* held until every event has started */
		hb.tv_sec = c->d.cfg->visibility_timeout / 2;
		hb.tv_usec = 0;
		m->heartbeat = event_new(c->d.base, -1, EV_PERSIST, on_heartbeat, m);
		event_add(m->heartbeat, &hb);

		if (pf_events_parse(msgs[i].body ? msgs[i].body : "",
		                    msgs[i].body ? strlen(msgs[i].body) : 0, &events, &perr) < 0) {
			pf_warn("malformed message deleted", PF_LS("messageId", m->message_id),
			        PF_LS("error", perr.message));
			pf_metrics_inc(c->d.metrics, "photofinish_messages_malformed_total",
			               "Queue messages that were not S3 events (deleted).", NULL,
			               1);
		} else {
			for (size_t k = 0; k < events.count; k++) {
				if (events.events[k].kind == PF_EVENT_TEST)
					pf_info("S3 test event deleted",
					        PF_LS("messageId", m->message_id));
				pf_consumer__start_event(m, &events.events[k]);
			}
			pf_event_list_free(&events);
		}
		pf_consumer__msg_work_done(m);
	}
	maybe_receive(c);
	check_drained(c);
}

static void maybe_receive(struct pf_consumer *c)
{
	struct pf_sqs_receive_options opts;
	struct pf_error err;
	int room = c->d.cfg->max_inflight - c->inflight;

	if (c->draining || c->receiving || room <= 0 || evtimer_pending(c->retry_timer, NULL))
		return;
	opts.max_messages = room > PF_SQS_MAX_BATCH ? PF_SQS_MAX_BATCH : room;
	opts.wait_seconds = 20;
	opts.visibility_timeout = c->d.cfg->visibility_timeout;
	if (pf_sqs_receive_message(c->d.aws, c->d.cfg->queue_url, &opts, on_messages, c, &err) <
	    0) {
		struct timeval tv = {5, 0};

		pf_error_log("cannot receive from the queue", PF_LS("error", err.message));
		evtimer_add(c->retry_timer, &tv);
		return;
	}
	c->receiving = true;
}

static void on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
	maybe_receive(arg);
}

int pf_consumer_new(const struct pf_consumer_deps *deps, struct pf_consumer **out,
                    struct pf_error *err)
{
	struct pf_consumer *c = pf_xcalloc(1, sizeof(*c));

	c->d = *deps;
	c->retry_timer = evtimer_new(deps->base, on_retry_timer, c);
	*out = c;
	return 0;
}

void pf_consumer_start(struct pf_consumer *c)
{
	maybe_receive(c);
}

void pf_consumer_drain(struct pf_consumer *c, void (*on_drained)(void *arg), void *arg)
{
	c->draining = true;
	c->on_drained = on_drained;
	c->drained_arg = arg;
	evtimer_del(c->retry_timer);
	check_drained(c);
}

void pf_consumer_release_all(struct pf_consumer *c)
{
	for (struct pf_consumer__msg *m = c->msgs; m; m = m->next) {
		if (!m->released && !m->finishing)
			release_now(m);
	}
}

int pf_consumer_releases_pending(const struct pf_consumer *c)
{
	return c->releases_pending;
}

int pf_consumer_inflight(const struct pf_consumer *c)
{
	return c->inflight;
}

void pf_consumer_free(struct pf_consumer *c)
{
	if (!c)
		return;
	/* Messages still held come back to the queue after their visibility
	 * timeout; only the memory goes here. */
	while (c->msgs)
		msg_free(c->msgs);
	if (c->retry_timer)
		event_free(c->retry_timer);
	pf_consumer__clocks_free(c->clocks);
	free(c);
}
