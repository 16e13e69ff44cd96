/* The rules of one rollout line, as codex_credits/io/rollout_parse.py states them.
 *
 * Only the usual shapes are handled here. A line the Python reader would report
 * as a problem (a bad usage object, a bad plan window, a bad timestamp), or a
 * shape this file does not handle (flat rate-limit fields, a float reset time),
 * declines the whole file, and the Python reader reads it instead: the two never
 * disagree, because this file only ever does what the Python reader does.
 */
#include "rollstate.h"

#include <string.h>

static const char *const TOP_NAMES[] = {"type", "payload", "timestamp"};
enum { T_TYPE, T_PAYLOAD, T_TS, N_TOP };
static const char *const PAY_NAMES[] = {
    "type",   "info",      "rate_limits",    "model",          "cwd",
    "service_tier", "thread_settings", "id", "timestamp", "forked_from_id",
    "parent_thread_id", "thread_source", "source", "usage", "response_id"};
enum {
    P_TYPE, P_INFO, P_LIMITS, P_MODEL, P_CWD, P_TIER, P_SETTINGS, P_ID, P_TS, P_FORKED,
    P_PARENT, P_THREAD_SOURCE, P_SOURCE, P_USAGE, P_RESPONSE, N_PAY
};
static const char *const INFO_NAMES[] = {"total_token_usage", "last_token_usage", "model"};
enum { I_TOTAL, I_LAST, I_MODEL, N_INFO };
static const char *const USAGE_NAMES[] = {
    "input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens",
    "total_tokens", "cache_write_input_tokens"};
enum { U_IN, U_CACHED, U_OUT, U_REASONING, U_TOTAL, U_CACHE_WRITE, N_USAGE };
static const char *const LIMIT_NAMES[] = {"limit_id", "plan_type", "primary", "secondary",
                                          "primary_used_percent", "secondary_used_percent"};
enum { L_ID, L_PLAN, L_PRIMARY, L_SECONDARY, L_PRIMARY_FLAT, L_SECONDARY_FLAT, N_LIMIT };
static const char *const WINDOW_NAMES[] = {"window_minutes", "used_percent", "resets_at",
                                           "resets_in_seconds", "reset_after_seconds"};
enum { W_MINUTES, W_USED, W_RESETS_AT, W_IN, W_AFTER, N_WINDOW };
static const char *const TIER_NAMES[] = {"service_tier"};
static const char *const SUBAGENT_NAMES[] = {"subagent"};

#define KEYS(names) {names, (int)(sizeof names / sizeof names[0]), {0}}
static jkeys TOP_KEYS = KEYS(TOP_NAMES), PAY_KEYS = KEYS(PAY_NAMES),
                   INFO_KEYS = KEYS(INFO_NAMES), USAGE_KEYS = KEYS(USAGE_NAMES),
                   LIMIT_KEYS = KEYS(LIMIT_NAMES), WINDOW_KEYS = KEYS(WINDOW_NAMES),
                   TIER_KEYS = KEYS(TIER_NAMES), SUBAGENT_KEYS = KEYS(SUBAGENT_NAMES);

void roll_init(void) {
    jscan_init();
    jkeys *all[] = {&TOP_KEYS,    &PAY_KEYS,   &INFO_KEYS, &USAGE_KEYS,
                    &LIMIT_KEYS,  &WINDOW_KEYS, &TIER_KEYS, &SUBAGENT_KEYS};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) jkeys_init(all[i]);
}

#define MAX_WINDOW_MINUTES 10000000LL
#define MAX_PERCENT 1000
#define REPLAY_SPAN_US 2000000LL
#define STR_CAP 4096 /* longer texts (a model, a path, an id) decline the file */

#define PROPAGATE(expr)                                                                   \
    do {                                                                                  \
        int rc_ = (expr);                                                                 \
        if (rc_ != GO) return rc_;                                                        \
    } while (0)

/* -- hashing, as Python hashes ints and tuples -------------------------------------- */

#define XXPRIME_1 ((Py_uhash_t)11400714785074694791ULL)
#define XXPRIME_2 ((Py_uhash_t)14029467366897019727ULL)
#define XXPRIME_5 ((Py_uhash_t)2870177450012600261ULL)

