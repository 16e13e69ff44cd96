/* The reading state of one rollout file, as the Python reader keeps it
 * (codex_credits/io/rollout_records.py, FileState and FileResult). */
#ifndef ROLLSCAN_ROLLSTATE_H
#define ROLLSCAN_ROLLSTATE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "jscan.h"

/* What a step returns: go on, decline the file (the Python reader reads it), or a
 * Python exception is set. */
#define GO 0
#define DECLINE 1
#define RAISED (-1)

#define MAX_LIMITS 16

typedef struct {
    long long ts_us;
    long long usage[5];
    Py_hash_t key_totals, key_full;
    PyObject *model, *session, *project, *response_id; /* new references or NULL (None) */
    int fast, suspect, is_record, dropped, has_paired;
    long long tools, line, cache_write;
    Py_hash_t paired_full, paired_totals; /* the token_count a record stands for */
} cand_t;

typedef struct {
    char limit_id[64]; /* the limit's id, when has_id */
    Py_ssize_t id_len;
    int has_id, window; /* window: 0 primary, 1 secondary */
    long long ts_us, minutes, resets_at, used_i;
    int has_reset, used_is_float;
    char used_text[40]; /* a float's text, converted at the end */
    char plan[64];
    Py_ssize_t plan_len;
    int has_plan;
} limit_t;

typedef struct {
    /* given */
    PyObject *path, *loads, *parse_ts, *bad_line_error;
    long long max_tokens, min_seconds, max_seconds;
    /* FileState */
    PyObject *session, *root_id, *project, *model; /* new references or NULL (None) */
    int fast, forked, replay, observing, has_prev;
    long long replay_us, start_us, prev[5];
    Py_ssize_t last; /* index into cands, or -1 */
    long long pending_tools;
    PyObject *responses; /* response id -> index into cands */
    cand_t *cands;
    Py_ssize_t ncands, cap;
    limit_t limits[MAX_LIMITS];
    int nlimits;
    /* FileResult */
    long long lines, token_counts, repeats, resets, records, unknown, duplicate_records;
    PyObject *bad; /* [(line, 0 not JSON | 1 not an object)] */
} st_t;

/* Prepare the key tables (once, when the module loads). */
void roll_init(void);

/* A block of lines: roll_scan reads lines from p on (without the GIL, no Python
 * call) until the block is full or the data ends, and returns where it stopped;
 * roll_apply then applies the block's records to the state (with the GIL): GO,
 * DECLINE or RAISED. */
typedef struct roll_block roll_block;
roll_block *roll_block_new(void);
void roll_block_free(roll_block *block);
const char *roll_scan(st_t *st, roll_block *block, const char *p, const char *end);
int roll_apply(st_t *st, const roll_block *block);

/* Replace each token_count by the per-response record of the same usage, as
 * rollout_parse._pair_records does; RAISED when out of memory. */
int roll_pair_records(st_t *st);

/* rollout_fields.stable_key: BLAKE2b of the UTF-8 text, 8 bytes, as a signed int. */
long long roll_stable_key(const char *text, size_t n);

/* Python's hash of an int of 64 bits, and of a tuple whose items hash to `lanes`. */
Py_uhash_t roll_hash_int(long long v);
Py_uhash_t roll_hash_tuple(const Py_uhash_t *lanes, int n);

/* A token count's keys, as rollout_parse computes them: hash((total or (), last)) and
 * hash((ts_us, total or (), last)); `total` NULL for a missing running total. */
void roll_request_keys(long long ts_us, const long long *total, const long long *last,
                       Py_hash_t *totals, Py_hash_t *full);

#endif
