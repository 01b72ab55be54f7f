/*
 * Private to src/aws: the small XML tree S3 responses and S3 error
 * documents are read with (xml.c). Pure; any thread.
 */
#ifndef PHOTOFINISH_SRC_AWS_XML_INT_H
#define PHOTOFINISH_SRC_AWS_XML_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "photofinish/util.h"

/* One element: its name, its text (concatenated), its children in order. */
struct pf_aws__xml {
	char *name;
	struct pf_buf text;
	struct pf_aws__xml *parent;
	struct pf_aws__xml *child;
	struct pf_aws__xml *last;
	struct pf_aws__xml *next;
};

/* The document's root element, or NULL when it is empty, not well-formed,
 * carries a DOCTYPE or nests deeper than 32 levels. Free with xml_free. */
struct pf_aws__xml *pf_aws__xml_parse(const char *xml, size_t len);
/* Frees n, its children and its following siblings; NULL is fine. */
void pf_aws__xml_free(struct pf_aws__xml *n);

/* The first child of n named name, or NULL. */
struct pf_aws__xml *pf_aws__xml_child(const struct pf_aws__xml *n, const char *name);
/* The text of that child ("" when empty), or NULL when there is none. */
const char *pf_aws__xml_text(const struct pf_aws__xml *n, const char *child);
/* The same, malloc'd. */
char *pf_aws__xml_dup(const struct pf_aws__xml *n, const char *child);
/* Depth-first: n, its descendants, then its following siblings. */
const struct pf_aws__xml *pf_aws__xml_find(const struct pf_aws__xml *n, const char *name);

/* Text of the first element named `name` (at any depth) in a document;
 * *out malloc'd. Returns false when absent or not well-formed. */
bool pf_aws__xml_find_text(const char *xml, size_t len, const char *name, char **out);

/* S3 error document <Error><Code/><Message/><RequestId/></Error>, each
 * field truncated to its buffer. False when body is not one. */
bool pf_aws__xml_parse_error(const char *xml, size_t len, char *code, size_t code_size,
                             char *message, size_t message_size, char *request_id,
                             size_t request_id_size);

#endif
