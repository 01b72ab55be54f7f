/*
 * photofinish upload, jobs: one file at a time per slot, a HeadObject to
 * skip what is already there, then a PutObject or, over 16 MiB, a multipart
 * upload holding one part in memory; a failed multipart upload is aborted.
 * Main thread only.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_upload_int.h"
#include "photofinish/aws/s3.h"
#include "photofinish/util.h"

static void job_fail(struct upload_job *job, const struct pf_error *err);

/* An AWS error as one line: the message, then the service code and HTTP
 * status when they add something. */
static void describe_error(const struct pf_error *err, char *out, size_t len)
{
	const char *msg = err->message[0] ? err->message : pf_error_code_name(err->code);
	bool code = err->service_code[0] && !strstr(msg, err->service_code);

	if (code && err->http_status)
		snprintf(out, len, "%s (%s, HTTP %d)", msg, err->service_code, err->http_status);
	else if (code)
		snprintf(out, len, "%s (%s)", msg, err->service_code);
	else if (err->http_status && !strstr(msg, "HTTP"))
		snprintf(out, len, "%s (HTTP %d)", msg, err->http_status);
	else
		snprintf(out, len, "%s", msg);
}

static void job_free(struct upload_job *job)
{
	if (job->fd >= 0)
		close(job->fd);
	free(job->buf);
	free(job->upload_id);
	if (job->etags) {
		for (int i = 0; i < job->nparts; i++)
			free(job->etags[i]);
		free(job->etags);
	}
	free(job);
}

/* The end of one file: reported, freed, and its slot handed to the next. */
static void job_finish(struct upload_job *job, enum upload_status status, const char *error)
{
	struct uploader *u = job->u;

	if (u->closing) {
		job_free(job);
		return;
	}
	switch (status) {
	case UPLOAD_UPLOADED:
		u->uploaded++;
		break;
	case UPLOAD_SKIPPED:
		u->skipped++;
		u->bytes_done += job->f->size;
		break;
	case UPLOAD_FAILED:
		u->failed++;
		/* Counted as done so that the bar reaches its end. */
		u->bytes_done += job->f->size - (int64_t)job->parts_done * UPLOAD_PART_SIZE;
		break;
	}
	pf_upload__report_file(u, job->f, status, error);
	job_free(job);
	u->active--;
	u->remaining--;
	pf_upload__pump(u);
}

static void job_fail_msg(struct upload_job *job, int code, const char *what)
{
	struct pf_error err;

	pf_error_clear(&err);
	pf_error_set(&err, code, "%s", what);
	job_fail(job, &err);
}

/* Reads exactly len bytes at offset; the file may have shrunk since it was listed. */
static int read_at(struct upload_job *job, char *buf, size_t len, int64_t offset,
                   struct pf_error *err)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = pread(job->fd, buf + got, len - got, (off_t)(offset + (int64_t)got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return pf_error_set(err, PF_EIO, "reading: %s", strerror(errno));
		if (r == 0)
			return pf_error_set(err, PF_EIO,
			                    "the file changed while it was being uploaded "
			                    "(it is shorter than %" PRId64 " bytes now)",
			                    job->f->size);
		got += (size_t)r;
	}
	return 0;
}

static void on_abort(const struct pf_error *err, void *arg)
{
	struct upload_job *job = arg;
	char msg[sizeof(job->failure.message) + 128];

	describe_error(&job->failure, msg, sizeof(msg));
	if (err->code) {
		size_t n = strlen(msg);

		/* Orphaned parts cost storage until a lifecycle rule removes them. */
		snprintf(msg + n, sizeof(msg) - n, "; aborting the multipart upload failed too: %s",
		         err->message);
	}
	job_finish(job, UPLOAD_FAILED, msg);
}

