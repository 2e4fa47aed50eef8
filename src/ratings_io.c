/*
 * ratings_io.c -- ratings from delimited text.
 *
 * Text.  MovieLens-scale files are hundreds of megabytes, so the loader is
 * one streaming pass: read() fills an 8 MiB buffer, memchr finds the line
 * ends, and each line's fields are parsed in place by hand-written integer
 * and decimal parsers (no scanf, no per-field strtod, no locale).  A rating
 * is parsed exactly: mantissa digits into a uint64 and a power of ten,
 * which for every ordinary decimal ("4", "3.5", "4.0") is one correctly
 * rounded double operation (Clinger's fast path) followed by a rounding to
 * float that is exact unless the double lies on a float midpoint; the rare
 * remaining inputs go to strtof under the "C" locale.  Original ids are
 * densified on the fly by open-addressing hash tables (id -> order of first
 * appearance), so the collected triples are 12 bytes each and no sort of
 * nnz ids is needed: only the distinct ids are sorted at the end, and the
 * provisional indices renumbered in ascending id order.  A line is checked
 * completely before any of its ids enter the tables, so a skipped bad line
 * leaves no trace.
 *
 * The compact HDF5 files are read and written by ratings_h5.c.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define BUF_BYTES ((size_t)8 << 20) /* also the longest line accepted */

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)0)
#endif

/* ---- formats ------------------------------------------------------------- */

typedef struct text_format {
  char delim;       /* ',', '\t' or ':' (the latter meaning "::") */
  int dlen;         /* 1, or 2 for "::" */
  int ucol, icol;   /* 0-based columns */
  int rcol;         /* -1: implicit, every value 1 */
  int tcol;         /* timestamp column validated as an integer, or -1 */
  int min_fields, max_fields;
  int header;       /* the first non-empty line is a header */
  int header_check; /* ... and must not start with a number */
  const char *expect; /* field count, for messages: "3 or 4" */
  char name[40];
} text_format;

static void set_ml(text_format *f, const char *name, char delim, int dlen,
                   int header) {
  memset(f, 0, sizeof *f);
  f->delim = delim;
  f->dlen = dlen;
  f->ucol = 0;
  f->icol = 1;
  f->rcol = 2;
  f->tcol = 3;
  f->min_fields = 3;
  f->max_fields = 4;
  f->header = header;
  f->header_check = header;
  f->expect = "3 or 4";
  snprintf(f->name, sizeof f->name, "%s", name);
}

/* Non-negative column number of at most 4 digits; advances *s. */
static int parse_col(const char **s, int *col) {
  const char *p = *s;
  int v = 0, n = 0;
  while (*p >= '0' && *p <= '9' && n < 5) v = v * 10 + (*p++ - '0'), n++;
  if (n == 0 || n > 4) return 0;
  *s = p;
  *col = v;
  return 1;
}

static int bad_format(const char *format, const char *why) {
  return clearn__err(CLEARN_EINVAL,
                     "ratings: format '%s'%s%s (expected auto, ml-100k, "
                     "ml-1m, ml-latest, csv:U,I,R[:header] or "
                     "tsv:U,I,R[:header])",
                     format, why ? ": " : " is unknown", why ? why : "");
}

