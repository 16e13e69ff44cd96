/* A file's candidates kept as C values, handed from the scanner to the de-duplication
 * without a Python object per candidate (see candidates.h). */
#include "candidates.h"

#include <string.h>

/* Slot order of rollout_records.Candidate (its pack()). */
enum {
    C_CACHE_WRITE, C_FAST, C_KEY_FULL, C_KEY_TOTALS, C_LINE, C_MODEL, C_PAIRED, C_PATH,
    C_PROJECT, C_RESPONSE_ID, C_SESSION, C_SUSPECT, C_TOOLS, C_TS_US, C_USAGE, C_SLOTS
};

static PyObject *none_or(PyObject *obj) { return obj ? Py_NewRef(obj) : Py_NewRef(Py_None); }

static PyObject *usage_tuple(const long long *u) {
    PyObject *t = PyTuple_New(5);
    if (!t) return NULL;
    for (int i = 0; i < 5; i++) {
        PyObject *v = PyLong_FromLongLong(u[i]);
        if (!v) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, v);
    }
    return t;
}

static PyObject *hash_pair(const cand_t *c) {
    if (!c->has_paired) return Py_NewRef(Py_None);
    return Py_BuildValue("(nn)", (Py_ssize_t)c->paired_full, (Py_ssize_t)c->paired_totals);
}

/* The candidate in the slot order of rollout_records.Candidate (its pack()). */
static PyObject *pack(PyObject *path, const cand_t *c) {
    PyObject *t = PyTuple_New(C_SLOTS);
    if (!t) return NULL;
    PyObject *items[C_SLOTS] = {
        PyLong_FromLongLong(c->cache_write), PyBool_FromLong(c->fast),
        PyLong_FromSsize_t((Py_ssize_t)c->key_full), PyLong_FromSsize_t((Py_ssize_t)c->key_totals),
        PyLong_FromLongLong(c->line), none_or(c->model), hash_pair(c), Py_NewRef(path),
        none_or(c->project), none_or(c->response_id), none_or(c->session),
        PyBool_FromLong(c->suspect), PyLong_FromLongLong(c->tools), PyLong_FromLongLong(c->ts_us),
        usage_tuple(c->usage)};
    int ok = 1;
    for (int i = 0; i < C_SLOTS; i++) {
        if (!items[i]) ok = 0;
        PyTuple_SET_ITEM(t, i, items[i] ? items[i] : Py_NewRef(Py_None));
    }
    if (!ok) Py_CLEAR(t);
    return t;
}

static void release(cand_t *c) {
    Py_XDECREF(c->model);
    Py_XDECREF(c->session);
    Py_XDECREF(c->project);
    Py_XDECREF(c->response_id);
}

PyObject *candidates_take(st_t *st) {
    Candidates *self = PyObject_New(Candidates, &CandidatesType);
    if (!self) return NULL;
    Py_ssize_t kept = 0;
    for (Py_ssize_t i = 0; i < st->ncands; i++) {
        if (st->cands[i].dropped)
            release(&st->cands[i]);
        else
            st->cands[kept++] = st->cands[i];
    }
    self->items = st->cands; /* the state's array, now the object's */
    self->n = kept;
    self->path = Py_NewRef(st->path);
    st->cands = NULL;
    st->ncands = st->cap = 0;
    return (PyObject *)self;
}

static void Candidates_dealloc(Candidates *self) {
    for (Py_ssize_t i = 0; i < self->n; i++) release(&self->items[i]);
    PyMem_Free(self->items);
    Py_XDECREF(self->path);
    PyObject_Free(self);
}

static Py_ssize_t Candidates_len(Candidates *self) { return self->n; }

static PyObject *Candidates_item(Candidates *self, Py_ssize_t i) {
    if (i < 0 || i >= self->n) {
        PyErr_SetString(PyExc_IndexError, "candidate index out of range");
        return NULL;
    }
    return pack(self->path, &self->items[i]);
}

static PyObject *Candidates_reduce(Candidates *self, PyObject *Py_UNUSED(ignored)) {
    PyObject *items = PySequence_List((PyObject *)self);
    return items ? Py_BuildValue("(O(N))", (PyObject *)&PyList_Type, items) : NULL;
}

static PySequenceMethods Candidates_sequence = {
    .sq_length = (lenfunc)Candidates_len,
    .sq_item = (ssizeargfunc)Candidates_item,
};

