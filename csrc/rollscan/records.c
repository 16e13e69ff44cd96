/* The records of a rollout file, as codex_credits/io/rollout_parse.py applies them.
 *
 * Only the usual shapes are handled here. A line the Python reader would report
 * as a problem (a bad usage object, a bad plan window, a bad timestamp), or a
 * shape this file does not handle (flat rate-limit fields, a float reset time),
 * declines the whole file, and the Python reader reads it instead: the two never
 * disagree, because this file only ever does what the Python reader does.
 */
#include "fields.h"

#include <string.h>

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

static int window(st_t *st, const jval *w, const jval *f, long long ts_us, const jval *id,
                  const jval *plan, int which) {
    if (w->t != J_OBJ) return DECLINE;
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

static int rate_limits(st_t *st, const jval *v, long long ts_us) {
    if (v[B_PAY + P_LIMITS].t != J_OBJ) return GO; /* tolerated: never decides token usage */
    const jval *f = v + B_LIMITS;
    for (int which = 0; which < 2; which++) {
        const jval *w = &f[L_PRIMARY + which];
        if (is_none(w)) {
            if (!is_none(&f[L_PRIMARY_FLAT + which])) return DECLINE; /* the oldest shape */
            continue;
        }
        const jval *fields = v + (which ? B_SECONDARY : B_PRIMARY);
        PROPAGATE(window(st, w, fields, ts_us, &f[L_ID], &f[L_PLAN], which));
    }
    return GO;
}

/* -- records ------------------------------------------------------------------------ */

int token_count(st_t *st, const jval *v, long long line) {
    const jval *top = v + B_TOP, *pay = v + B_PAY;
    long long ts_us = 0;
    int have_ts = 0;
    if (!is_none(&pay[P_LIMITS])) {
        if (top[T_TS].t != J_STR) return DECLINE;
        PROPAGATE(timestamp(st, &top[T_TS], &ts_us));
        have_ts = 1;
        if (st->observing && ts_us >= st->start_us) PROPAGATE(rate_limits(st, v, ts_us));
    }
    const jval *info_v = &pay[P_INFO];
    if (is_none(info_v)) return GO;
    if (info_v->t != J_OBJ) return DECLINE;
    const jval *info = v + B_INFO;
    long long total[5], last[5], cache_write, ignored;
    int has_total, has_last;
    PROPAGATE(usage(st, &info[I_TOTAL], v + B_TOTAL, total, &ignored, &has_total));
    PROPAGATE(usage(st, &info[I_LAST], v + B_LAST, last, &cache_write, &has_last));
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
    Py_hash_t totals, full;
    roll_request_keys(ts_us, has_total ? total : NULL, last, &totals, &full);
    return new_candidate(st, ts_us, last, totals, full, line, NULL, cache_write, 0);
}

int usage_record(st_t *st, const jval *v, long long line) {
    const jval *top = v + B_TOP, *pay = v + B_PAY;
    long long use[5], cache_write, ts_us;
    int present;
    PROPAGATE(usage(st, &pay[P_USAGE], v + B_RECORD, use, &cache_write, &present));
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

int turn_context(st_t *st, const jval *v) {
    const jval *top = v + B_TOP, *pay = v + B_PAY;
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

static int names_parent(const jval *v) {
    const jval *pay = v + B_PAY;
    if (jval_truthy(&pay[P_FORKED]) || jval_truthy(&pay[P_PARENT])) return 1;
    if (jstr_eq(&pay[P_THREAD_SOURCE], "subagent")) return 1;
    return pay[P_SOURCE].t == J_OBJ && jval_truthy(&v[B_SOURCE]);
}

int session_meta(st_t *st, const jval *v) {
    const jval *top = v + B_TOP, *pay = v + B_PAY;
    PyObject *sid = NULL;
    const jval *id = &pay[P_ID];
    if (id->t == J_STR && id->e > id->s) PROPAGATE(set_jtext(&sid, id));
    if (!st->root_id) {
        int parent = names_parent(v);
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

int thread_settings(st_t *st, const jval *v) {
    if (v[B_PAY + P_SETTINGS].t != J_OBJ) return GO;
    const jval *tier = &v[B_SETTINGS];
    if (tier->t != J_MISSING) st->fast = is_fast_tier(tier);
    return GO;
}

int is_tool(const jval *v) {
    return jstr_eq(v, "function_call") || jstr_eq(v, "custom_tool_call") ||
           jstr_eq(v, "local_shell_call");
}

/* A line the scanner is not sure of: the Python decoder decides. */
int undecided(st_t *st, const char *p, const char *raw_end, long long line) {
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

