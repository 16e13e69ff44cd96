/* A strict JSON scanner for one rollout line (see jscan.h). */
#include "jscan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
#endif

#define MAX_DEPTH 500     /* the Python decoder allows 1024 */
#define MAX_INT_DIGITS 18 /* always a 64-bit integer, as the decoder reads it */
#define MAX_EXP_DIGITS 2  /* never infinity, as the decoder would refuse */
#define MAX_MANTISSA 100

static const char *scan_value(const char *p, const char *end, int depth, jval *out);
static const char *scan_obj(const char *p, const char *end, int depth, const jkeys *keys,
                            jval *all, jval *self);

/* Whitespace within a line: an end of line is not whitespace here, it ends the
 * line (the scanner never reads past one). */
static inline const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
    return p;
}

const char *jscan_line_end(const char *p, const char *end) {
    p = skip_ws(p, end);
    if (p == end) return p;
    return *p == '\n' ? p + 1 : NULL;
}

/* The first byte in [p, end) that is a quote, a backslash, a control byte or not
 * ASCII; end if none. 16 bytes at a time where SSE2 is there, else 8. */
static inline const char *find_special16(const char *p, const char *end) {
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), slash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)p);
        /* signed: bytes >= 0x80 are negative, so below 0x20 too */
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, slash)),
                                   _mm_cmplt_epi8(x, space));
        int mask = _mm_movemask_epi8(hit);
        if (mask) return p + __builtin_ctz((unsigned)mask);
        p += 16;
    }
#else
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    while (end - p >= 8) {
        uint64_t x, q, b, low;
        memcpy(&x, p, 8);
        q = x ^ (ones * '"');
        b = x ^ (ones * '\\');
        low = (x - ones * 0x20) & ~x;
        q = (q - ones) & ~q;
        b = (b - ones) & ~b;
        if ((x | low | q | b) & highs) break;
        p += 8;
    }
#endif
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return p;
        p++;
    }
    return end;
}

#ifdef HAVE_AVX2_PATH
/* The same, 32 bytes at a time, on processors with AVX2 (checked when loading). */
__attribute__((target("avx2"))) static const char *find_special32(const char *p,
                                                                   const char *end) {
    const __m256i quote = _mm256_set1_epi8('"'), slash = _mm256_set1_epi8('\\');
    const __m256i space = _mm256_set1_epi8(0x20);
    while (end - p >= 32) {
        __m256i x = _mm256_loadu_si256((const __m256i *)p);
        __m256i hit = _mm256_or_si256(
            _mm256_or_si256(_mm256_cmpeq_epi8(x, quote), _mm256_cmpeq_epi8(x, slash)),
            _mm256_cmpgt_epi8(space, x));
        unsigned mask = (unsigned)_mm256_movemask_epi8(hit);
        if (mask) return p + __builtin_ctz(mask);
        p += 32;
    }
    return find_special16(p, end);
}
static int use_avx2;
#endif

void jscan_init(void) {
#ifdef HAVE_AVX2_PATH
    __builtin_cpu_init();
    use_avx2 = __builtin_cpu_supports("avx2");
#endif
}

static inline const char *find_special(const char *p, const char *end) {
#ifdef HAVE_AVX2_PATH
    if (use_avx2 && end - p >= 32) return find_special32(p, end);
#endif
    return find_special16(p, end);
}

static inline int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int hex4(const char *p, const char *end) {
    if (end - p < 4) return -1;
    int a = hexval(p[0]), b = hexval(p[1]), c = hexval(p[2]), d = hexval(p[3]);
    if ((a | b | c | d) < 0) return -1;
    return (a << 12) | (b << 8) | (c << 4) | d;
}

/* One UTF-8 sequence starting with a byte >= 0x80; its length, or 0 if invalid. */
static int utf8_seq(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    ptrdiff_t left = end - p;
#define CONT(k) (left > (k) && (p[k] & 0xC0) == 0x80)
    if (c >= 0xC2 && c <= 0xDF) return CONT(1) ? 2 : 0;
    if (c == 0xE0) return (left > 2 && p[1] >= 0xA0 && p[1] <= 0xBF && CONT(2)) ? 3 : 0;
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return (CONT(1) && CONT(2)) ? 3 : 0;
    if (c == 0xED) return (left > 2 && p[1] >= 0x80 && p[1] <= 0x9F && CONT(2)) ? 3 : 0;
    if (c == 0xF0)
        return (left > 3 && p[1] >= 0x90 && p[1] <= 0xBF && CONT(2) && CONT(3)) ? 4 : 0;
    if (c >= 0xF1 && c <= 0xF3) return (CONT(1) && CONT(2) && CONT(3)) ? 4 : 0;
    if (c == 0xF4)
        return (left > 3 && p[1] >= 0x80 && p[1] <= 0x8F && CONT(2) && CONT(3)) ? 4 : 0;
#undef CONT
    return 0;
}

