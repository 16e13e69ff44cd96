/* Requests de-duplicated across files, as codex_credits/io/rollout_dedupe.py states it.
 *
 * A Dedupe object takes each file's candidates (the packed tuples of
 * rollout_records.Candidate, in slot order) in file order and keeps the counted
 * requests as rows of plain C values; finish() gives the log's columns. The
 * Python Deduplicator is the specification; a property test holds the two equal.
 */
#include "dedupe.h"

#include "candidates.h"

#include <stddef.h>
#include <string.h>

/* -- a table of 64-bit keys to rows ------------------------------------------------ */

typedef struct {
    long long *keys, *rows;
    unsigned char *used;
    size_t cap, n;
} table_t;

static size_t mix(long long key) {
    unsigned long long z = (unsigned long long)key + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return (size_t)(z ^ (z >> 31));
}

static long long *table_find(const table_t *t, long long key) {
    if (!t->cap) return NULL;
    for (size_t i = mix(key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (!t->used[i]) return NULL;
        if (t->keys[i] == key) return &t->rows[i];
    }
}

static int table_put(table_t *t, long long key, long long row) {
    if (2 * (t->n + 1) > t->cap) {
        table_t grown = {0};
        grown.cap = t->cap ? 2 * t->cap : 1024;
        grown.keys = PyMem_Malloc(grown.cap * sizeof(long long));
        grown.rows = PyMem_Malloc(grown.cap * sizeof(long long));
        grown.used = PyMem_Calloc(grown.cap, 1);
        if (!grown.keys || !grown.rows || !grown.used) {
            PyMem_Free(grown.keys);
            PyMem_Free(grown.rows);
            PyMem_Free(grown.used);
            PyErr_NoMemory();
            return -1;
        }
        for (size_t i = 0; i < t->cap; i++)
            if (t->used[i]) table_put(&grown, t->keys[i], t->rows[i]);
        PyMem_Free(t->keys);
        PyMem_Free(t->rows);
        PyMem_Free(t->used);
        *t = grown;
    }
    size_t i = mix(key) & (t->cap - 1);
    while (t->used[i] && t->keys[i] != key) i = (i + 1) & (t->cap - 1);
    if (!t->used[i]) t->n++;
    t->used[i] = 1;
    t->keys[i] = key;
    t->rows[i] = row;
    return 0;
}

static void table_free(table_t *t) {
    PyMem_Free(t->keys);
    PyMem_Free(t->rows);
    PyMem_Free(t->used);
}

/* -- the object ------------------------------------------------------------------------ */

typedef struct {
    long long ts_us, usage[5], tools;
    int fast;
    PyObject *model, *session, *project; /* new references */
} row_t;

typedef struct {
    PyObject_HEAD
    int has_since;
    long long since_us;
    unsigned long long limit, inp, out, reasoning, cache_write;
    table_t full, totals, responses;
    row_t *rows;
    Py_ssize_t nrows, cap;
    cin_t *deferred; /* the copied-history candidates, with their own references */
    Py_ssize_t ndeferred, deferred_cap;
    long long copied, before_since, skipped;
} Dedupe;

/* Count a candidate as a row; *row is -1 when it is before `since` or would carry a
 * total past the limit (then a problem is appended to `problems`). */
static int emit(Dedupe *self, const cin_t *c, PyObject *problems, long long *row) {
    if (self->has_since && c->ts_us < self->since_us) {
        self->before_since++;
        *row = -1;
        return 0;
    }
    /* every count is within 0..10**15, every total within 0..limit: no wrap */
    unsigned long long inp = self->inp + (unsigned long long)c->usage[0];
    unsigned long long out = self->out + (unsigned long long)c->usage[2];
    unsigned long long reasoning = self->reasoning + (unsigned long long)c->usage[3];
    unsigned long long cw = self->cache_write + (unsigned long long)c->cache_write;
    if (inp > self->limit || out > self->limit || reasoning > self->limit || cw > self->limit) {
        self->skipped++;
        PyObject *msg = PyUnicode_FromFormat(
            "%S:%lld: the request would carry the token totals past %llu; it is skipped",
            c->path, c->line, self->limit);
        if (!msg || PyList_Append(problems, msg) < 0) {
            Py_XDECREF(msg);
            return -1;
        }
        Py_DECREF(msg);
        *row = -1;
        return 0;
    }
    if (self->nrows == self->cap) {
        Py_ssize_t cap = self->cap ? 2 * self->cap : 1024;
        row_t *grown = PyMem_Realloc(self->rows, (size_t)cap * sizeof(row_t));
        if (!grown) {
            PyErr_NoMemory();
            return -1;
        }
        self->rows = grown;
        self->cap = cap;
    }
    self->inp = inp;
    self->out = out;
    self->reasoning = reasoning;
    self->cache_write = cw;
    row_t *r = &self->rows[self->nrows];
    r->ts_us = c->ts_us;
    memcpy(r->usage, c->usage, sizeof r->usage);
    r->tools = c->tools;
    r->fast = c->fast;
    r->model = Py_NewRef(c->model);
    r->session = Py_NewRef(c->session);
    r->project = Py_NewRef(c->project);
    *row = self->nrows++;
    return 0;
}

/* A second sighting of a counted request: keep the fuller tool count. */
static void copied(Dedupe *self, long long row, const cin_t *c) {
    self->copied++;
    if (row >= 0 && c->tools > self->rows[row].tools) self->rows[row].tools = c->tools;
}

/* Count `c` unless its triple (or, for copied history, its pair) was counted. */
static int once(Dedupe *self, const cin_t *c, int by_pair, PyObject *problems) {
    long long row;
    long long *seen = table_find(&self->full, c->key_full);
    if (!seen && by_pair) seen = table_find(&self->totals, c->key_totals);
    if (seen) {
        copied(self, *seen, c);
        return 0;
    }
    if (emit(self, c, problems, &row) < 0) return -1;
    if (table_put(&self->full, c->key_full, row) < 0) return -1;
    return table_put(&self->totals, c->key_totals, row);
}

static int record(Dedupe *self, const cin_t *c, PyObject *problems) {
    long long row;
    long long *seen = table_find(&self->responses, c->key_full);
    if (!seen && c->has_paired) seen = table_find(&self->full, c->paired_full);
    if (seen) {
        row = *seen;
        if (table_put(&self->responses, c->key_full, row) < 0) return -1;
        copied(self, row, c);
        return 0;
    }
    if (emit(self, c, problems, &row) < 0) return -1;
    if (table_put(&self->responses, c->key_full, row) < 0) return -1;
    if (c->has_paired) {
        if (table_put(&self->full, c->paired_full, row) < 0) return -1;
        if (table_put(&self->totals, c->paired_totals, row) < 0) return -1;
    }
    return 0;
}

/* Hold back a copied-history candidate until every file is read. */
static int defer(Dedupe *self, const cin_t *c) {
    if (self->ndeferred == self->deferred_cap) {
        Py_ssize_t cap = self->deferred_cap ? 2 * self->deferred_cap : 256;
        cin_t *grown = PyMem_Realloc(self->deferred, (size_t)cap * sizeof(cin_t));
        if (!grown) {
            PyErr_NoMemory();
            return -1;
        }
        self->deferred = grown;
        self->deferred_cap = cap;
    }
    cin_t *d = &self->deferred[self->ndeferred++];
    *d = *c;
    Py_INCREF(d->model);
    Py_INCREF(d->session);
    Py_INCREF(d->project);
    Py_INCREF(d->path);
    return 0;
}

static void clear_deferred(Dedupe *self) {
    for (Py_ssize_t i = 0; i < self->ndeferred; i++) {
        cin_t *d = &self->deferred[i];
        Py_DECREF(d->model);
        Py_DECREF(d->session);
        Py_DECREF(d->project);
        Py_DECREF(d->path);
    }
    PyMem_Free(self->deferred);
    self->deferred = NULL;
    self->ndeferred = self->deferred_cap = 0;
}

static int count(Dedupe *self, const cin_t *c, PyObject *problems) {
    if (c->has_response) return record(self, c, problems);
    return c->suspect ? defer(self, c) : once(self, c, 0, problems);
}

static PyObject *Dedupe_add(Dedupe *self, PyObject *candidates) {
    PyObject *problems = PyList_New(0);
    if (!problems) return NULL;
    cin_t c;
    if (Py_IS_TYPE(candidates, &CandidatesType)) {
        const Candidates *given = (const Candidates *)candidates;
        for (Py_ssize_t i = 0; i < given->n; i++) {
            cin_from_cand(&given->items[i], given->path, &c);
            if (count(self, &c, problems) < 0) goto fail;
        }
    } else if (PyList_Check(candidates)) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(candidates); i++)
            if (cin_from_tuple(PyList_GET_ITEM(candidates, i), &c) < 0 ||
                count(self, &c, problems) < 0)
                goto fail;
    } else {
        PyErr_SetString(PyExc_TypeError, "candidates must be a list or a Candidates");
        goto fail;
    }
    return problems;
