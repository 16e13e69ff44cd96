/* A file's candidates kept as C values (codex_credits._rollscan.Candidates), and one
 * candidate as the de-duplication reads it, whichever form it came in. */
#ifndef ROLLSCAN_CANDIDATES_H
#define ROLLSCAN_CANDIDATES_H

#include "rollstate.h"

/* A read-only sequence of packed candidates (rollout_records.Candidate.pack()
 * tuples, made on demand); pickles as a list of them. */
typedef struct {
    PyObject_HEAD
    cand_t *items; /* owned, with their references */
    Py_ssize_t n;
    PyObject *path;
} Candidates;

extern PyTypeObject CandidatesType;

/* The kept (not paired away) candidates of the state, moved into a new object. */
PyObject *candidates_take(st_t *st);

/* One candidate as rollout_dedupe reads it. References are borrowed. */
typedef struct {
    long long ts_us, usage[5], key_full, key_totals, tools, cache_write, line;
    long long paired_full, paired_totals;
    int fast, suspect, has_response, has_paired;
    PyObject *model, *session, *project, *path;
} cin_t;

/* From a packed tuple: 0, or -1 with a Python error. */
int cin_from_tuple(PyObject *cand, cin_t *out);
/* From a candidate of a Candidates object. */
void cin_from_cand(const cand_t *c, PyObject *path, cin_t *out);

#endif