Py_uhash_t roll_hash_int(long long v) {
    const unsigned long long modulus = (1ULL << 61) - 1;
    unsigned long long m = (v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v);
    long long h = (long long)(m % modulus);
    if (v < 0) h = -h;
    if (h == -1) h = -2;
    return (Py_uhash_t)h;
}

Py_uhash_t roll_hash_tuple(const Py_uhash_t *lanes, int n) {
    Py_uhash_t acc = XXPRIME_5;
    for (int i = 0; i < n; i++) {
        acc += lanes[i] * XXPRIME_2;
        acc = (acc << 31) | (acc >> 33);
        acc *= XXPRIME_1;
    }
    acc += (Py_uhash_t)n ^ (XXPRIME_5 ^ 3527539UL);
    if (acc == (Py_uhash_t)-1) return 1546275796;
    return acc;
}

static Py_uhash_t hash_usage(const long long *u) {
    Py_uhash_t lanes[5];
    for (int i = 0; i < 5; i++) lanes[i] = roll_hash_int(u[i]);
    return roll_hash_tuple(lanes, 5);
}

/* -- values ---------------------------------------------------------------------- */

static int is_none(const jval *v) { return v->t == J_MISSING || v->t == J_NULL; }

/* The decoded text of a J_STR into buf; DECLINE when too long. */
static int text(const jval *v, char *buf, Py_ssize_t *len) {
    ptrdiff_t n = jstr_decode(v, buf, STR_CAP);
    if (n < 0) return DECLINE;
    *len = n;
    return GO;
}

/* Replace *slot by the text (reusing it when equal); RAISED on a Python error. */
static int set_text(PyObject **slot, const char *s, Py_ssize_t n) {
    if (*slot) {
        Py_ssize_t have;
        const char *utf8 = PyUnicode_AsUTF8AndSize(*slot, &have);
        if (!utf8) return RAISED;
        if (have == n && memcmp(utf8, s, (size_t)n) == 0) return GO;
    }
    PyObject *obj = PyUnicode_DecodeUTF8(s, n, "strict");
    if (!obj) return RAISED;
    Py_XSETREF(*slot, obj);
    return GO;
}

static int set_jtext(PyObject **slot, const jval *v) {
    char buf[STR_CAP];
    Py_ssize_t n;
    PROPAGATE(text(v, buf, &n));
    return set_text(slot, buf, n);
}

/* `cwd.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or None` */
static int set_project(PyObject **slot, const jval *cwd) {
    char buf[STR_CAP];
    Py_ssize_t n;
    PROPAGATE(text(cwd, buf, &n));
    for (Py_ssize_t i = 0; i < n; i++)
        if (buf[i] == '\\') buf[i] = '/';
    while (n > 0 && buf[n - 1] == '/') n--;
    Py_ssize_t start = n;
    while (start > 0 && buf[start - 1] != '/') start--;
    if (start == n) {
        Py_CLEAR(*slot);
        return GO;
    }
    return set_text(slot, buf + start, n - start);
}

static int is_fast_tier(const jval *v) { return jstr_eq(v, "priority") || jstr_eq(v, "fast"); }

static long long days_from_civil(long long y, unsigned m, unsigned d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static int digits(const char *s, int n, long long *out) {
    long long v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* YYYY-MM-DDTHH:MM:SS[.fff|.ffffff](Z|+00:00), the form the CLI writes; 0 if not. */
static int ts_fast(const char *s, Py_ssize_t n, long long *us) {
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    long long y, mo, d, h, mi, sec, frac = 0;
    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return 0;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
        return 0;
    Py_ssize_t i = 19;
    if (s[i] == '.') {
        Py_ssize_t j = i + 1;
        while (j < n && s[j] >= '0' && s[j] <= '9') j++;
        int k = (int)(j - i - 1);
        if (k != 3 && k != 6) return 0;
        digits(s + i + 1, k, &frac);
        if (k == 3) frac *= 1000;
        i = j;
    }
    if (!((n - i == 1 && s[i] == 'Z') || (n - i == 6 && memcmp(s + i, "+00:00", 6) == 0)))
        return 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59) return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > dim[mo - 1] + (mo == 2 && leap)) return 0;
    long long days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *us = ((days * 86400 + h * 3600 + mi * 60 + sec) * 1000000LL) + frac;
    return 1;
}