/* p at the opening quote; returns the position after the closing quote. */
static const char *scan_string(const char *p, const char *end, jval *out) {
    const char *start = ++p;
    int esc = 0;
    for (;;) {
        p = find_special(p, end);
        if (p >= end) return NULL;
        unsigned char c = (unsigned char)*p;
        if (c == '"') break;
        if (c == '\\') {
            esc = 1;
            if (end - p < 2) return NULL;
            char n = p[1];
            if (n == '"' || n == '\\' || n == '/' || n == 'b' || n == 'f' || n == 'n' ||
                n == 'r' || n == 't') {
                p += 2;
                continue;
            }
            if (n != 'u') return NULL;
            int code = hex4(p + 2, end);
            if (code < 0) return NULL;
            p += 6;
            if (code >= 0xDC00 && code <= 0xDFFF) return NULL;
            if (code >= 0xD800 && code <= 0xDBFF) {
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return NULL;
                int low = hex4(p + 2, end);
                if (low < 0xDC00 || low > 0xDFFF) return NULL;
                p += 6;
            }
            continue;
        }
        if (c < 0x20) return NULL;
        if (c < 0x80) {
            p++;
            continue;
        }
        int n = utf8_seq((const unsigned char *)p, (const unsigned char *)end);
        if (!n) return NULL;
        p += n;
    }
    if (out) {
        out->t = J_STR;
        out->s = start;
        out->e = p;
        out->esc = esc;
    }
    return p + 1;
}

static const char *scan_number(const char *p, const char *end, jval *out) {
    const char *start = p;
    int neg = 0, is_float = 0, digits = 0;
    long long value = 0;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p >= end) return NULL;
    if (*p == '0') {
        p++;
        digits = 1;
    } else if (*p >= '1' && *p <= '9') {
        while (p < end && *p >= '0' && *p <= '9') {
            if (digits < MAX_INT_DIGITS) value = value * 10 + (*p - '0');
            digits++;
            p++;
        }
    } else {
        return NULL;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9') return NULL;
        int fraction = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            fraction++;
            p++;
        }
        if (fraction > MAX_MANTISSA) return NULL; /* never rounds to zero unseen */
        is_float = 1;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        int exp_digits = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            exp_digits++;
            p++;
        }
        if (exp_digits == 0 || exp_digits > MAX_EXP_DIGITS) return NULL;
        is_float = 1;
    }
    if (is_float ? digits > MAX_MANTISSA : digits > MAX_INT_DIGITS) return NULL;
    if (out) {
        out->t = is_float ? J_FLOAT : J_INT;
        out->s = start;
        out->e = p;
        out->i = neg ? -value : value;
    }
    return p;
}

/* After a member of an array or object: past the comma and the whitespace to the
 * next member (*more stays 1), or past the closing byte (*more = 0); NULL if neither. */
static const char *after_member(const char *p, const char *end, char close, int *more) {
    p = skip_ws(p, end);
    if (p >= end) return NULL;
    if (*p == ',') return skip_ws(p + 1, end);
    if (*p != close) return NULL;
    *more = 0;
    return p + 1;
}

static const char *scan_array(const char *p, const char *end, int depth, jval *out) {
    const char *start = p;
    p = skip_ws(p + 1, end);
    int empty = 1;
    if (p < end && *p == ']') {
        p++;
    } else {
        empty = 0;
        int more = 1;
        while (more) {
            p = scan_value(p, end, depth + 1, NULL);
            if (!p) return NULL;
            p = after_member(p, end, ']', &more);
            if (!p) return NULL;
        }
    }
    if (out) {
        out->t = J_ARR;
        out->s = start;
        out->e = p;
        out->empty = empty;
    }
    return p;
}

static const char *scan_value(const char *p, const char *end, int depth, jval *out) {
    if (depth > MAX_DEPTH || p >= end) return NULL;
    switch (*p) {
    case '{': return scan_obj(p, end, depth, NULL, NULL, out);
    case '[': return scan_array(p, end, depth, out);
    case '"': return scan_string(p, end, out);
    case 't':
        if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
            if (out) out->t = J_TRUE;
            return p + 4;
        }
        return NULL;
    case 'f':
        if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
            if (out) out->t = J_FALSE;
            return p + 5;
        }
        return NULL;
    case 'n':
        if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
            if (out) out->t = J_NULL;
            return p + 4;
        }
        return NULL;
    default:
        if (*p == '-' || (*p >= '0' && *p <= '9')) return scan_number(p, end, out);
        return NULL;
    }
}

void jkeys_init(jkeys *keys) {
    for (int k = 0; k < keys->count && k < 32; k++) keys->lens[k] = (unsigned char)strlen(keys->names[k]);
}