/* A failed file: a multipart upload in progress is aborted first. */
static void job_fail(struct upload_job *job, const struct pf_error *err)
{
	char msg[sizeof(err->message) + 128];
	struct pf_error aerr;

	if (job->u->closing) {
		job_free(job);
		return;
	}
	if (job->upload_id) {
		job->failure = *err;
		if (pf_s3_abort_multipart_upload(job->u->aws, job->u->bucket, job->f->key,
		                                 job->upload_id, on_abort, job, &aerr) == 0)
			return;
	}
	describe_error(err, msg, sizeof(msg));
	job_finish(job, UPLOAD_FAILED, msg);
}

static void on_put(const char *etag, const struct pf_error *err, void *arg)
{
	struct upload_job *job = arg;

	if (err->code) {
		job_fail(job, err);
		return;
	}
	job->u->bytes_done += job->f->size;
	job->u->bytes_sent += job->f->size;
	job_finish(job, UPLOAD_UPLOADED, NULL);
}

static void on_complete(const char *etag, const struct pf_error *err, void *arg)
{
	struct upload_job *job = arg;

	if (err->code) {
		job_fail(job, err);
		return;
	}
	free(job->upload_id);
	job->upload_id = NULL;
	job_finish(job, UPLOAD_UPLOADED, NULL);
}

static void send_part(struct upload_job *job);

static void on_part(const char *etag, const struct pf_error *err, void *arg)
{
	struct upload_job *job = arg;
	struct pf_s3_completed_part *parts;
	struct pf_error cerr;

	if (err->code) {
		job_fail(job, err);
		return;
	}
	if (!etag) {
		job_fail_msg(job, PF_EAWS, "S3 answered an UploadPart without an ETag");
		return;
	}
	job->etags[job->parts_done++] = pf_xstrdup(etag);
	job->u->bytes_done += (int64_t)job->buf_len;
	job->u->bytes_sent += (int64_t)job->buf_len;
	if (job->u->progress)
		pf_upload__draw_bar(job->u);
	if (job->parts_done < job->nparts && job->u->interrupted) {
		job_fail_msg(job, PF_ECANCELED, "interrupted");
		return;
	}
	if (job->parts_done < job->nparts) {
		send_part(job);
		return;
	}

	/* Every part is in: the buffer is no longer needed while S3 assembles them. */
	free(job->buf);
	job->buf = NULL;
	parts = pf_xcalloc((size_t)job->nparts, sizeof(*parts));
	for (int i = 0; i < job->nparts; i++) {
		parts[i].part_number = i + 1;
		parts[i].etag = job->etags[i];
	}
	pf_error_clear(&cerr);
	if (pf_s3_complete_multipart_upload(job->u->aws, job->u->bucket, job->f->key,
	                                    job->upload_id, parts, (size_t)job->nparts, on_complete,
	                                    job, &cerr) < 0)
		job_fail(job, &cerr);
	free(parts);
}

/* Reads the next part into the job's one buffer and sends it. */
static void send_part(struct upload_job *job)
{
	int64_t offset = (int64_t)job->parts_done * UPLOAD_PART_SIZE;
	int64_t left = job->f->size - offset;
	struct pf_error err;

	pf_error_clear(&err);
	job->buf_len = (size_t)(left < UPLOAD_PART_SIZE ? left : UPLOAD_PART_SIZE);
	if (read_at(job, job->buf, job->buf_len, offset, &err) < 0 ||
	    pf_s3_upload_part(job->u->aws, job->u->bucket, job->f->key, job->upload_id,
	                      job->parts_done + 1, job->buf, job->buf_len, on_part, job, &err) < 0)
		job_fail(job, &err);
}

static void on_create(const char *upload_id, const struct pf_error *err, void *arg)
{
	struct upload_job *job = arg;

	if (err->code) {
		job_fail(job, err);
		return;
	}
	if (!upload_id || !*upload_id) {
		job_fail_msg(job, PF_EAWS, "S3 answered CreateMultipartUpload without an UploadId");
		return;
	}
	job->upload_id = pf_xstrdup(upload_id);
	job->buf = malloc((size_t)UPLOAD_PART_SIZE);
	if (!job->buf) {
		job_fail_msg(job, PF_ENOMEM, "out of memory for a 16 MiB part");
		return;
	}
	send_part(job);
}