/* parse_ts(stamp): GO with *us, DECLINE when the Python reader raises BadLine (or the
 * text is too long), RAISED on any other error. */
static int timestamp(st_t *st, const jval *v, long long *us) {
    char buf[STR_CAP];
    Py_ssize_t n;
    PROPAGATE(text(v, buf, &n));
    if (ts_fast(buf, n, us)) return GO;
    PyObject *stamp = PyUnicode_DecodeUTF8(buf, n, "strict");
    if (!stamp) return RAISED;
    PyObject *got = PyObject_CallOneArg(st->parse_ts, stamp);
    Py_DECREF(stamp);
    if (!got) {
        if (PyErr_ExceptionMatches(st->bad_line_error)) {
            PyErr_Clear();
            return DECLINE;
        }
        return RAISED;
    }
    *us = PyLong_AsLongLong(got);
    Py_DECREF(got);
    return (*us == -1 && PyErr_Occurred()) ? RAISED : GO;
}

/* usage(value): GO with *present (0 for None), DECLINE for anything the Python reader
 * would report or that this file does not read. */
static int usage(st_t *st, const jval *v, long long out[5], long long *cache_write,
                 int *present) {
    jval f[N_USAGE];
    *present = 0;
    *cache_write = 0;
    if (is_none(v)) return GO;
    if (v->t != J_OBJ || !jscan_fields(v, &USAGE_KEYS, f)) return DECLINE;
    for (int k = U_IN; k <= U_REASONING; k++) {
        if (is_none(&f[k]))
            out[k] = 0;
        else if (f[k].t == J_INT && f[k].i >= 0 && f[k].i <= st->max_tokens)
            out[k] = f[k].i;
        else
            return DECLINE;
    }
    if (out[U_CACHED] > out[U_IN]) return DECLINE;
    out[4] = (f[U_TOTAL].t == J_INT && f[U_TOTAL].i >= 0) ? f[U_TOTAL].i
                                                           : out[U_IN] + out[U_OUT];
    const jval *cw = &f[U_CACHE_WRITE];
    if (cw->t == J_INT && cw->i >= 0) {
        if (cw->i > st->max_tokens) return DECLINE;
        *cache_write = cw->i;
    }
    *present = 1;
    return GO;
}

/* -- candidates ------------------------------------------------------------------ */

static int new_candidate(st_t *st, long long ts_us, const long long *use, Py_hash_t totals,
                         Py_hash_t full, long long line, PyObject *response_id,
                         long long cache_write, int is_record) {
    if (st->ncands == st->cap) {
        Py_ssize_t cap = st->cap ? st->cap * 2 : 64;
        cand_t *grown = PyMem_Realloc(st->cands, (size_t)cap * sizeof(cand_t));
        if (!grown) {
            PyErr_NoMemory();
            return RAISED;
        }
        st->cands = grown;
        st->cap = cap;
    }
    cand_t *c = &st->cands[st->ncands++];
    c->ts_us = ts_us;
    memcpy(c->usage, use, sizeof c->usage);
    c->key_totals = totals;
    c->key_full = full;
    c->model = Py_XNewRef(st->model);
    c->session = Py_XNewRef(st->session);
    c->project = Py_XNewRef(st->project);
    c->response_id = Py_XNewRef(response_id);
    c->fast = st->fast;
    c->suspect = st->replay || st->forked || ts_us < st->start_us;
    c->tools = st->pending_tools;
    st->pending_tools = 0;
    c->line = line;
    c->cache_write = cache_write;
    c->is_record = is_record;
    c->dropped = c->has_paired = 0;
    st->last = st->ncands - 1;
    return GO;
}

/* -- plan windows ------------------------------------------------------------------ */

