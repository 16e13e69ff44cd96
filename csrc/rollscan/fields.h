/* What the rules read from a line: the keys asked for at each level, and the
 * helpers that turn their values into the reader's values (fields.c, keys.c). */
#ifndef ROLLSCAN_FIELDS_H
#define ROLLSCAN_FIELDS_H

#include "rollstate.h"

enum { T_TYPE, T_PAYLOAD, T_TS, N_TOP };
enum {
    P_TYPE, P_INFO, P_LIMITS, P_MODEL, P_CWD, P_TIER, P_SETTINGS, P_ID, P_TS, P_FORKED,
    P_PARENT, P_THREAD_SOURCE, P_SOURCE, P_USAGE, P_RESPONSE, N_PAY
};
enum { I_TOTAL, I_LAST, I_MODEL, N_INFO };
enum { U_IN, U_CACHED, U_OUT, U_REASONING, U_TOTAL, U_CACHE_WRITE, N_USAGE };
enum { L_ID, L_PLAN, L_PRIMARY, L_SECONDARY, L_PRIMARY_FLAT, L_SECONDARY_FLAT, N_LIMIT };
enum { W_MINUTES, W_USED, W_RESETS_AT, W_IN, W_AFTER, N_WINDOW };

/* Where each level's values start in a line's array of values (keys.c). */
enum {
    B_TOP = 0,
    B_PAY = B_TOP + N_TOP,
    B_INFO = B_PAY + N_PAY,
    B_TOTAL = B_INFO + N_INFO,
    B_LAST = B_TOTAL + N_USAGE,
    B_RECORD = B_LAST + N_USAGE,
    B_LIMITS = B_RECORD + N_USAGE,
    B_PRIMARY = B_LIMITS + N_LIMIT,
    B_SECONDARY = B_PRIMARY + N_WINDOW,
    B_SETTINGS = B_SECONDARY + N_WINDOW,
    B_SOURCE = B_SETTINGS + 1,
    N_VALS = B_SOURCE + 1
};

extern jkeys TOP_KEYS, PAY_KEYS, INFO_KEYS, TOTAL_USAGE_KEYS, LAST_USAGE_KEYS,
    RECORD_USAGE_KEYS, LIMIT_KEYS, PRIMARY_KEYS, SECONDARY_KEYS, SETTINGS_KEYS, SOURCE_KEYS;

#define MAX_WINDOW_MINUTES 10000000LL
#define MAX_PERCENT 1000
#define REPLAY_SPAN_US 2000000LL
#define STR_CAP 4096 /* longer texts (a model, a path, an id) decline the file */

#define PROPAGATE(expr)                                                                   \
    do {                                                                                  \
        int rc_ = (expr);                                                                 \
        if (rc_ != GO) return rc_;                                                        \
    } while (0)

int is_none(const jval *v);
Py_uhash_t hash_usage(const long long *u);
/* The decoded text of a J_STR into buf (STR_CAP bytes); DECLINE when too long. */
int text(const jval *v, char *buf, Py_ssize_t *len);
/* Replace *slot by the text (reusing it when equal). */
int set_jtext(PyObject **slot, const jval *v);
/* `cwd.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or None` */
int set_project(PyObject **slot, const jval *cwd);
int is_fast_tier(const jval *v);
int is_tool(const jval *v);
/* parse_ts(stamp): GO, DECLINE (the Python reader raises BadLine), or RAISED. */
int timestamp(st_t *st, const jval *v, long long *us);
/* usage(value): GO with *present, DECLINE for what the Python reader would report;
 * `fields` are the values of the object's keys (read only when it is an object). */
int usage(st_t *st, const jval *v, const jval *fields, long long out[5], long long *cache_write,
          int *present);

/* The records (records.c), each given the line's values: GO, DECLINE or RAISED. */
int token_count(st_t *st, const jval *v, long long line);
int usage_record(st_t *st, const jval *v, long long line);
int turn_context(st_t *st, const jval *v);
int session_meta(st_t *st, const jval *v);
int thread_settings(st_t *st, const jval *v);
/* A line the scanner is not sure of: the Python decoder decides. */
int undecided(st_t *st, const char *p, const char *raw_end, long long line);

#endif
