/* A strict JSON scanner for one rollout line: validates, and records the values of
 * the keys the reader asks for.
 *
 * The scanner is at least as strict as the Python decoder: whatever it accepts,
 * the decoder accepts with the same values. Where it is not sure (deep nesting,
 * integers of more than 18 digits, large exponents, an escaped or repeated key
 * that the reader asks for) it fails, and the caller hands the line to the
 * Python decoder, which decides.
 */
#ifndef ROLLSCAN_JSCAN_H
#define ROLLSCAN_JSCAN_H

#include <stddef.h>

typedef enum {
    J_MISSING = 0, /* the key is absent */
    J_NULL,
    J_FALSE,
    J_TRUE,
    J_INT,
    J_FLOAT,
    J_STR,
    J_OBJ,
    J_ARR
} jtype;

typedef struct {
    jtype t;
    const char *s; /* J_STR: the content between the quotes; otherwise the value's text */
    const char *e; /* end of the same span */
    int esc;       /* J_STR: the content has escapes */
    long long i;   /* J_INT: the value */
    int empty;     /* J_OBJ, J_ARR: no member */
} jval;

/* The keys to record at one level of a line: their names, where their values go in
 * the line's array of values (base + k), and for each key the keys to record inside
 * its value when that is an object (NULL: none). */
typedef struct jkeys {
    const char *const *names;
    int count, base;
    const struct jkeys *const *children;
    unsigned char lens[32]; /* filled by jkeys_init */
} jkeys;

/* Choose the widest string search the processor has (once, when loading). */
void jscan_init(void);

/* Fill the lengths of the names (once, before the keys are used). */
void jkeys_init(jkeys *keys);

/* Scan one object at p (leading whitespace allowed), never past an end of line
 * (a line is one JSON text, and an end of line is not whitespace within it); on
 * success return the end of the object, with the values of `keys` (and of their
 * children, where the value is an object) in `all`. The values of a level are set
 * only when its object was found: read a child level only when its parent's value
 * is a J_OBJ. Returns NULL when the scanner is not sure the text is valid JSON with
 * those values (an escaped or repeated key among those asked for included). */
const char *jscan_object(const char *p, const char *end, const jkeys *keys, jval *all);

/* After a line's value: the position after the line's end of line (or end) when
 * only whitespace comes before it; NULL otherwise. */
const char *jscan_line_end(const char *p, const char *end);

/* The decoded UTF-8 of a J_STR into buf (capacity cap); its length, or -1 when it
 * does not fit or has a surrogate pair (the caller then declines). */
ptrdiff_t jstr_decode(const jval *v, char *buf, size_t cap);

/* Whether a J_STR equals the ASCII text `lit` (escapes decoded). */
int jstr_eq(const jval *v, const char *lit);

/* Python truthiness of the value (a missing key is falsy). */
int jval_truthy(const jval *v);

#endif