static int window(st_t *st, const jval *w, long long ts_us, const jval *id, const jval *plan,
                  int which) {
    jval f[N_WINDOW];
    if (w->t != J_OBJ || !jscan_fields(w, &WINDOW_KEYS, f)) return DECLINE;
    const jval *minutes = &f[W_MINUTES], *used = &f[W_USED], *at = &f[W_RESETS_AT];
    if (minutes->t != J_INT || minutes->i <= 0 || minutes->i > MAX_WINDOW_MINUTES)
        return DECLINE;
    char used_text[40];
    size_t used_len = (size_t)(used->e - used->s);
    if (used->t == J_FLOAT) {
        /* kept as text, and converted once, for the file's latest window only */
        if (used_len >= sizeof used_text) return DECLINE;
        memcpy(used_text, used->s, used_len);
        used_text[used_len] = 0;
        const char *dot = memchr(used_text, '.', used_len);
        int plain = used_text[0] != '-' && !memchr(used_text, 'e', used_len) &&
                    !memchr(used_text, 'E', used_len) && dot && dot - used_text <= 3;
        if (!plain) { /* not plainly below 1000: compare the value */
            double value = PyOS_string_to_double(used_text, NULL, NULL);
            if (value == -1.0 && PyErr_Occurred()) return RAISED;
            if (!(value >= 0 && value <= MAX_PERCENT)) return DECLINE;
        }
    } else if (used->t != J_INT || used->i < 0 || used->i > MAX_PERCENT) {
        return DECLINE;
    }
    long long resets_at = 0;
    int has_reset = 1;
    if (at->t == J_INT) {
        resets_at = at->i;
    } else if (is_none(at)) {
        const jval *after = is_none(&f[W_IN]) ? &f[W_AFTER] : &f[W_IN];
        if (is_none(after)) {
            has_reset = 0;
        } else {
            if (after->t != J_INT || after->i < -st->max_seconds || after->i > st->max_seconds)
                return DECLINE;
            long long secs = ts_us / 1000000LL - (ts_us % 1000000LL < 0); /* floor */
            resets_at = secs + after->i;
        }
    } else {
        return DECLINE;
    }
    if (has_reset && (resets_at < st->min_seconds || resets_at > st->max_seconds)) return DECLINE;
    /* the file's latest window of this limit */
    char id_buf[64], plan_buf[64];
    Py_ssize_t id_len = 0, plan_len = 0;
    int has_id = id->t == J_STR, has_plan = plan->t == J_STR;
    if (has_id && (id->e - id->s > 64 || (id_len = jstr_decode(id, id_buf, 64)) < 0))
        return DECLINE;
    if (has_plan && (plan->e - plan->s > 64 || (plan_len = jstr_decode(plan, plan_buf, 64)) < 0))
        return DECLINE;
    limit_t *slot = NULL;
    for (int i = 0; i < st->nlimits; i++) {
        limit_t *l = &st->limits[i];
        if (l->window == which && l->has_id == has_id &&
            (!has_id || (l->id_len == id_len && memcmp(l->limit_id, id_buf, (size_t)id_len) == 0))) {
            slot = l;
            break;
        }
    }
    if (slot && slot->ts_us > ts_us) return GO;
    if (!slot) {
        if (st->nlimits == MAX_LIMITS) return DECLINE;
        slot = &st->limits[st->nlimits++];
        slot->window = which;
        slot->has_id = has_id;
        slot->id_len = id_len;
        memcpy(slot->limit_id, id_buf, (size_t)id_len);
    }
    slot->ts_us = ts_us;
    slot->minutes = minutes->i;
    slot->has_reset = has_reset;
    slot->resets_at = resets_at;
    slot->used_is_float = used->t == J_FLOAT;
    slot->used_i = used->i;
    if (slot->used_is_float) memcpy(slot->used_text, used_text, used_len + 1);
    slot->has_plan = has_plan;
    slot->plan_len = plan_len;
    memcpy(slot->plan, plan_buf, (size_t)plan_len);
    return GO;
}

static int rate_limits(st_t *st, const jval *limits, long long ts_us) {
    jval f[N_LIMIT];
    if (limits->t != J_OBJ) return GO; /* tolerated: never decides token usage */
    if (!jscan_fields(limits, &LIMIT_KEYS, f)) return DECLINE;
    for (int which = 0; which < 2; which++) {
        const jval *w = &f[L_PRIMARY + which];
        if (is_none(w)) {
            if (!is_none(&f[L_PRIMARY_FLAT + which])) return DECLINE; /* the oldest shape */
            continue;
        }
        PROPAGATE(window(st, w, ts_us, &f[L_ID], &f[L_PLAN], which));
    }
    return GO;
}