static PyMethodDef Candidates_methods[] = {
    {"__reduce__", (PyCFunction)Candidates_reduce, METH_NOARGS, "Pickled as a list."},
    {NULL, NULL, 0, NULL}};

PyTypeObject CandidatesType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "codex_credits._rollscan.Candidates",
    .tp_basicsize = sizeof(Candidates),
    .tp_dealloc = (destructor)Candidates_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A file's candidates as C values: a read-only sequence of packed candidates.",
    .tp_as_sequence = &Candidates_sequence,
    .tp_methods = Candidates_methods,
};

/* -- one candidate as the de-duplication reads it --------------------------------- */

static int as_ll(PyObject *obj, long long *out) {
    *out = PyLong_AsLongLong(obj);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

int cin_from_tuple(PyObject *cand, cin_t *out) {
    if (!PyTuple_Check(cand) || PyTuple_GET_SIZE(cand) != C_SLOTS) {
        PyErr_SetString(PyExc_TypeError, "a candidate is not a packed Candidate");
        return -1;
    }
    PyObject *usage = PyTuple_GET_ITEM(cand, C_USAGE);
    if (!PyTuple_Check(usage) || PyTuple_GET_SIZE(usage) != 5) {
        PyErr_SetString(PyExc_TypeError, "a candidate's usage is not five numbers");
        return -1;
    }
    for (int i = 0; i < 5; i++)
        if (as_ll(PyTuple_GET_ITEM(usage, i), &out->usage[i]) < 0) return -1;
    if (as_ll(PyTuple_GET_ITEM(cand, C_TS_US), &out->ts_us) < 0 ||
        as_ll(PyTuple_GET_ITEM(cand, C_KEY_FULL), &out->key_full) < 0 ||
        as_ll(PyTuple_GET_ITEM(cand, C_KEY_TOTALS), &out->key_totals) < 0 ||
        as_ll(PyTuple_GET_ITEM(cand, C_TOOLS), &out->tools) < 0 ||
        as_ll(PyTuple_GET_ITEM(cand, C_CACHE_WRITE), &out->cache_write) < 0 ||
        as_ll(PyTuple_GET_ITEM(cand, C_LINE), &out->line) < 0)
        return -1;
    PyObject *paired = PyTuple_GET_ITEM(cand, C_PAIRED);
    out->has_paired = paired != Py_None;
    if (out->has_paired &&
        (!PyTuple_Check(paired) || PyTuple_GET_SIZE(paired) != 2 ||
         as_ll(PyTuple_GET_ITEM(paired, 0), &out->paired_full) < 0 ||
         as_ll(PyTuple_GET_ITEM(paired, 1), &out->paired_totals) < 0)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "a record's pair is not two keys");
        return -1;
    }
    out->fast = PyObject_IsTrue(PyTuple_GET_ITEM(cand, C_FAST));
    out->suspect = PyObject_IsTrue(PyTuple_GET_ITEM(cand, C_SUSPECT));
    if (out->fast < 0 || out->suspect < 0) return -1;
    out->has_response = PyTuple_GET_ITEM(cand, C_RESPONSE_ID) != Py_None;
    out->model = PyTuple_GET_ITEM(cand, C_MODEL);
    out->session = PyTuple_GET_ITEM(cand, C_SESSION);
    out->project = PyTuple_GET_ITEM(cand, C_PROJECT);
    out->path = PyTuple_GET_ITEM(cand, C_PATH);
    return 0;
}

void cin_from_cand(const cand_t *c, PyObject *path, cin_t *out) {
    out->ts_us = c->ts_us;
    memcpy(out->usage, c->usage, sizeof out->usage);
    out->key_full = c->key_full;
    out->key_totals = c->key_totals;
    out->tools = c->tools;
    out->cache_write = c->cache_write;
    out->line = c->line;
    out->has_paired = c->has_paired;
    out->paired_full = c->paired_full;
    out->paired_totals = c->paired_totals;
    out->fast = c->fast;
    out->suspect = c->suspect;
    out->has_response = c->response_id != NULL;
    out->model = c->model ? c->model : Py_None;
    out->session = c->session ? c->session : Py_None;
    out->project = c->project ? c->project : Py_None;
    out->path = path;
}
