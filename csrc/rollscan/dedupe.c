/* Requests de-duplicated across files, as codex_credits/io/rollout_dedupe.py states it.
 *
 * A Dedupe object takes each file's candidates (the packed tuples of
 * rollout_records.Candidate, in slot order) in file order and keeps the counted
 * requests as rows of plain C values; finish() gives the log's columns. The
 * Python Deduplicator is the specification; a property test holds the two equal.
 */
#include "dedupe.h"

#include <stddef.h>
#include <string.h>

/* Slot order of rollout_records.Candidate (its pack()). */
enum {
    C_CACHE_WRITE, C_FAST, C_KEY_FULL, C_KEY_TOTALS, C_LINE, C_MODEL, C_PAIRED, C_PATH,
    C_PROJECT, C_RESPONSE_ID, C_SESSION, C_SUSPECT, C_TOOLS, C_TS_US, C_USAGE, C_SLOTS
};

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
    PyObject *deferred; /* the copied-history candidates, as given */
    long long copied, before_since, skipped;
} Dedupe;

static int as_ll(PyObject *obj, long long *out) {
    *out = PyLong_AsLongLong(obj);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

/* Count a candidate as a row; *row is -1 when it is before `since` or would carry a
 * total past the limit (then a problem is appended to `problems`). */
static int emit(Dedupe *self, PyObject *cand, PyObject *problems, long long *row) {
    long long ts_us, use[5], cache_write;
    if (as_ll(PyTuple_GET_ITEM(cand, C_TS_US), &ts_us) < 0) return -1;
    if (self->has_since && ts_us < self->since_us) {
        self->before_since++;
        *row = -1;
        return 0;
    }
    PyObject *usage = PyTuple_GET_ITEM(cand, C_USAGE);
    if (!PyTuple_Check(usage) || PyTuple_GET_SIZE(usage) != 5) {
        PyErr_SetString(PyExc_TypeError, "a candidate's usage is not five numbers");
        return -1;
    }
    for (int i = 0; i < 5; i++)
        if (as_ll(PyTuple_GET_ITEM(usage, i), &use[i]) < 0) return -1;
    if (as_ll(PyTuple_GET_ITEM(cand, C_CACHE_WRITE), &cache_write) < 0) return -1;
    /* every count is within 0..10**15, every total within 0..limit: no wrap */
    unsigned long long inp = self->inp + (unsigned long long)use[0];
    unsigned long long out = self->out + (unsigned long long)use[2];
    unsigned long long reasoning = self->reasoning + (unsigned long long)use[3];
    unsigned long long cw = self->cache_write + (unsigned long long)cache_write;
    if (inp > self->limit || out > self->limit || reasoning > self->limit || cw > self->limit) {
        self->skipped++;
        PyObject *msg = PyUnicode_FromFormat(
            "%S:%S: the request would carry the token totals past %llu; it is skipped",
            PyTuple_GET_ITEM(cand, C_PATH), PyTuple_GET_ITEM(cand, C_LINE), self->limit);
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
    long long tools;
    if (as_ll(PyTuple_GET_ITEM(cand, C_TOOLS), &tools) < 0) return -1;
    int fast = PyObject_IsTrue(PyTuple_GET_ITEM(cand, C_FAST));
    if (fast < 0) return -1;
    self->inp = inp;
    self->out = out;
    self->reasoning = reasoning;
    self->cache_write = cw;
    row_t *r = &self->rows[self->nrows];
    r->ts_us = ts_us;
    memcpy(r->usage, use, sizeof use);
    r->tools = tools;
    r->fast = fast;
    r->model = Py_NewRef(PyTuple_GET_ITEM(cand, C_MODEL));
    r->session = Py_NewRef(PyTuple_GET_ITEM(cand, C_SESSION));
    r->project = Py_NewRef(PyTuple_GET_ITEM(cand, C_PROJECT));
    *row = self->nrows++;
    return 0;
}

/* A second sighting of a counted request: keep the fuller tool count. */
static int copied(Dedupe *self, long long row, PyObject *cand) {
    self->copied++;
    if (row < 0) return 0;
    long long tools;
    if (as_ll(PyTuple_GET_ITEM(cand, C_TOOLS), &tools) < 0) return -1;
    if (tools > self->rows[row].tools) self->rows[row].tools = tools;
    return 0;
}

static int key_of(PyObject *cand, int slot, long long *key) {
    return as_ll(PyTuple_GET_ITEM(cand, slot), key);
}

/* Count `cand` unless its triple (or, for copied history, its pair) was counted. */
static int once(Dedupe *self, PyObject *cand, int by_pair, PyObject *problems) {
    long long full, totals, row;
    if (key_of(cand, C_KEY_FULL, &full) < 0 || key_of(cand, C_KEY_TOTALS, &totals) < 0)
        return -1;
    long long *seen = table_find(&self->full, full);
    if (!seen && by_pair) seen = table_find(&self->totals, totals);
    if (seen) return copied(self, *seen, cand);
    if (emit(self, cand, problems, &row) < 0) return -1;
    if (table_put(&self->full, full, row) < 0) return -1;
    return table_put(&self->totals, totals, row);
}

static int record(Dedupe *self, PyObject *cand, PyObject *problems) {
    long long key, row, paired_full = 0, paired_totals = 0;
    if (key_of(cand, C_KEY_FULL, &key) < 0) return -1;
    PyObject *paired = PyTuple_GET_ITEM(cand, C_PAIRED);
    int has_paired = paired != Py_None;
    if (has_paired && (!PyTuple_Check(paired) || PyTuple_GET_SIZE(paired) != 2 ||
                       as_ll(PyTuple_GET_ITEM(paired, 0), &paired_full) < 0 ||
                       as_ll(PyTuple_GET_ITEM(paired, 1), &paired_totals) < 0)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "a record's pair is not two keys");
        return -1;
    }
    long long *seen = table_find(&self->responses, key);
    if (!seen && has_paired) seen = table_find(&self->full, paired_full);
    if (seen) {
        row = *seen;
        if (table_put(&self->responses, key, row) < 0) return -1;
        return copied(self, row, cand);
    }
    if (emit(self, cand, problems, &row) < 0) return -1;
    if (table_put(&self->responses, key, row) < 0) return -1;
    if (has_paired) {
        if (table_put(&self->full, paired_full, row) < 0) return -1;
        if (table_put(&self->totals, paired_totals, row) < 0) return -1;
    }
    return 0;
}

static PyObject *Dedupe_add(Dedupe *self, PyObject *candidates) {
    if (!PyList_Check(candidates)) {
        PyErr_SetString(PyExc_TypeError, "candidates must be a list");
        return NULL;
    }
    PyObject *problems = PyList_New(0);
    if (!problems) return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(candidates); i++) {
        PyObject *cand = PyList_GET_ITEM(candidates, i);
        if (!PyTuple_Check(cand) || PyTuple_GET_SIZE(cand) != C_SLOTS) {
            PyErr_SetString(PyExc_TypeError, "a candidate is not a packed Candidate");
            goto fail;
        }
        int rc;
        if (PyTuple_GET_ITEM(cand, C_RESPONSE_ID) != Py_None) {
            rc = record(self, cand, problems);
        } else {
            int suspect = PyObject_IsTrue(PyTuple_GET_ITEM(cand, C_SUSPECT));
            if (suspect < 0) goto fail;
            rc = suspect ? PyList_Append(self->deferred, cand) : once(self, cand, 0, problems);
        }
        if (rc < 0) goto fail;
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
    Py_ssize_t nd = PyList_GET_SIZE(self->deferred);
    order_t *order = PyMem_Malloc((size_t)(nd ? nd : 1) * sizeof(order_t));
    if (!order) {
        Py_DECREF(problems);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < nd; i++) {
        order[i].index = i;
        if (as_ll(PyTuple_GET_ITEM(PyList_GET_ITEM(self->deferred, i), C_TS_US), &order[i].ts_us) < 0)
            goto fail;
    }
    qsort(order, (size_t)nd, sizeof(order_t), by_time);
    for (Py_ssize_t i = 0; i < nd; i++)
        if (once(self, PyList_GET_ITEM(self->deferred, order[i].index), 1, problems) < 0) goto fail;
    PyMem_Free(order);
    order = NULL;
    Py_SETREF(self->deferred, PyList_New(0));
    if (!self->deferred) goto fail;
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
    Py_XDECREF(self->deferred);
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
    if (self->has_since && as_ll(since, &self->since_us) < 0) return -1;
    self->limit = limit;
    Py_XSETREF(self->deferred, PyList_New(0));
    return self->deferred ? 0 : -1;
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