fail:
    Py_DECREF(problems);
    return NULL;
}

typedef struct {
    long long ts_us;
    Py_ssize_t index;
} order_t;

static int by_time(const void *a, const void *b) {
    const order_t *x = a, *y = b;
    if (x->ts_us != y->ts_us) return x->ts_us < y->ts_us ? -1 : 1;
    return x->index < y->index ? -1 : 1; /* stable, as list.sort is */
}

/* Labels coded in order of first appearance, None being 0, as rollout_dedupe._coded. */
static PyObject *coded(Dedupe *self, size_t offset) {
    Py_ssize_t n = self->nrows;
    PyObject *codes = PyByteArray_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int));
    PyObject *index = PyDict_New(), *labels = PyList_New(0), *zero = PyLong_FromLong(0);
    int ok = codes && index && labels && zero && PyDict_SetItem(index, Py_None, zero) == 0 &&
             PyList_Append(labels, Py_None) == 0;
    Py_XDECREF(zero);
    if (!ok) goto fail;
    int *out = (int *)PyByteArray_AS_STRING(codes);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *label = *(PyObject **)((char *)&self->rows[i] + offset);
        PyObject *code = PyDict_GetItemWithError(index, label);
        if (!code) {
            if (PyErr_Occurred()) goto fail;
            code = PyLong_FromSsize_t(PyList_GET_SIZE(labels));
            if (!code || PyDict_SetItem(index, label, code) < 0 || PyList_Append(labels, label) < 0) {
                Py_XDECREF(code);
                goto fail;
            }
            Py_DECREF(code);
            code = PyDict_GetItem(index, label);
        }
        out[i] = (int)PyLong_AsLong(code);
    }
    Py_DECREF(index);
    return Py_BuildValue("(NN)", codes, labels);