/* Parse a format name; "auto" leaves *is_auto set and f untouched. */
static int parse_format(const char *format, text_format *f, int *is_auto) {
  *is_auto = 0;
  if (strcmp(format, "auto") == 0) {
    *is_auto = 1;
    return CLEARN_OK;
  }
  if (strcmp(format, "ml-100k") == 0) {
    set_ml(f, "ml-100k", '\t', 1, 0);
    return CLEARN_OK;
  }
  if (strcmp(format, "ml-1m") == 0) {
    set_ml(f, "ml-1m", ':', 2, 0);
    return CLEARN_OK;
  }
  if (strcmp(format, "ml-latest") == 0) {
    set_ml(f, "ml-latest", ',', 1, 1);
    return CLEARN_OK;
  }
  if (strncmp(format, "csv:", 4) == 0 || strncmp(format, "tsv:", 4) == 0) {
    const char *p = format + 4;
    int m;
    memset(f, 0, sizeof *f);
    f->delim = format[0] == 'c' ? ',' : '\t';
    f->dlen = 1;
    f->tcol = -1;
    if (!parse_col(&p, &f->ucol) || *p++ != ',' || !parse_col(&p, &f->icol) ||
        *p++ != ',')
      return bad_format(format, "expected column numbers U,I,R");
    if (*p == '-')
      f->rcol = -1, p++;
    else if (!parse_col(&p, &f->rcol))
      return bad_format(format, "expected column numbers U,I,R");
    if (strcmp(p, ":header") == 0)
      f->header = 1;
    else if (*p != '\0')
      return bad_format(format, "expected nothing or ':header' after U,I,R");
    if (f->ucol == f->icol || f->ucol == f->rcol || f->icol == f->rcol)
      return bad_format(format,
                        "the user, item and rating columns must differ");
    m = f->ucol > f->icol ? f->ucol : f->icol;
    if (f->rcol > m) m = f->rcol;
    f->min_fields = m + 1;
    f->max_fields = INT_MAX;
    f->expect = "at least";
    snprintf(f->name, sizeof f->name, "%s", format);
    return CLEARN_OK;
  }
  return bad_format(format, NULL);
}

/* ---- number parsing ------------------------------------------------------ */

enum { PF_OK = 0, PF_EMPTY, PF_NOTINT, PF_RANGE, PF_NOTNUM, PF_NONFINITE };

static void trim(const char **p, const char **e) {
  while (*p < *e && **p == ' ') (*p)++;
  while (*e > *p && (*e)[-1] == ' ') (*e)--;
}

static int parse_i64(const char *p, const char *e, int64_t *out) {
  uint64_t v = 0;
  int neg = 0;
  trim(&p, &e);
  if (p == e) return PF_EMPTY;
  if (*p == '-' || *p == '+') neg = *p++ == '-';
  if (p == e) return PF_NOTINT;
  for (; p < e; p++) {
    unsigned d = (unsigned)(*p - '0');
    if (d > 9) return PF_NOTINT;
    if (v > (UINT64_MAX - d) / 10) {
      /* Keep scanning: "12345678901234567890x" is garbage, not a range
       * problem. */
      for (; p < e; p++)
        if ((unsigned)(*p - '0') > 9) return PF_NOTINT;
      return PF_RANGE;
    }
    v = v * 10 + d;
  }
  if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
    return PF_RANGE;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return PF_OK;
}

