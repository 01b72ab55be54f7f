/*
 * A small XML tree for AWS responses (S3's REST API and error documents),
 * built with expat. Pure; any thread. Guarantees: a DOCTYPE (so any entity)
 * or nesting deeper than 32 levels is refused rather than parsed; the tree
 * holds only element names and text.
 */
#include <expat.h>
#include <stdlib.h>
#include <string.h>

#include "aws/xml_int.h"
#include "photofinish/util.h"

#define XML_MAX_DEPTH 32

struct xparse {
	XML_Parser parser;
	struct pf_aws__xml *root;
	struct pf_aws__xml *cur;
	int depth;
	bool failed;
};

void pf_aws__xml_free(struct pf_aws__xml *n)
{
	while (n) {
		struct pf_aws__xml *next = n->next;

		pf_aws__xml_free(n->child);
		free(n->name);
		pf_buf_free(&n->text);
		free(n);
		n = next;
	}
}

static void on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct xparse *x = ud;
	struct pf_aws__xml *n;

	if (x->failed)
		return;
	if (++x->depth > XML_MAX_DEPTH || (!x->cur && x->root)) {
		x->failed = true;
		XML_StopParser(x->parser, XML_FALSE);
		return;
	}
	n = pf_xcalloc(1, sizeof(*n));
	n->name = pf_xstrdup(name);
	pf_buf_init(&n->text);
	n->parent = x->cur;
	if (!x->cur) {
		x->root = n;
	} else {
		if (x->cur->last)
			x->cur->last->next = n;
		else
			x->cur->child = n;
		x->cur->last = n;
	}
	x->cur = n;
}

static void on_end(void *ud, const XML_Char *name)
{
	struct xparse *x = ud;

	if (x->failed || !x->cur)
		return;
	x->depth--;
	x->cur = x->cur->parent;
}

static void on_text(void *ud, const XML_Char *s, int len)
{
	struct xparse *x = ud;

	if (!x->failed && x->cur && len > 0)
		pf_buf_append(&x->cur->text, s, (size_t)len);
}

static void on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
                       int has_internal_subset)
{
	struct xparse *x = ud;

	/* AWS never sends one; refusing it rules out entity tricks */
	x->failed = true;
	XML_StopParser(x->parser, XML_FALSE);
}

struct pf_aws__xml *pf_aws__xml_parse(const char *xml, size_t len)
{
	struct xparse x;

	if (!xml || len == 0 || len > INT32_MAX)
		return NULL;
	memset(&x, 0, sizeof(x));
	x.parser = XML_ParserCreate("UTF-8");
	if (!x.parser)
		return NULL;
	XML_SetUserData(x.parser, &x);
	XML_SetElementHandler(x.parser, on_start, on_end);
	XML_SetCharacterDataHandler(x.parser, on_text);
	XML_SetStartDoctypeDeclHandler(x.parser, on_doctype);
	if (XML_Parse(x.parser, xml, (int)len, XML_TRUE) != XML_STATUS_OK || x.failed || !x.root) {
		pf_aws__xml_free(x.root);
		x.root = NULL;
	}
	XML_ParserFree(x.parser);
	return x.root;
}

struct pf_aws__xml *pf_aws__xml_child(const struct pf_aws__xml *n, const char *name)
{
	for (struct pf_aws__xml *c = n ? n->child : NULL; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const char *pf_aws__xml_text(const struct pf_aws__xml *n, const char *child)
{
	const struct pf_aws__xml *c = pf_aws__xml_child(n, child);

	if (!c)
		return NULL;
	return c->text.data ? c->text.data : "";
}

char *pf_aws__xml_dup(const struct pf_aws__xml *n, const char *child)
{
	const char *t = pf_aws__xml_text(n, child);

	return t ? pf_xstrdup(t) : NULL;
}

const struct pf_aws__xml *pf_aws__xml_find(const struct pf_aws__xml *n, const char *name)
{
	for (; n; n = n->next) {
		const struct pf_aws__xml *f;

		if (strcmp(n->name, name) == 0)
			return n;
		f = pf_aws__xml_find(n->child, name);
		if (f)
			return f;
	}
	return NULL;
}

static void copy_text(char *dst, size_t size, const char *src)
{
	pf_copy_truncated(dst, size, src, src ? strlen(src) : 0);
}

bool pf_aws__xml_parse_error(const char *xml, size_t len, char *code, size_t code_size,
                             char *message, size_t message_size, char *request_id,
                             size_t request_id_size)
{
	struct pf_aws__xml *root = pf_aws__xml_parse(xml, len);
	bool ok = false;

	code[0] = '\0';
	message[0] = '\0';
	request_id[0] = '\0';
	if (root && strcmp(root->name, "Error") == 0) {
		copy_text(code, code_size, pf_aws__xml_text(root, "Code"));
		copy_text(message, message_size, pf_aws__xml_text(root, "Message"));
		copy_text(request_id, request_id_size, pf_aws__xml_text(root, "RequestId"));
		ok = code[0] != '\0';
	}
	pf_aws__xml_free(root);
	return ok;
}

bool pf_aws__xml_find_text(const char *xml, size_t len, const char *name, char **out)
{
	struct pf_aws__xml *root = pf_aws__xml_parse(xml, len);
	const struct pf_aws__xml *n = pf_aws__xml_find(root, name);

	*out = n ? pf_xstrdup(n->text.data ? n->text.data : "") : NULL;
	pf_aws__xml_free(root);
	return *out != NULL;
}