/* Opens the file and sends it: in one PutObject up to 16 MiB, else in parts. */
static void job_upload(struct upload_job *job)
{
	struct upload_file *f = job->f;
	struct pf_s3_put_options opts = {.content_type = pf_upload__content_type(f->key)};
	struct stat st;
	struct pf_error err;

	pf_error_clear(&err);
	job->fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (job->fd < 0 || fstat(job->fd, &st) < 0) {
		pf_error_set(&err, PF_EIO, "cannot open: %s", strerror(errno));
		goto out_fail;
	}
	if (st.st_size != f->size) {
		/* Rewritten since the walk: the bar's total follows the new size. */
		job->u->bytes_total += st.st_size - f->size;
		f->size = st.st_size;
	}
	if (f->size > UPLOAD_PART_SIZE * UPLOAD_MAX_PARTS) {
		pf_error_set(&err, PF_ETOOBIG, "larger than %d parts of 16 MiB", UPLOAD_MAX_PARTS);
		goto out_fail;
	}

	if (f->size > UPLOAD_PART_SIZE) {
		job->nparts = (int)((f->size + UPLOAD_PART_SIZE - 1) / UPLOAD_PART_SIZE);
		job->etags = pf_xcalloc((size_t)job->nparts, sizeof(*job->etags));
		if (pf_s3_create_multipart_upload(job->u->aws, job->u->bucket, f->key, &opts,
		                                  on_create, job, &err) < 0)
			goto out_fail;
		return;
	}

	job->buf_len = (size_t)f->size;
	job->buf = malloc(job->buf_len ? job->buf_len : 1);
	if (!job->buf) {
		pf_error_set(&err, PF_ENOMEM, "out of memory for %zu bytes", job->buf_len);
		goto out_fail;
	}
	if (read_at(job, job->buf, job->buf_len, 0, &err) < 0)
		goto out_fail;
	if (pf_s3_put_object(job->u->aws, job->u->bucket, f->key, job->buf, job->buf_len, &opts,
	                     on_put, job, &err) < 0)
		goto out_fail;
	return;

out_fail:
	job_fail(job, &err);
}

static void on_head(const struct pf_s3_object_info *info, const struct pf_error *err, void *arg)
{
	struct upload_job *job = arg;

	if (!err->code && info->content_length == job->f->size) {
		job_finish(job, UPLOAD_SKIPPED, NULL);
		return;
	}
	/* Not there, a different size, or not allowed to look (upload-only
	 * credentials get 403 from HeadObject): upload it. */
	if (!err->code || err->code == PF_ENOTFOUND ||
	    (err->code == PF_EAWS && err->http_status == 403)) {
		if (job->u->interrupted)
			job_fail_msg(job, PF_ECANCELED, "interrupted before it was sent");
		else
			job_upload(job);
		return;
	}
	job_fail(job, err);
}

static void job_start(struct uploader *u, struct upload_file *f)
{
	struct upload_job *job = pf_xcalloc(1, sizeof(*job));
	struct pf_error err;

	job->u = u;
	job->f = f;
	job->fd = -1;
	u->active++;
	if (u->force) {
		job_upload(job);
		return;
	}
	pf_error_clear(&err);
	if (pf_s3_head_object(u->aws, u->bucket, f->key, on_head, job, &err) < 0)
		job_fail(job, &err);
}

/* Starts uploads until --parallel are in flight or none is left. */
void pf_upload__pump(struct uploader *u)
{
	if (u->pumping)
		return;
	u->pumping = true;
	while (u->active < u->parallel && u->next < u->list->n)
		job_start(u, &u->list->files[u->next++]);
	u->pumping = false;
}