static const double pow10_tab[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int starts_with_ci(const char *p, const char *e, const char *w) {
  for (; *w; w++, p++)
    if (p >= e || tolower((unsigned char)*p) != *w) return 0;
  return 1;
}

/* Decimal [+-]digits[.digits][(e|E)[+-]digits] -> nearest float.  slow is
 * the lazily created "C" locale for the strtof fallback. */
static int parse_float(const char *p, const char *e, float *out,
                       locale_t *slow) {
  const char *s, *q;
  uint64_t mant = 0;
  int64_t exp10 = 0, ex = 0;
  int neg = 0, ndig = 0, nsig = 0, inexact = 0, eneg = 0;
  trim(&p, &e);
  if (p == e) return PF_EMPTY;
  s = p;
  if (*p == '-' || *p == '+') neg = *p++ == '-';
  for (; p < e && (unsigned)(*p - '0') <= 9; p++, ndig++) {
    if (nsig < 19) {
      mant = mant * 10 + (unsigned)(*p - '0');
      if (mant) nsig++;
    } else {
      exp10++;
      inexact |= *p != '0';
    }
  }
  if (p < e && *p == '.') {
    for (p++; p < e && (unsigned)(*p - '0') <= 9; p++, ndig++) {
      if (nsig < 19) {
        mant = mant * 10 + (unsigned)(*p - '0');
        if (mant) nsig++;
        exp10--;
      } else {
        inexact |= *p != '0';
      }
    }
  }
  if (ndig == 0) {
    q = s + (*s == '-' || *s == '+');
    return starts_with_ci(q, e, "inf") || starts_with_ci(q, e, "nan")
               ? PF_NONFINITE
               : PF_NOTNUM;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < e && (*p == '-' || *p == '+')) eneg = *p++ == '-';
    if (p == e || (unsigned)(*p - '0') > 9) return PF_NOTNUM;
    for (; p < e && (unsigned)(*p - '0') <= 9; p++)
      if (ex < 100000) ex = ex * 10 + (*p - '0');
    exp10 += eneg ? -ex : ex;
  }
  if (p != e) return PF_NOTNUM;
  if (mant == 0) {
    *out = neg ? -0.0f : 0.0f;
    return PF_OK;
  }
  if (!inexact && mant <= (UINT64_C(1) << 53) && exp10 >= -22 &&
      exp10 <= 22) {
    /* Both operands exact: the double is the correctly rounded value, and
     * rounding it to float is too unless it sits exactly on a float
     * midpoint (low 29 of its 52 mantissa bits = 1 followed by zeros). */
    double d = (double)mant;
    uint64_t bits;
    d = exp10 < 0 ? d / pow10_tab[-exp10] : d * pow10_tab[exp10];
    memcpy(&bits, &d, sizeof bits);
    if ((bits & UINT64_C(0x1FFFFFFF)) != UINT64_C(0x10000000)) {
      float f = (float)d;
      *out = neg ? -f : f;
      return PF_OK;
    }
  }
  {
    char small[128], *tmp = small, *end = NULL;
    size_t n = (size_t)(e - s);
    locale_t old;
    float f;
    if (*slow == (locale_t)0) {
      *slow = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
      if (*slow == (locale_t)0) return PF_NOTNUM;
    }
    if (n >= sizeof small && (tmp = malloc(n + 1)) == NULL) return PF_NOTNUM;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    old = uselocale(*slow);
    f = strtof(tmp, &end);
    uselocale(old);
    if (tmp != small) free(tmp);
    if (!isfinite(f)) return PF_NONFINITE;
    *out = f;
    return PF_OK;
  }
}

/* ---- id tables ----------------------------------------------------------- */

/* Open addressing, linear probing, load <= 1/2; val -1 marks an empty
 * slot.  Values are provisional indices in order of first appearance. */
typedef struct id_slot {
  int64_t key;
  int64_t val;
} id_slot;

typedef struct id_table {
  id_slot *slot;
  size_t mask;
  int64_t n;
} id_table;

static uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= UINT64_C(0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

static int table_init(id_table *t, size_t cap) {
  size_t k;
  t->slot = clearn__malloc(cap, sizeof *t->slot);
  t->mask = cap - 1;
  t->n = 0;
  if (t->slot == NULL) return 0;
  for (k = 0; k < cap; k++) t->slot[k].val = -1;
  return 1;
}

static int table_grow(id_table *t) {
  id_table g;
  size_t k;
  if (!table_init(&g, (t->mask + 1) * 2)) return 0;
  for (k = 0; k <= t->mask; k++)
    if (t->slot[k].val >= 0) {
      size_t h = (size_t)mix64((uint64_t)t->slot[k].key) & g.mask;
      while (g.slot[h].val >= 0) h = (h + 1) & g.mask;
      g.slot[h] = t->slot[k];
    }
  g.n = t->n;
  free(t->slot);
  *t = g;
  return 1;
}

/* Index of id, inserting it if new; -1: out of memory or more ids than a
 * 32-bit index holds. */
static int64_t table_get(id_table *t, int64_t id) {
  size_t h = (size_t)mix64((uint64_t)id) & t->mask;
  for (;;) {
    id_slot *s = &t->slot[h];
    if (s->val < 0) break;
    if (s->key == id) return s->val;
    h = (h + 1) & t->mask;
  }
  if (t->n >= INT32_MAX) return -1;
  if ((size_t)(t->n + 1) * 2 > t->mask + 1) {
    if (!table_grow(t)) return -1;
    h = (size_t)mix64((uint64_t)id) & t->mask;
    while (t->slot[h].val >= 0) h = (h + 1) & t->mask;
  }
  t->slot[h].key = id;
  t->slot[h].val = t->n;
  return t->n++;
}

static int cmp_slot(const void *a, const void *b) {
  int64_t x = ((const id_slot *)a)->key, y = ((const id_slot *)b)->key;
  return (x > y) - (x < y);
}

/* Sorted ids (owned by the caller) and provisional -> dense renumbering.
 * Reuses the table's slots as scratch; the table is freed. */
static int table_finish(id_table *t, int64_t **ids, int32_t **renum) {
  int64_t k, w = 0;
  *ids = clearn__malloc((size_t)t->n, sizeof(int64_t));
  *renum = clearn__malloc((size_t)t->n, sizeof(int32_t));
  if (*ids == NULL || *renum == NULL) {
    free(*ids);
    free(*renum);
    *ids = NULL;
    *renum = NULL;
    return 0;
  }
  for (k = 0; k <= (int64_t)t->mask; k++)
    if (t->slot[k].val >= 0) t->slot[w++] = t->slot[k];
  qsort(t->slot, (size_t)w, sizeof *t->slot, cmp_slot);
  for (k = 0; k < w; k++) {
    (*ids)[k] = t->slot[k].key;
    (*renum)[t->slot[k].val] = (int32_t)k;
  }
  free(t->slot);
  t->slot = NULL;
  return 1;
}

/* ---- the text loader ----------------------------------------------------- */

typedef struct loader {
  const char *path;
  text_format f;
  int is_auto, header_pending, skip_bad;
  int fast; /* the fast path may try the next line */
  int64_t line, skipped, n, cap;
  int32_t *u, *i;
  float *v;
  id_table users, items;
  int64_t last_uid, last_u; /* consecutive lines usually share the user */
  locale_t slow;
} loader;

static const char *field_what(const text_format *f, int col) {
  if (col == f->ucol) return "user id";
  if (col == f->icol) return "item id";
  if (col == f->rcol) return "rating";
  return "timestamp";
}

/* Message for problem `kind` in 0-based field col spanning [p, e). */
static int line_error(loader *L, int col, int kind, const char *p,
                      const char *e) {
  const char *what = field_what(&L->f, col);
  int len;
  trim(&p, &e);
  len = (int)(e - p > 40 ? 40 : e - p);
  switch (kind) {
  case PF_EMPTY:
    return clearn__err(CLEARN_EFORMAT, "%s:%lld: field %d: empty %s", L->path,
                       (long long)L->line, col + 1, what);
  case PF_NOTINT:
    return clearn__err(CLEARN_EFORMAT, "%s:%lld: field %d: %s '%.*s%s' is not "
                       "an integer", L->path, (long long)L->line, col + 1,
                       what, len, p, e - p > 40 ? "..." : "");
  case PF_RANGE:
    return clearn__err(CLEARN_EFORMAT, "%s:%lld: field %d: %s '%.*s%s' does "
                       "not fit in a 64-bit integer", L->path,
                       (long long)L->line, col + 1, what, len, p,
                       e - p > 40 ? "..." : "");
  case PF_NONFINITE:
    return clearn__err(CLEARN_EFORMAT, "%s:%lld: field %d: %s '%.*s%s' is not "
                       "finite", L->path, (long long)L->line, col + 1, what,
                       len, p, e - p > 40 ? "..." : "");
  default:
    return clearn__err(CLEARN_EFORMAT, "%s:%lld: field %d: %s '%.*s%s' is not "
                       "a number", L->path, (long long)L->line, col + 1, what,
                       len, p, e - p > 40 ? "..." : "");
  }
}

static const char *field_end(const text_format *f, const char *p,
                             const char *e) {
  if (f->dlen == 1) {
    const char *q = memchr(p, f->delim, (size_t)(e - p));
    return q ? q : e;
  }
  for (;;) {
    const char *q = memchr(p, ':', (size_t)(e - p));
    if (q == NULL || q + 1 >= e) return e;
    if (q[1] == ':') return q;
    p = q + 1;
  }
}

static int count_fields(const text_format *f, const char *s, const char *e) {
  int n = 1;
  for (const char *p = field_end(f, s, e); p < e;
       p = field_end(f, p + f->dlen, e))
    n++;
  return n;
}

static int field_count_error(loader *L, int have, int missing) {
  const text_format *f = &L->f;
  char expect[48];
  if (f->max_fields == INT_MAX)
    snprintf(expect, sizeof expect, "at least %d", f->min_fields);
  else
    snprintf(expect, sizeof expect, "%s", f->expect);
  return clearn__err(CLEARN_EFORMAT,
                     "%s:%lld: field %d: %s (the line has %d field%s, "
                     "expected %s)",
                     L->path, (long long)L->line,
                     missing ? have + 1 : f->max_fields + 1,
                     missing ? "missing" : "unexpected", have,
                     have == 1 ? "" : "s", expect);
}

static int grow(loader *L) {
  int64_t cap = L->cap < 1024 ? 1024 : L->cap * 2;
  int32_t *u = realloc(L->u, (size_t)cap * sizeof *u);
  if (u) L->u = u;
  int32_t *i = u ? realloc(L->i, (size_t)cap * sizeof *i) : NULL;
  if (i) L->i = i;
  float *v = i ? realloc(L->v, (size_t)cap * sizeof *v) : NULL;
  if (v == NULL)
    return clearn__err(CLEARN_ENOMEM, "%s: cannot hold %lld ratings", L->path,
                       (long long)cap);
  L->v = v;
  L->cap = cap;
  return CLEARN_OK;
}

/* Append one checked rating, entering its ids in the tables. */
static int add(loader *L, int64_t uid, int64_t iid, float val) {
  int64_t u, it;
  int rc;
  if (L->last_u >= 0 && uid == L->last_uid) {
    u = L->last_u;
  } else if ((u = table_get(&L->users, uid)) < 0) {
    return clearn__err(CLEARN_ENOMEM, "%s:%lld: cannot hold more user ids "
                       "(%lld so far)", L->path, (long long)L->line,
                       (long long)L->users.n);
  }
  L->last_uid = uid;
  L->last_u = u;
  if ((it = table_get(&L->items, iid)) < 0)
    return clearn__err(CLEARN_ENOMEM, "%s:%lld: cannot hold more item ids "
                       "(%lld so far)", L->path, (long long)L->line,
                       (long long)L->items.n);
  if (L->n == L->cap && (rc = grow(L)) != CLEARN_OK) return rc;
  L->u[L->n] = (int32_t)u;
  L->i[L->n] = (int32_t)it;
  L->v[L->n] = val;
  L->n++;
  return CLEARN_OK;
}

/* Decide the format from the first non-empty line [s, e). */
static int detect(loader *L, const char *s, const char *e) {
  const char *p = s;
  int numeric;
  while (p < e && *p == ' ') p++;
  numeric = p < e && ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+');
  if (field_end(&(text_format){.delim = ':', .dlen = 2}, s, e) < e) {
    set_ml(&L->f, "ml-1m", ':', 2, 0);
  } else if (memchr(s, '\t', (size_t)(e - s))) {
    if (numeric)
      set_ml(&L->f, "ml-100k", '\t', 1, 0);
    else
      parse_format("tsv:0,1,2:header", &L->f, &L->is_auto);
  } else if (memchr(s, ',', (size_t)(e - s))) {
    if (numeric)
      parse_format("csv:0,1,2", &L->f, &L->is_auto);
    else
      set_ml(&L->f, "ml-latest", ',', 1, 1);
  } else {
    return clearn__err(CLEARN_EFORMAT,
                       "%s:%lld: cannot detect the format (no '::', tab or "
                       "comma in the first line); pass a format",
                       L->path, (long long)L->line);
  }
  /* Only a decided format ends detection: a line that decides nothing
   * stays fatal (never skipped by CLEARN_RATINGS_SKIP_BAD), since no later
   * line could be parsed without a format. */
  L->is_auto = 0;
  L->header_pending = L->f.header;
  return CLEARN_OK;
}

/* One line without its '\n'.  CLEARN_EFORMAT for a bad line (message
 * set), other codes are fatal. */
static int parse_line(loader *L, const char *s, const char *e) {
  const text_format *f = &L->f;
  const char *p = s, *fe;
  int64_t uid = 0, iid = 0, ts;
  float val = 1.0f;
  int col = 0, st, rc;
  if (e > s && e[-1] == '\r') e--;
  if (e == s) return CLEARN_OK;
  if (L->is_auto && (rc = detect(L, s, e)) != CLEARN_OK) return rc;
  if (L->header_pending) {
    L->header_pending = 0;
    while (p < e && *p == ' ') p++;
    if (f->header_check && p < e && ((*p >= '0' && *p <= '9') || *p == '-'))
      return clearn__err(CLEARN_EINVAL,
                         "%s:%lld: field 1: expected the header line of "
                         "format %s (userId,movieId,rating,timestamp), got "
                         "a number",
                         L->path, (long long)L->line, f->name);
    return CLEARN_OK;
  }
  for (;;) {
    fe = field_end(f, p, e);
    st = PF_OK;
    if (col == f->ucol)
      st = parse_i64(p, fe, &uid);
    else if (col == f->icol)
      st = parse_i64(p, fe, &iid);
    else if (col == f->rcol)
      st = parse_float(p, fe, &val, &L->slow);
    else if (col == f->tcol)
      st = parse_i64(p, fe, &ts);
    if (st != PF_OK) return line_error(L, col, st, p, fe);
    col++;
    if (fe == e) break;
    if (col == f->max_fields)
      return field_count_error(L, count_fields(f, s, e), 0);
    p = fe + f->dlen;
  }
  if (col < f->min_fields) return field_count_error(L, col, 1);
  return add(L, uid, iid, val);
}

static int handle_line(loader *L, const char *s, const char *e) {
  int rc;
  L->line++;
  rc = parse_line(L, s, e);
  if (rc == CLEARN_EFORMAT && L->skip_bad && !L->is_auto) {
    L->skipped++;
    return CLEARN_OK;
  }
  /* A header that is not one: EINVAL internally so it is never skipped. */
  return rc == CLEARN_EINVAL ? CLEARN_EFORMAT : rc;
}

/* ---- the fast path ----------------------------------------------------------
 * Most lines of a well-formed file look exactly like "123,456,3.5,789\n".
 * The fast path parses such a line in one pass with no bounds checks (the
 * block it runs on ends with '\n', which stops every scan) and returns
 * NULL at the first surprise -- spaces, signs, long numbers, exponents,
 * a missing or extra field, an empty line -- so the general parser above
 * handles that line, with its messages.  Whatever the fast path accepts,
 * the general parser would accept with the same values. */

/* Optional '-' and 1..18 digits (no overflow possible). */
static const char *fast_id(const char *p, int64_t *out) {
  const char *s;
  uint64_t v = 0;
  int neg = *p == '-';
  p += neg;
  s = p;
  while ((unsigned)(*p - '0') <= 9) v = v * 10 + (unsigned)(*p++ - '0');
  if (p == s || p - s > 18) return NULL;
  *out = neg ? -(int64_t)v : (int64_t)v;
  return p;
}

/* [-]digits[.digits] with at most 18 digits and no exponent, when the
 * fast path of parse_float applies to it. */
static const char *fast_rating(const char *p, float *out) {
  uint64_t m = 0, bits;
  int neg = *p == '-', nd = 0, fd = 0;
  double d;
  p += neg;
  while ((unsigned)(*p - '0') <= 9) m = m * 10 + (unsigned)(*p++ - '0'), nd++;
  if (*p == '.')
    for (p++; (unsigned)(*p - '0') <= 9; p++)
      m = m * 10 + (unsigned)(*p - '0'), fd++;
  if (nd + fd == 0 || nd + fd > 18 || m > (UINT64_C(1) << 53) || *p == 'e' ||
      *p == 'E')
    return NULL;
  d = (double)m / pow10_tab[fd];
  memcpy(&bits, &d, sizeof bits);
  if ((bits & UINT64_C(0x1FFFFFFF)) == UINT64_C(0x10000000)) return NULL;
  *out = neg ? -(float)d : (float)d;
  return p;
}

/* Can the fast path read this format?  User, item, rating (or implicit)
 * in columns 0, 1, 2. */
static int fast_ok(const text_format *f) {
  return f->ucol == 0 && f->icol == 1 &&
         (f->rcol == 2 || (f->rcol == -1 && f->min_fields == 2));
}

/* One line at p (a '\n' follows somewhere): the position after its '\n'
 * with the rating added, or NULL to leave the line to the general parser
 * (nothing consumed, nothing added).  *rc receives a fatal error. */
static const char *fast_line(loader *L, const char *p, const char *stop,
                             int *rc) {
  const text_format *f = &L->f;
  const char d = f->delim;
  const int two = f->dlen == 2;
  int64_t uid, iid, ts;
  float val = 1.0f;
  int nf;
  if ((p = fast_id(p, &uid)) == NULL || *p != d || (two && p[1] != ':'))
    return NULL;
  if ((p = fast_id(p + f->dlen, &iid)) == NULL) return NULL;
  /* Item ids come in no order: start fetching the id's slot while the
   * rest of the line is parsed. */
  PREFETCH(&L->items.slot[mix64((uint64_t)iid) & L->items.mask]);
  nf = 2;
  if (f->rcol == 2) {
    if (*p != d || (two && p[1] != ':')) return NULL;
    if ((p = fast_rating(p + f->dlen, &val)) == NULL) return NULL;
    nf = 3;
  }
  if (*p == d) {
    if (f->tcol == nf) {
      if ((two && p[1] != ':') ||
          (p = fast_id(p + f->dlen, &ts)) == NULL)
        return NULL;
      nf++;
    } else if (f->max_fields == INT_MAX) {
      p = memchr(p, '\n', (size_t)(stop - p)); /* extra columns: anything */
      nf = f->min_fields;
    } else {
      return NULL;
    }
  }
  if (*p == '\r') p++;
  if (*p != '\n' || nf < f->min_fields) return NULL;
  L->line++;
  *rc = add(L, uid, iid, val);
  return p + 1;
}

/* The complete lines of [p, stop), stop[-1] == '\n'. */
static int parse_block(loader *L, const char *p, const char *stop) {
  int rc = CLEARN_OK;
  while (p < stop) {
    const char *q, *nl;
    if (L->fast && (q = fast_line(L, p, stop, &rc)) != NULL) {
      if (rc != CLEARN_OK) return rc;
      p = q;
      continue;
    }
    nl = memchr(p, '\n', (size_t)(stop - p));
    if ((rc = handle_line(L, p, nl)) != CLEARN_OK) return rc;
    L->fast = !L->is_auto && !L->header_pending && fast_ok(&L->f);
    p = nl + 1;
  }
  return CLEARN_OK;
}

static int load_text(loader *L, int fd, clearn_ratings **out) {
  char *buf = malloc(BUF_BYTES);
  size_t have = 0;
  int rc = CLEARN_OK, eof = 0;
  int64_t *uids = NULL, *iids = NULL, k;
  int32_t *ur = NULL, *ir = NULL;
  if (buf == NULL || !table_init(&L->users, 1024) ||
      !table_init(&L->items, 1024)) {
    rc = clearn__err(CLEARN_ENOMEM, "%s: out of memory", L->path);
    goto cleanup;
  }
  while (!eof) {
    const char *p = buf, *end, *nl;
    ssize_t got;
    if (have == BUF_BYTES) {
      rc = clearn__err(CLEARN_EFORMAT, "%s:%lld: line longer than %zu bytes",
                       L->path, (long long)L->line + 1, BUF_BYTES);
      goto cleanup;
    }
    got = read(fd, buf + have, BUF_BYTES - have);
    if (got < 0) {
      if (errno == EINTR) continue;
      rc = clearn__err(CLEARN_EIO, "%s: read failed: %s", L->path,
                       strerror(errno));
      goto cleanup;
    }
    eof = got == 0;
    have += (size_t)got;
    end = buf + have;
    for (nl = end; nl > p && nl[-1] != '\n'; nl--) {
    }
    if (nl > p) {
      if ((rc = parse_block(L, p, nl)) != CLEARN_OK) goto cleanup;
      p = nl;
    }
    if (eof && p < end) {
      if ((rc = handle_line(L, p, end)) != CLEARN_OK) goto cleanup;
      p = end;
    }
    have = (size_t)(end - p);
    memmove(buf, p, have);
  }
  free(buf);
  buf = NULL;
  if (!table_finish(&L->users, &uids, &ur) ||
      !table_finish(&L->items, &iids, &ir)) {
    rc = clearn__err(CLEARN_ENOMEM, "%s: out of memory", L->path);
    goto cleanup;
  }
  for (k = 0; k < L->n; k++) {
    L->u[k] = ur[L->u[k]];
    L->i[k] = ir[L->i[k]];
  }
  rc = clearn__ratings_build(uids, L->users.n, iids, L->items.n, L->u, L->i,
                             L->v, L->n, out);
  uids = iids = NULL; /* taken by the build, even on failure */
cleanup:
  free(buf);
  free(uids);
  free(iids);
  free(ur);
  free(ir);
  return rc;
}

int clearn_ratings_load_text(const char *path, const char *format, int flags,
                             int64_t *n_skipped, clearn_ratings **out) {
  loader L;
  int fd, rc;
  struct stat st;
  if (out == NULL) return clearn__err(CLEARN_EINVAL, "ratings: out is NULL");
  *out = NULL;
  if (n_skipped) *n_skipped = 0;
  if (path == NULL) return clearn__err(CLEARN_EINVAL, "ratings: path is NULL");
  if (format == NULL) format = "auto";
  if (flags & ~CLEARN_RATINGS_SKIP_BAD)
    return clearn__err(CLEARN_EINVAL, "ratings: unknown flags 0x%x", flags);
  memset(&L, 0, sizeof L);
  if ((rc = parse_format(format, &L.f, &L.is_auto)) != CLEARN_OK) return rc;
  L.path = path;
  L.header_pending = L.f.header;
  L.skip_bad = (flags & CLEARN_RATINGS_SKIP_BAD) != 0;
  L.last_u = -1;
  L.fast = !L.is_auto && !L.header_pending && fast_ok(&L.f);
  if ((fd = open(path, O_RDONLY)) < 0)
    return clearn__err(CLEARN_EIO, "cannot open '%s': %s", path,
                       strerror(errno));
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    return clearn__err(CLEARN_EIO, "cannot read '%s': it is a directory",
                       path);
  }
  rc = load_text(&L, fd, out);
  close(fd);
  free(L.users.slot);
  free(L.items.slot);
  free(L.u);
  free(L.i);
  free(L.v);
  if (L.slow != (locale_t)0) freelocale(L.slow);
  if (rc == CLEARN_OK && n_skipped) *n_skipped = L.skipped;
  return rc;
}