fail:
    Py_XDECREF(codes);
    Py_XDECREF(index);
    Py_XDECREF(labels);
    return NULL;
}

static PyObject *Dedupe_finish(Dedupe *self, PyObject *Py_UNUSED(ignored)) {
    PyObject *problems = PyList_New(0);
    if (!problems) return NULL;
    Py_ssize_t nd = self->ndeferred;
    order_t *order = PyMem_Malloc((size_t)(nd ? nd : 1) * sizeof(order_t));
    if (!order) {
        Py_DECREF(problems);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < nd; i++) {
        order[i].index = i;
        order[i].ts_us = self->deferred[i].ts_us;
    }
    qsort(order, (size_t)nd, sizeof(order_t), by_time);
    for (Py_ssize_t i = 0; i < nd; i++)
        if (once(self, &self->deferred[order[i].index], 1, problems) < 0) goto fail;
    PyMem_Free(order);
    order = NULL;
    clear_deferred(self);
    Py_ssize_t n = self->nrows;
    PyObject *numbers = PyByteArray_FromStringAndSize(NULL, 6 * n * (Py_ssize_t)sizeof(long long));
    PyObject *fast = PyByteArray_FromStringAndSize(NULL, n);
    if (!numbers || !fast) {
        Py_XDECREF(numbers);
        Py_XDECREF(fast);
        goto fail;
    }
    long long *col = (long long *)PyByteArray_AS_STRING(numbers);
    char *flags = PyByteArray_AS_STRING(fast);
    for (Py_ssize_t i = 0; i < n; i++) {
        const row_t *r = &self->rows[i];
        col[i] = r->ts_us;
        col[n + i] = r->usage[0];
        col[2 * n + i] = r->usage[1];
        col[3 * n + i] = r->usage[2];
        col[4 * n + i] = r->usage[3];
        col[5 * n + i] = r->tools;
        flags[i] = (char)r->fast;
    }
    PyObject *model = coded(self, offsetof(row_t, model));
    PyObject *session = model ? coded(self, offsetof(row_t, session)) : NULL;
    PyObject *project = session ? coded(self, offsetof(row_t, project)) : NULL;
    if (!project) {
        Py_XDECREF(model);
        Py_XDECREF(session);
        Py_DECREF(numbers);
        Py_DECREF(fast);
        goto fail;
    }
    return Py_BuildValue("{sNsNsNsNsNsNsLsLsLsKsKsKsK}", "numbers", numbers, "fast", fast,
                         "model", model, "session_id", session, "project_id", project,
                         "problems", problems, "copied_requests", self->copied,
                         "before_since", self->before_since, "skipped", self->skipped,
                         "input_tokens", self->inp, "output_tokens", self->out,
                         "reasoning_output_tokens", self->reasoning,
                         "cache_write_input_tokens", self->cache_write);
fail:
    PyMem_Free(order);
    Py_DECREF(problems);
    return NULL;
}

