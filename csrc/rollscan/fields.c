/* The values of a line's fields, as codex_credits/io/rollout_fields.py reads them. */
#include "fields.h"

#include <string.h>

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

Py_uhash_t hash_usage(const long long *u) {
    Py_uhash_t lanes[5];
    for (int i = 0; i < 5; i++) lanes[i] = roll_hash_int(u[i]);
    return roll_hash_tuple(lanes, 5);
}

void roll_request_keys(long long ts_us, const long long *total, const long long *last,
                       Py_hash_t *totals, Py_hash_t *full) {
    Py_uhash_t lanes[3];
    lanes[0] = roll_hash_int(ts_us);
    lanes[1] = total ? hash_usage(total) : roll_hash_tuple(NULL, 0);
    lanes[2] = hash_usage(last);
    *totals = (Py_hash_t)roll_hash_tuple(lanes + 1, 2);
    *full = (Py_hash_t)roll_hash_tuple(lanes, 3);
}

/* -- values ---------------------------------------------------------------------- */

int is_none(const jval *v) { return v->t == J_MISSING || v->t == J_NULL; }

/* The decoded text of a J_STR into buf; DECLINE when too long. */
int text(const jval *v, char *buf, Py_ssize_t *len) {
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

int set_jtext(PyObject **slot, const jval *v) {
    char buf[STR_CAP];
    Py_ssize_t n;
    PROPAGATE(text(v, buf, &n));
    return set_text(slot, buf, n);
}

/* `cwd.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or None` */
int set_project(PyObject **slot, const jval *cwd) {
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

int is_fast_tier(const jval *v) { return jstr_eq(v, "priority") || jstr_eq(v, "fast"); }

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
int timestamp(st_t *st, const jval *v, long long *us) {
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
int usage(st_t *st, const jval *v, const jval *f, long long out[5], long long *cache_write,
          int *present) {
    *present = 0;
    *cache_write = 0;
    if (is_none(v)) return GO;
    if (v->t != J_OBJ) return DECLINE;
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

