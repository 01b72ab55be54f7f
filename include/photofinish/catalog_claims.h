/*
 * Runners' claims ("this is me"): a runner says a photo shows them under a
 * code; an operator approves (the code is then added to the photo) or
 * rejects. Stored beside the photos:
 *
 *   pk                 sk                   item
 *   CLAIM#<claim id>   CLAIM                the claim: id, photo, code, state, at
 *   CLAIMS#<state>     <at>#<claim id>      its listing entry in its state's queue
 *
 * A claim's id is derived from photo and code, so claiming the same photo
 * for the same code again finds the same claim. Every state change moves
 * the listing entry in one transaction conditioned on the state read. A
 * clear deletes claims with the photos. Loop thread only, with the AWS
 * client's callback contract; the helpers are pure.
 */
#ifndef PHOTOFINISH_CATALOG_CLAIMS_H
#define PHOTOFINISH_CATALOG_CLAIMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "photofinish/catalog.h"
#include "photofinish/error.h"

#define PF_CATALOG_CLAIM_ID_LEN 32
#define PF_CATALOG_MAX_CLAIMS_PAGE 100

enum pf_claim_state { PF_CLAIM_PENDING, PF_CLAIM_APPROVED, PF_CLAIM_REJECTED };

struct pf_catalog_claim {
	char id[PF_CATALOG_CLAIM_ID_LEN + 1];
	char photo[PF_CATALOG_ID_LEN + 1];
	char code[65];
	enum pf_claim_state state;
	char at[32]; /* RFC 3339 with milliseconds, when it was made */
};

/* "pending", "approved", "rejected". */
const char *pf_catalog_claim_state_name(enum pf_claim_state s);
/* False when name is none of them. */
bool pf_catalog_claim_state_parse(const char *name, enum pf_claim_state *out);
/* The id of the claim of photo for code. */
void pf_catalog_claim_id(const char *photo, const char *code,
                         char out[PF_CATALOG_CLAIM_ID_LEN + 1]);

/* claim borrowed for the callback; NULL (err->code 0) when there is none. */
typedef void (*pf_catalog_claim_cb)(const struct pf_catalog_claim *claim, bool created,
                                    const struct pf_error *err, void *arg);
/* Records a pending claim of photo for code (normalised) made at at_ms; when
 * that claim exists already, answers it as it is (created false). */
int pf_catalog_claim_add(struct pf_catalog *cat, const char *photo, const char *code, int64_t at_ms,
                         pf_catalog_claim_cb cb, void *arg, struct pf_error *err);
int pf_catalog_claim_get(struct pf_catalog *cat, const char *id, pf_catalog_claim_cb cb, void *arg,
                         struct pf_error *err);
/* Moves a pending claim to state; PF_ECONFLICT when it is not pending any
 * more. The claim answered is the moved one. */
int pf_catalog_claim_decide(struct pf_catalog *cat, const struct pf_catalog_claim *claim,
                            enum pf_claim_state state, pf_catalog_claim_cb cb, void *arg,
                            struct pf_error *err);

/* A page of a state's claims, newest first. Borrowed for the callback. */
typedef void (*pf_catalog_claims_cb)(const struct pf_catalog_claim *claims, size_t n,
                                     const char *next_cursor, const struct pf_error *err,
                                     void *arg);
int pf_catalog_claims_list(struct pf_catalog *cat, enum pf_claim_state state, int limit,
                           const char *cursor, pf_catalog_claims_cb cb, void *arg,
                           struct pf_error *err);

#endif
