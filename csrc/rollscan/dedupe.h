/* Requests de-duplicated across rollout files: the type codex_credits._rollscan.Dedupe. */
#ifndef ROLLSCAN_DEDUPE_H
#define ROLLSCAN_DEDUPE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

extern PyTypeObject DedupeType;

#endif
