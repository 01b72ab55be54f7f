/*
 * photofinish upload, discovery: the photos named on the command line,
 * directory trees walked in name order (hidden entries skipped, symlink
 * loops and deep nesting refused), and the keys they will get, checked
 * before anything is sent. Main thread only.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli_upload_int.h"
#include "photofinish/util.h"

/* The Content-Type for an image suffix, or NULL when the name is not a photo. */
const char *pf_upload__content_type(const char *name)
{
	static const struct {
		const char *suffix;
		const char *type;
	} types[] = {
	    {".jpg", "image/jpeg"},  {".jpeg", "image/jpeg"}, {".png", "image/png"},
	    {".webp", "image/webp"}, {".tif", "image/tiff"},  {".tiff", "image/tiff"},
	};
	const char *dot = strrchr(name, '.');

	if (!dot || dot == name)
		return NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (!strcasecmp(dot, types[i].suffix))
			return types[i].type;
	}
	return NULL;
}

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir);

	if (n > 0 && dir[n - 1] == '/')
		return pf_xasprintf("%s%s", dir, name);
	return pf_xasprintf("%s/%s", dir, name);
}

static void list_add(struct upload_list *list, char *path, char *key, int64_t size)
{
	if (list->n == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 64;
		list->files = pf_xrealloc(list->files, list->cap * sizeof(*list->files));
	}
	list->files[list->n].path = path;
	list->files[list->n].key = key;
	list->files[list->n].size = size;
	list->n++;
}

void pf_upload__list_free(struct upload_list *list)
{
	for (size_t i = 0; i < list->n; i++) {
		free(list->files[i].path);
		free(list->files[i].key);
	}
	free(list->files);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directories from the walk's root down to the one being read: a
 * directory that is its own ancestor (through a symlink) is a loop. */
struct walk_stack {
	dev_t dev[UPLOAD_MAX_DEPTH];
	ino_t ino[UPLOAD_MAX_DEPTH];
	int depth;
};

/* Adds the photos under dir (rel is their key prefix relative to the root,
 * "" or ending in '/'), in name order so runs are reproducible. Problems
 * with single entries are warnings: the rest of the tree still goes up. */
static void walk_dir(struct upload_list *list, const char *prefix, const char *dir, const char *rel,
                     struct walk_stack *stack)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		fprintf(stderr, "photofinish upload: skipping %s: %s\n", dir, strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		/* Hidden entries are editors' and cameras' housekeeping (.DS_Store, .thumbnails).
		 */
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			names = pf_xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = pf_xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), compare_names);

	for (size_t i = 0; i < n; i++) {
		char *path = path_join(dir, names[i]);
		struct stat st;

		/* stat, not lstat: symlinks are followed, loops are caught below. */
		if (stat(path, &st) < 0) {
			fprintf(stderr, "photofinish upload: skipping %s: %s\n", path,
			        strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			bool loop = false;

			for (int k = 0; k < stack->depth; k++) {
				if (stack->dev[k] == st.st_dev && stack->ino[k] == st.st_ino)
					loop = true;
			}
			if (loop) {
				fprintf(stderr,
				        "photofinish upload: skipping %s: symlink loop (it leads "
				        "back to a directory above it)\n",
				        path);
			} else if (stack->depth == UPLOAD_MAX_DEPTH) {
				fprintf(stderr,
				        "photofinish upload: skipping %s: nested more than %d "
				        "directories deep\n",
				        path, UPLOAD_MAX_DEPTH);
			} else {
				char *sub = pf_xasprintf("%s%s/", rel, names[i]);

				stack->dev[stack->depth] = st.st_dev;
				stack->ino[stack->depth] = st.st_ino;
				stack->depth++;
				walk_dir(list, prefix, path, sub, stack);
				stack->depth--;
				free(sub);
			}
		} else if (S_ISREG(st.st_mode) && pf_upload__content_type(names[i])) {
			list_add(list, path, pf_xasprintf("%s%s%s", prefix, rel, names[i]),
			         st.st_size);
			path = NULL;
		} else if (S_ISREG(st.st_mode)) {
			list->ignored++;
		}
		free(path);
		free(names[i]);
	}
	free(names);
}

/* Adds what one command-line argument names. Returns 0, or -1 (with a
 * message on stderr) when the argument itself is unusable. */
int pf_upload__collect(struct upload_list *list, const char *prefix, const char *arg)
{
	struct stat st;
	const char *base;

	if (stat(arg, &st) < 0) {
		fprintf(stderr, "photofinish upload: %s: %s\n", arg, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		struct walk_stack stack = {.depth = 1};

		stack.dev[0] = st.st_dev;
		stack.ino[0] = st.st_ino;
		walk_dir(list, prefix, arg, "", &stack);
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "photofinish upload: %s: not a regular file or directory\n", arg);
		return -1;
	}
	base = strrchr(arg, '/');
	base = base ? base + 1 : arg;
	if (!pf_upload__content_type(base)) {
		fprintf(stderr,
		        "photofinish upload: %s: not a photo (expected .jpg .jpeg .png .webp .tif "
		        ".tiff)\n",
		        arg);
		return -1;
	}
	list_add(list, pf_xstrdup(arg), pf_xasprintf("%s%s", prefix, base), st.st_size);
	return 0;
}

static int compare_files_by_key(const void *a, const void *b)
{
	const struct upload_file *x = *(const struct upload_file *const *)a;
	const struct upload_file *y = *(const struct upload_file *const *)b;

	return strcmp(x->key, y->key);
}

/* Two files with the same key would overwrite each other (two cameras both
 * writing IMG_0001.JPG): refuse the run rather than lose a photo. Also
 * checks the S3 key length. Returns the number of problems printed. */
int pf_upload__check_keys(const struct upload_list *list)
{
	struct upload_file **sorted;
	int problems = 0;

	if (list->n == 0)
		return 0;
	sorted = pf_xmalloc(list->n * sizeof(*sorted));
	for (size_t i = 0; i < list->n; i++)
		sorted[i] = &list->files[i];
	qsort(sorted, list->n, sizeof(*sorted), compare_files_by_key);
	for (size_t i = 0; i < list->n; i++) {
		if (strlen(sorted[i]->key) > UPLOAD_MAX_KEY) {
			fprintf(stderr,
			        "photofinish upload: %s: the key would be longer than %d bytes\n",
			        sorted[i]->path, UPLOAD_MAX_KEY);
			problems++;
		}
		if (i > 0 && !strcmp(sorted[i - 1]->key, sorted[i]->key)) {
			fprintf(stderr,
			        "photofinish upload: %s and %s would both be uploaded as \"%s\"; "
			        "upload them in separate runs with different --prefix values\n",
			        sorted[i - 1]->path, sorted[i]->path, sorted[i]->key);
			problems++;
		}
	}
	free(sorted);
	return problems;
}