/* -- records ------------------------------------------------------------------------ */

static int token_count(st_t *st, const jval *top, const jval *pay, long long line) {
    long long ts_us = 0;
    int have_ts = 0;
    if (!is_none(&pay[P_LIMITS])) {
        if (top[T_TS].t != J_STR) return DECLINE;
        PROPAGATE(timestamp(st, &top[T_TS], &ts_us));
        have_ts = 1;
        if (st->observing && ts_us >= st->start_us) PROPAGATE(rate_limits(st, &pay[P_LIMITS], ts_us));
    }
    const jval *info_v = &pay[P_INFO];
    if (is_none(info_v)) return GO;
    jval info[N_INFO];
    if (info_v->t != J_OBJ || !jscan_fields(info_v, &INFO_KEYS, info)) return DECLINE;
    long long total[5], last[5], cache_write, ignored;
    int has_total, has_last;
    PROPAGATE(usage(st, &info[I_TOTAL], total, &ignored, &has_total));
    PROPAGATE(usage(st, &info[I_LAST], last, &cache_write, &has_last));
    if (!has_total && !has_last) return GO;
    st->token_counts++;
    if (!have_ts) {
        if (top[T_TS].t != J_STR) return DECLINE;
        PROPAGATE(timestamp(st, &top[T_TS], &ts_us));
    }
    const jval *model = jval_truthy(&info[I_MODEL]) ? &info[I_MODEL] : &pay[P_MODEL];
    if (model->t == J_STR && model->e > model->s) PROPAGATE(set_jtext(&st->model, model));
    if (has_total) {
        if (st->has_prev && memcmp(total, st->prev, sizeof total) == 0) {
            st->repeats++;
            return GO;
        }
        int had_prev = st->has_prev, dropped = 0;
        long long prev[5];
        memcpy(prev, st->prev, sizeof prev);
        memcpy(st->prev, total, sizeof total);
        st->has_prev = 1;
        if (had_prev)
            for (int i = 0; i < 5; i++) dropped |= total[i] < prev[i];
        if (dropped) st->resets++;
        if (!has_last) {
            for (int i = 0; i < 5; i++)
                last[i] = (!had_prev || dropped) ? total[i] : total[i] - prev[i];
            cache_write = 0;
        }
    }
    Py_uhash_t lanes[3];
    lanes[0] = roll_hash_int(ts_us);
    lanes[1] = has_total ? hash_usage(total) : roll_hash_tuple(NULL, 0);
    lanes[2] = hash_usage(last);
    Py_hash_t totals = (Py_hash_t)roll_hash_tuple(lanes + 1, 2);
    Py_hash_t full = (Py_hash_t)roll_hash_tuple(lanes, 3);
    return new_candidate(st, ts_us, last, totals, full, line, NULL, cache_write, 0);
}

static int usage_record(st_t *st, const jval *top, const jval *pay, long long line) {
    long long use[5], cache_write, ts_us;
    int present;
    PROPAGATE(usage(st, &pay[P_USAGE], use, &cache_write, &present));
    if (!present) return GO;
    if (top[T_TS].t != J_STR) return DECLINE;
    PROPAGATE(timestamp(st, &top[T_TS], &ts_us));
    const jval *model = &pay[P_MODEL];
    if (model->t == J_STR && model->e > model->s) PROPAGATE(set_jtext(&st->model, model));
    const jval *rid = &pay[P_RESPONSE];
    PyObject *response_id = NULL;
    Py_hash_t key;
    if (rid->t == J_STR && rid->e > rid->s) {
        PROPAGATE(set_jtext(&response_id, rid));
        PyObject *same = PyDict_GetItemWithError(st->responses, response_id);
        if (same) { /* the same response written twice in this file */
            st->last = PyLong_AsSsize_t(same);
            st->duplicate_records++;
            Py_DECREF(response_id);
            return GO;
        }
        if (PyErr_Occurred()) goto raised;
        Py_ssize_t len;
        const char *utf8 = PyUnicode_AsUTF8AndSize(response_id, &len);
        if (!utf8) goto raised;
        key = (Py_hash_t)roll_stable_key(utf8, (size_t)len);
    } else {
        Py_uhash_t lanes[3] = {roll_hash_int(ts_us), hash_usage(use), roll_hash_int(-1)};
        key = (Py_hash_t)roll_hash_tuple(lanes, 3);
    }
    if (new_candidate(st, ts_us, use, key, key, line, response_id, cache_write, 1) != GO)
        goto raised;
    if (response_id) {
        PyObject *index = PyLong_FromSsize_t(st->ncands - 1);
        if (!index || PyDict_SetItem(st->responses, response_id, index) < 0) {
            Py_XDECREF(index);
            goto raised;
        }
        Py_DECREF(index);
    }
    Py_XDECREF(response_id);
    st->records++;
    return GO;
raised:
    Py_XDECREF(response_id);
    return RAISED;
}

