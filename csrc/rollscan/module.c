/* codex_credits._rollscan: one rollout file read in compiled code.
 *
 * scan() returns what codex_credits/io/rollout_native.py turns into a FileResult,
 * or None when the file has a line this code leaves to the Python reader.
 */
#include "candidates.h"
#include "dedupe.h"
#include "rollstate.h"

#include <string.h>

static void free_state(st_t *st) {
    for (Py_ssize_t i = 0; i < st->ncands; i++) {
        cand_t *c = &st->cands[i];
        Py_XDECREF(c->model);
        Py_XDECREF(c->session);
        Py_XDECREF(c->project);
        Py_XDECREF(c->response_id);
    }
    PyMem_Free(st->cands);
    Py_XDECREF(st->session);
    Py_XDECREF(st->root_id);
    Py_XDECREF(st->project);
    Py_XDECREF(st->model);
    Py_XDECREF(st->responses);
    Py_XDECREF(st->bad);
}

static PyObject *text_or_none(int has, const char *s, Py_ssize_t n) {
    return has ? PyUnicode_DecodeUTF8(s, n, "strict") : Py_NewRef(Py_None);
}

static PyObject *limit_item(const limit_t *l) {
    PyObject *id = text_or_none(l->has_id, l->limit_id, l->id_len);
    PyObject *plan = text_or_none(l->has_plan, l->plan, l->plan_len);
    PyObject *used = NULL;
    if (l->used_is_float) {
        double value = PyOS_string_to_double(l->used_text, NULL, NULL);
        if (!(value == -1.0 && PyErr_Occurred())) used = PyFloat_FromDouble(value);
    } else {
        used = PyLong_FromLongLong(l->used_i);
    }
    PyObject *reset = l->has_reset ? PyLong_FromLongLong(l->resets_at) : Py_NewRef(Py_None);
    PyObject *item = NULL;
    if (id && plan && used && reset)
        item = Py_BuildValue("((Os)(L(LOO)OO))", id, l->window ? "secondary" : "primary",
                             l->ts_us, l->minutes, used, reset, id, plan);
    Py_XDECREF(id);
    Py_XDECREF(plan);
    Py_XDECREF(used);
    Py_XDECREF(reset);
    return item;
}

static PyObject *result(st_t *st) {
    if (roll_pair_records(st) != GO) return NULL;
    PyObject *cands = candidates_take(st), *limits = PyList_New(0);
    if (!cands || !limits) goto fail;
    for (int i = 0; i < st->nlimits; i++) {
        PyObject *item = limit_item(&st->limits[i]);
        if (!item || PyList_Append(limits, item) < 0) {
            Py_XDECREF(item);
            goto fail;
        }
        Py_DECREF(item);
    }
    return Py_BuildValue("(LLLLLLLLONN)", st->lines, st->token_counts, st->repeats, st->resets,
                         st->records, st->unknown, st->duplicate_records, st->pending_tools,
                         st->bad, cands, limits);
fail:
    Py_XDECREF(cands);
    Py_XDECREF(limits);
    return NULL;
}

/* A block of lines kept between calls (taken and given back with the GIL held). */
static roll_block *spare;

static PyObject *scan(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"data",       "path",        "session",     "loads",
                            "parse_ts",   "bad_line",    "max_tokens", "min_seconds",
                            "max_seconds", NULL};
    Py_buffer data;
    st_t st;
    memset(&st, 0, sizeof st);
    PyObject *session;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*UOOOOLLL", names, &data, &st.path,
                                     &session, &st.loads, &st.parse_ts, &st.bad_line_error,
                                     &st.max_tokens, &st.min_seconds, &st.max_seconds))
        return NULL;
    (void)self;
    st.session = session == Py_None ? NULL : Py_NewRef(session);
    st.observing = 1;
    st.start_us = -(1LL << 62);
    st.last = -1;
    st.responses = PyDict_New();
    st.bad = PyList_New(0);
    PyObject *out = NULL;
    if (!st.responses || !st.bad) goto done;
    roll_block *block = spare ? spare : roll_block_new(); /* spare: taken with the GIL */
    spare = NULL;
    if (!block) {
        PyErr_NoMemory();
        goto done;
    }
    const char *p = data.buf, *end = p + data.len;
    int rc = GO;
    while (rc == GO && p < end) {
        Py_BEGIN_ALLOW_THREADS p = roll_scan(&st, block, p, end);
        Py_END_ALLOW_THREADS rc = roll_apply(&st, block);
    }
    if (spare)
        roll_block_free(block);
    else
        spare = block; /* kept for the next file: its pages are already mapped */
    if (rc == GO)
        out = result(&st);
    else if (rc == DECLINE)
        out = Py_NewRef(Py_None);
done:
    free_state(&st);
    PyBuffer_Release(&data);
    return out;
}

static PyObject *stable_key(PyObject *self, PyObject *text) {
    Py_ssize_t n;
    (void)self;
    const char *utf8 = PyUnicode_AsUTF8AndSize(text, &n);
    return utf8 ? PyLong_FromLongLong(roll_stable_key(utf8, (size_t)n)) : NULL;
}

static PyObject *keys(PyObject *self, PyObject *args) {
    long long ts_us, t[5], l[5];
    PyObject *total;
    (void)self;
    if (!PyArg_ParseTuple(args, "LO(LLLLL)", &ts_us, &total, &l[0], &l[1], &l[2], &l[3], &l[4]))
        return NULL;
    if (total != Py_None &&
        !PyArg_ParseTuple(total, "LLLLL", &t[0], &t[1], &t[2], &t[3], &t[4]))
        return NULL;
    Py_hash_t totals, full;
    roll_request_keys(ts_us, total == Py_None ? NULL : t, l, &totals, &full);
    return Py_BuildValue("(nn)", (Py_ssize_t)totals, (Py_ssize_t)full);
}

static PyMethodDef methods[] = {
    {"scan", (PyCFunction)(void (*)(void))scan, METH_VARARGS | METH_KEYWORDS,
     "Read one rollout file's bytes; None when the Python reader must read it."},
    {"stable_key", stable_key, METH_O,
     "rollout_fields.stable_key(text): BLAKE2b of the UTF-8 text, 8 bytes, little-endian, "
     "signed."},
    {"keys", keys, METH_VARARGS,
     "(hash((total or (), last)), hash((ts_us, total or (), last))), as the reader keys a "
     "request."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_rollscan",
                                    "Codex rollout files read in compiled code.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__rollscan(void) {
    roll_init();
    if (PyType_Ready(&DedupeType) < 0 || PyType_Ready(&CandidatesType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m && (PyModule_AddObjectRef(m, "Dedupe", (PyObject *)&DedupeType) < 0 ||
              PyModule_AddObjectRef(m, "Candidates", (PyObject *)&CandidatesType) < 0))
        Py_CLEAR(m);
    return m;
}
