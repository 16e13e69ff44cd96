/* Placeholder for the codex_credits._rollscan extension: scan(data) returns None. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
rollscan_scan(PyObject *module, PyObject *data)
{
    (void)module;
    (void)data;
    Py_RETURN_NONE;
}

static PyMethodDef rollscan_methods[] = {
    {"scan", rollscan_scan, METH_O, "scan(data) -> None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef rollscan_module = {
    PyModuleDef_HEAD_INIT,
    "_rollscan",
    "Fast reading of Codex rollout logs (placeholder).",
    -1,
    rollscan_methods,
};

PyMODINIT_FUNC
PyInit__rollscan(void)
{
    return PyModule_Create(&rollscan_module);
}