static int turn_context(st_t *st, const jval *top, const jval *pay) {
    if (!st->observing && top[T_TS].t == J_STR) {
        long long us;
        PROPAGATE(timestamp(st, &top[T_TS], &us));
        if (us > st->replay_us + REPLAY_SPAN_US) st->observing = 1;
    }
    const jval *model = &pay[P_MODEL];
    if (model->t == J_STR && model->e > model->s) PROPAGATE(set_jtext(&st->model, model));
    if (pay[P_TIER].t != J_MISSING) st->fast = is_fast_tier(&pay[P_TIER]);
    const jval *cwd = &pay[P_CWD];
    if (cwd->t == J_STR && cwd->e > cwd->s && !st->replay) PROPAGATE(set_project(&st->project, cwd));
    return GO;
}

static int names_parent(const jval *pay) {
    if (jval_truthy(&pay[P_FORKED]) || jval_truthy(&pay[P_PARENT])) return 1;
    if (jstr_eq(&pay[P_THREAD_SOURCE], "subagent")) return 1;
    if (pay[P_SOURCE].t == J_OBJ) {
        jval sub[1];
        if (!jscan_fields(&pay[P_SOURCE], &SUBAGENT_KEYS, sub)) return -1;
        return jval_truthy(&sub[0]);
    }
    return 0;
}

static int session_meta(st_t *st, const jval *top, const jval *pay) {
    PyObject *sid = NULL;
    const jval *id = &pay[P_ID];
    if (id->t == J_STR && id->e > id->s) PROPAGATE(set_jtext(&sid, id));
    if (!st->root_id) {
        int parent = names_parent(pay);
        if (parent < 0) {
            Py_XDECREF(sid);
            return DECLINE;
        }
        st->root_id = sid; /* stays NULL (None) without an id */
        if (sid) Py_XSETREF(st->session, Py_NewRef(sid));
        const jval *cwd = &pay[P_CWD];
        if (cwd->t == J_STR && cwd->e > cwd->s) PROPAGATE(set_project(&st->project, cwd));
        st->forked = parent;
        const jval *stamp = jval_truthy(&pay[P_TS]) ? &pay[P_TS] : &top[T_TS];
        if (stamp->t == J_STR) {
            long long us;
            int rc = timestamp(st, stamp, &us);
            if (rc == RAISED) return RAISED;
            if (rc == GO) st->start_us = us; /* a bad start time is ignored */
            else if (PyErr_Occurred()) return RAISED;
        }
        return GO;
    }
    int same = sid && PyUnicode_Compare(sid, st->root_id) == 0;
    Py_XDECREF(sid);
    if (PyErr_Occurred()) return RAISED;
    st->replay = !same;
    st->observing = !st->replay;
    if (st->replay) {
        if (top[T_TS].t == J_STR)
            PROPAGATE(timestamp(st, &top[T_TS], &st->replay_us));
        else
            st->replay_us = st->start_us;
    }
    return GO;
}

static int thread_settings(st_t *st, const jval *pay) {
    jval tier[1];
    if (pay[P_SETTINGS].t != J_OBJ) return GO;
    if (!jscan_fields(&pay[P_SETTINGS], &TIER_KEYS, tier)) return DECLINE;
    if (tier[0].t != J_MISSING) st->fast = is_fast_tier(&tier[0]);
    return GO;
}

