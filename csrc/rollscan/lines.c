/* A rollout file in blocks of lines: scanned without the GIL, then applied with it;
 * and the per-response records paired with their token_count at the end. */
#include "fields.h"

#include <stdlib.h>
#include <string.h>

/* -- a file, in blocks of lines: scanned without the GIL, then applied with it -------- */

enum { K_UNDECIDED = 1, K_TOKEN, K_SETTINGS, K_TURN, K_SESSION, K_RECORD };

typedef struct {
    int kind;
    long long line, tools_before;
    const char *p, *raw_end;
    jval v[N_VALS];
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
    const char *q = jscan_object(p, end, &TOP_KEYS, e->v);
    if (q) q = jscan_line_end(q, end);
    if (!q) return K_UNDECIDED;
    *line_end = q;
    const jval *kind = &e->v[B_TOP + T_TYPE], *sub = &e->v[B_PAY + P_TYPE];
    int has_payload = e->v[B_TOP + T_PAYLOAD].t == J_OBJ;
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
        case K_TOKEN: PROPAGATE(token_count(st, e->v, e->line)); break;
        case K_SETTINGS: PROPAGATE(thread_settings(st, e->v)); break;
        case K_TURN: PROPAGATE(turn_context(st, e->v)); break;
        case K_SESSION: PROPAGATE(session_meta(st, e->v)); break;
        case K_RECORD: PROPAGATE(usage_record(st, e->v, e->line)); break;
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