static int find_key(const jkeys *keys, const char *s, size_t n) {
    for (int k = 0; k < keys->count; k++)
        if (keys->lens[k] == n && memcmp(keys->names[k], s, n) == 0) return k;
    return -1;
}

/* An object at p ('{'). With `keys`, the values of those keys go to all[keys->base
 * + k] (an object value asked into further, by keys->children[k], in the same pass);
 * `self`, when given, receives the object's own span. */
static const char *scan_obj(const char *p, const char *end, int depth, const jkeys *keys,
                            jval *all, jval *self) {
    const char *start = p;
    int empty = 1;
    if (depth > MAX_DEPTH) return NULL;
    jval *vals = NULL;
    if (keys) {
        vals = all + keys->base;
        memset(vals, 0, sizeof(jval) * (size_t)keys->count);
    }
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        empty = 0;
        int more = 1;
        while (more) {
            jval key;
            if (p >= end || *p != '"') return NULL;
            p = scan_string(p, end, &key);
            if (!p) return NULL;
            p = skip_ws(p, end);
            if (p >= end || *p != ':') return NULL;
            p = skip_ws(p + 1, end);
            int k = -1;
            if (keys) {
                if (key.esc) return NULL; /* it might spell a key asked for */
                k = find_key(keys, key.s, (size_t)(key.e - key.s));
            }
            if (k >= 0) {
                if (vals[k].t != J_MISSING) return NULL; /* repeated: not sure which wins */
                const jkeys *child = keys->children ? keys->children[k] : NULL;
                if (child && p < end && *p == '{')
                    p = scan_obj(p, end, depth + 1, child, all, &vals[k]);
                else
                    p = scan_value(p, end, depth + 1, &vals[k]);
            } else {
                p = scan_value(p, end, depth + 1, NULL);
            }
            if (!p) return NULL;
            p = after_member(p, end, '}', &more);
            if (!p) return NULL;
        }
    }
    if (self) {
        self->t = J_OBJ;
        self->s = start;
        self->e = p;
        self->empty = empty;
    }
    return p;
}

const char *jscan_object(const char *p, const char *end, const jkeys *keys, jval *all) {
    p = skip_ws(p, end);
    if (p >= end || *p != '{') return NULL;
    return scan_obj(p, end, 0, keys, all, NULL);
}

static void put_utf8(char **q, unsigned code) {
    char *o = *q;
    if (code < 0x80) {
        *o++ = (char)code;
    } else if (code < 0x800) {
        *o++ = (char)(0xC0 | (code >> 6));
        *o++ = (char)(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
        *o++ = (char)(0xE0 | (code >> 12));
        *o++ = (char)(0x80 | ((code >> 6) & 0x3F));
        *o++ = (char)(0x80 | (code & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (code >> 18));
        *o++ = (char)(0x80 | ((code >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((code >> 6) & 0x3F));
        *o++ = (char)(0x80 | (code & 0x3F));
    }
    *q = o;
}

ptrdiff_t jstr_decode(const jval *v, char *buf, size_t cap) {
    const char *p = v->s, *end = v->e;
    char *o = buf;
    if ((size_t)(end - p) > cap) return -1; /* decoding never lengthens the text */
    while (p < end) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        char n = p[1];
        p += 2;
        switch (n) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned code = (unsigned)hex4(p, end);
            p += 4;
            if (code >= 0xD800 && code <= 0xDBFF) {
                unsigned low = (unsigned)hex4(p + 2, end);
                p += 6;
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            }
            put_utf8(&o, code);
            break;
        }
        default: *o++ = n; break; /* " \ / */
        }
    }
    return o - buf;
}

int jstr_eq(const jval *v, const char *lit) {
    size_t n = strlen(lit);
    if (v->t != J_STR) return 0;
    if (!v->esc) return (size_t)(v->e - v->s) == n && memcmp(v->s, lit, n) == 0;
    char buf[64];
    if ((size_t)(v->e - v->s) > sizeof buf) return 0; /* escapes only shorten text */
    ptrdiff_t got = jstr_decode(v, buf, sizeof buf);
    return got == (ptrdiff_t)n && memcmp(buf, lit, n) == 0;
}

int jval_truthy(const jval *v) {
    switch (v->t) {
    case J_TRUE: return 1;
    case J_INT: return v->i != 0;
    case J_FLOAT: {
        /* zero when every digit of the mantissa is 0 */
        for (const char *p = v->s; p < v->e && *p != 'e' && *p != 'E'; p++)
            if (*p >= '1' && *p <= '9') return 1;
        return 0;
    }
    case J_STR: return v->e > v->s;
    case J_OBJ:
    case J_ARR: return !v->empty;
    default: return 0;
    }
}