static int is_tool(const jval *v) {
    return jstr_eq(v, "function_call") || jstr_eq(v, "custom_tool_call") ||
           jstr_eq(v, "local_shell_call");
}

/* A line the scanner is not sure of: the Python decoder decides. */
static int undecided(st_t *st, const char *p, const char *raw_end, long long line) {
    PyObject *raw = PyBytes_FromStringAndSize(p, raw_end - p);
    if (!raw) return RAISED;
    PyObject *obj = PyObject_CallOneArg(st->loads, raw);
    Py_DECREF(raw);
    int code;
    if (!obj) {
        if (!PyErr_ExceptionMatches(PyExc_ValueError) &&
            !PyErr_ExceptionMatches(PyExc_RecursionError))
            return RAISED;
        PyErr_Clear();
        code = 0;
    } else {
        int is_dict = PyDict_CheckExact(obj);
        Py_DECREF(obj);
        if (is_dict) return DECLINE; /* valid, but a shape this file does not read */
        code = 1;
    }
    PyObject *item = Py_BuildValue("(Li)", line, code);
    if (!item) return RAISED;
    int rc = PyList_Append(st->bad, item);
    Py_DECREF(item);
    return rc < 0 ? RAISED : GO;
}

/* -- a file, in blocks of lines: scanned without the GIL, then applied with it -------- */

enum { K_UNDECIDED = 1, K_TOKEN, K_SETTINGS, K_TURN, K_SESSION, K_RECORD };

typedef struct {
    int kind;
    long long line, tools_before;
    const char *p, *raw_end;
    jval top[N_TOP];
    jval pay[N_PAY];
} entry_t;

#define BLOCK 128

struct roll_block {
    entry_t entries[BLOCK];
    int n;
    long long tools; /* tool calls after the last entry */
};

roll_block *roll_block_new(void) { return PyMem_RawCalloc(1, sizeof(roll_block)); }
void roll_block_free(roll_block *block) { PyMem_RawFree(block); }

static int blank(const char *p, const char *end) {
    if (end - p >= 3) return 0;
    for (; p < end; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '\x0b' && *p != '\x0c')
            return 0;
    return 1;
}

/* What the line at p asks of the rules (0: nothing beyond the counters); *line_end
 * is set when the scanner found the line's end, else left NULL. */
static int classify(st_t *st, roll_block *b, entry_t *e, const char *p, const char *end,
                    const char **line_end) {
    const char *q = jscan_object(p, end, &TOP_KEYS, e->top, "payload", &PAY_KEYS, e->pay);
    if (q) q = jscan_line_end(q, end);
    if (!q) return K_UNDECIDED;
    *line_end = q;
    const jval *kind = &e->top[T_TYPE], *sub = &e->pay[P_TYPE];
    int has_payload = e->top[T_PAYLOAD].t == J_OBJ;
    if (kind->t != J_STR) {
        st->unknown++;
        return 0;
    }
    if (jstr_eq(kind, "response_item")) {
        if (has_payload && is_tool(sub)) b->tools++;
        return 0;
    }
    if (jstr_eq(kind, "event_msg")) {
        if (!has_payload) return 0;
        if (jstr_eq(sub, "token_count")) return K_TOKEN;
        if (jstr_eq(sub, "thread_settings_applied")) return K_SETTINGS;
        return 0;
    }
    if (jstr_eq(kind, "turn_context")) return has_payload ? K_TURN : 0;
    if (jstr_eq(kind, "session_meta")) return has_payload ? K_SESSION : 0;
    if (jstr_eq(kind, "token_usage_record")) return has_payload ? K_RECORD : 0;
    if (is_tool(kind))
        b->tools++;
    else
        st->unknown++;
    return 0;
}