static void clear_rows(Dedupe *self) {
    for (Py_ssize_t i = 0; i < self->nrows; i++) {
        Py_XDECREF(self->rows[i].model);
        Py_XDECREF(self->rows[i].session);
        Py_XDECREF(self->rows[i].project);
    }
    PyMem_Free(self->rows);
    self->rows = NULL;
    self->nrows = self->cap = 0;
}

static void Dedupe_dealloc(Dedupe *self) {
    clear_rows(self);
    table_free(&self->full);
    table_free(&self->totals);
    table_free(&self->responses);
    clear_deferred(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Dedupe_init(Dedupe *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"since_us", "limit", NULL};
    PyObject *since;
    unsigned long long limit;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OK", names, &since, &limit)) return -1;
    if (limit > (1ULL << 63) - 1) {
        PyErr_SetString(PyExc_ValueError, "the limit must be within 64 bits");
        return -1;
    }
    self->has_since = since != Py_None;
    if (self->has_since) {
        self->since_us = PyLong_AsLongLong(since);
        if (self->since_us == -1 && PyErr_Occurred()) return -1;
    }
    self->limit = limit;
    return 0;
}

static PyMethodDef Dedupe_methods[] = {
    {"add", (PyCFunction)Dedupe_add, METH_O,
     "Count one file's candidates (files in file order); the problems it found."},
    {"finish", (PyCFunction)Dedupe_finish, METH_NOARGS,
     "Count the copied history, earliest first; the log's columns and the counters."},
    {NULL, NULL, 0, NULL}};

PyTypeObject DedupeType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "codex_credits._rollscan.Dedupe",
    .tp_basicsize = sizeof(Dedupe),
    .tp_dealloc = (destructor)Dedupe_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Requests de-duplicated across rollout files (see rollout_dedupe.Deduplicator).",
    .tp_methods = Dedupe_methods,
    .tp_init = (initproc)Dedupe_init,
    .tp_new = PyType_GenericNew,
};