const char *roll_scan(st_t *st, roll_block *b, const char *p, const char *end) {
    b->n = 0;
    b->tools = 0;
    while (p < end && b->n < BLOCK) {
        entry_t *e = &b->entries[b->n];
        const char *raw_end = NULL;
        st->lines++;
        int kind = classify(st, b, e, p, end, &raw_end);
        if (!raw_end) { /* not a line the scanner is sure of: find its end */
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            raw_end = nl ? nl + 1 : end;
            if (blank(p, raw_end)) kind = 0;
        }
        if (kind) {
            e->kind = kind;
            e->line = st->lines;
            e->p = p;
            e->raw_end = raw_end;
            e->tools_before = b->tools;
            b->tools = 0;
            b->n++;
        }
        p = raw_end;
    }
    return p;
}

static void tool_calls(st_t *st, long long n) {
    if (!n) return;
    if (st->last >= 0)
        st->cands[st->last].tools += n;
    else
        st->pending_tools += n;
}

int roll_apply(st_t *st, const roll_block *b) {
    for (int i = 0; i < b->n; i++) {
        const entry_t *e = &b->entries[i];
        tool_calls(st, e->tools_before);
        switch (e->kind) {
        case K_UNDECIDED: PROPAGATE(undecided(st, e->p, e->raw_end, e->line)); break;
        case K_TOKEN: PROPAGATE(token_count(st, e->top, e->pay, e->line)); break;
        case K_SETTINGS: PROPAGATE(thread_settings(st, e->pay)); break;
        case K_TURN: PROPAGATE(turn_context(st, e->top, e->pay)); break;
        case K_SESSION: PROPAGATE(session_meta(st, e->top, e->pay)); break;
        case K_RECORD: PROPAGATE(usage_record(st, e->top, e->pay, e->line)); break;
        }
    }
    tool_calls(st, b->tools);
    return GO;
}

/* -- per-response records paired with their token_count ----------------------------- */

static const cand_t *sort_base;

static int by_usage(const void *a, const void *b) {
    const cand_t *x = &sort_base[*(const Py_ssize_t *)a], *y = &sort_base[*(const Py_ssize_t *)b];
    for (int i = 0; i < 4; i++)
        if (x->usage[i] != y->usage[i]) return x->usage[i] < y->usage[i] ? -1 : 1;
    return *(const Py_ssize_t *)a < *(const Py_ssize_t *)b ? -1 : 1;
}

int roll_pair_records(st_t *st) {
    Py_ssize_t n = 0, has_records = 0;
    for (Py_ssize_t i = 0; i < st->ncands; i++) {
        if (st->cands[i].is_record)
            has_records = 1;
        else
            n++;
    }
    if (!has_records || !n) return GO;
    Py_ssize_t *order = PyMem_Malloc((size_t)n * sizeof(Py_ssize_t));
    Py_ssize_t *popped = PyMem_Calloc((size_t)n, sizeof(Py_ssize_t));
    if (!order || !popped) {
        PyMem_Free(order);
        PyMem_Free(popped);
        PyErr_NoMemory();
        return RAISED;
    }
    Py_ssize_t k = 0;
    for (Py_ssize_t i = 0; i < st->ncands; i++)
        if (!st->cands[i].is_record) order[k++] = i;
    sort_base = st->cands; /* the GIL is held: no other caller */
    qsort(order, (size_t)n, sizeof(Py_ssize_t), by_usage);
    for (Py_ssize_t r = 0; r < st->ncands; r++) {
        cand_t *record = &st->cands[r];
        if (!record->is_record) continue;
        /* the first of the group of candidates with this usage (lower bound) */
        Py_ssize_t lo = 0, hi = n;
        while (lo < hi) {
            Py_ssize_t mid = (lo + hi) / 2, cmp = 0;
            const cand_t *c = &st->cands[order[mid]];
            for (int i = 0; i < 4 && !cmp; i++)
                if (c->usage[i] != record->usage[i]) cmp = c->usage[i] < record->usage[i] ? -1 : 1;
            if (cmp < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        Py_ssize_t at = lo + popped[lo];
        if (at >= n || memcmp(st->cands[order[at]].usage, record->usage, 4 * sizeof(long long)))
            continue;
        popped[lo]++;
        cand_t *c = &st->cands[order[at]];
        c->dropped = 1;
        record->tools += c->tools;
        record->has_paired = 1;
        record->paired_full = c->key_full;
        record->paired_totals = c->key_totals;
    }
    PyMem_Free(order);
    PyMem_Free(popped);
    return GO;
}
