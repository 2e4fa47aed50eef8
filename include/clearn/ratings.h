/*
 * clearn/ratings.h -- (user, item, rating) data for recommenders.
 *
 * A clearn_ratings holds n ratings as two CSR matrices over dense 32-bit
 * indices -- by user (rows = users, columns = items) and its transpose by
 * item -- plus the maps from dense index back to the original 64-bit ids.
 * Any id that fits in int64 works; dense indices are assigned in ascending
 * id order, so index i of the user map is the i-th smallest user id.
 * Rating values are float32 and must be finite.
 *
 * A ratings object is immutable once built and owns all its storage;
 * concurrent read-only use from several threads is safe.  Splits and
 * loaders return new objects, each with its own id maps (holding only the
 * ids present in it); estimators map ids, never dense indices, so models fit
 * on one object predict on another.
 */
#ifndef CLEARN_RATINGS_H
#define CLEARN_RATINGS_H

#include "clearn/core.h"
#include "clearn/matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clearn_ratings clearn_ratings;

/* Build from n triples (copied; the arrays are not kept).  Duplicate
 * (user, item) pairs are kept as separate ratings, as Spark does.  A
 * non-finite value: CLEARN_ENUMERIC naming its position.  n may be 0. */
CLEARN_API int clearn_ratings_from_triples(const int64_t *users,
                                           const int64_t *items,
                                           const float *values, int64_t n,
                                           clearn_ratings **out);

/* Free everything.  NULL is a no-op. */
CLEARN_API void clearn_ratings_free(clearn_ratings *r);

CLEARN_API int64_t clearn_ratings_nnz(const clearn_ratings *r);
CLEARN_API int64_t clearn_ratings_n_users(const clearn_ratings *r);
CLEARN_API int64_t clearn_ratings_n_items(const clearn_ratings *r);

/* Dense index -> original id maps (ascending), owned by r. */
CLEARN_API const int64_t *clearn_ratings_user_ids(const clearn_ratings *r);
CLEARN_API const int64_t *clearn_ratings_item_ids(const clearn_ratings *r);

/* Original id -> dense index, or -1 if the id is absent (binary search). */
CLEARN_API int64_t clearn_ratings_user_index(const clearn_ratings *r,
                                             int64_t user_id);
CLEARN_API int64_t clearn_ratings_item_index(const clearn_ratings *r,
                                             int64_t item_id);

/* The two CSR matrices (float32 values), as views owned by r: valid while
 * r lives, never freed by the caller.  Within a row, entries are sorted by
 * column. */
CLEARN_API const clearn_csr *clearn_ratings_by_user(const clearn_ratings *r);
CLEARN_API const clearn_csr *clearn_ratings_by_item(const clearn_ratings *r);

/* Copy the ratings out as triples of original ids, in user-major order
 * (users ascending, items ascending within a user).  Each array has room for
 * nnz entries; any may be NULL to skip it. */
CLEARN_API int clearn_ratings_triples(const clearn_ratings *r, int64_t *users,
                                      int64_t *items, float *values);

/* ---- Text loaders -----------------------------------------------------
 * format is one of
 *   "auto"        by the first non-empty line: tab-separated -> ml-100k,
 *                 "::"-separated -> ml-1m, a CSV header -> ml-latest
 *   "ml-100k"     user<TAB>item<TAB>rating<TAB>timestamp
 *   "ml-1m"       user::item::rating[::timestamp]   (also ml-10m)
 *   "ml-latest"   CSV with a header line userId,movieId,rating,timestamp
 *                 (ml-20m, ml-25m, ml-latest, ml-latest-small)
 *   "csv:U,I,R" / "tsv:U,I,R"   generic delimited text, 0-based column
 *                 numbers of user, item and rating; R may be "-" for
 *                 implicit data (every value 1); append ":header" to skip
 *                 one header line, e.g. "csv:0,1,2:header"
 * A malformed line is CLEARN_EFORMAT with "path:line: field N: ..." unless
 * flags has CLEARN_RATINGS_SKIP_BAD, which skips it and counts it in
 * *n_skipped (may be NULL).  Reading is streaming and linear-time. */
#define CLEARN_RATINGS_SKIP_BAD 1
CLEARN_API int clearn_ratings_load_text(const char *path, const char *format,
                                        int flags, int64_t *n_skipped,
                                        clearn_ratings **out);

/* ---- Compact HDF5 ratings files ---------------------------------------
 * save writes schema 2 (docs/ratings-format.md): both CSR copies and the id
 * maps, each array with per-block checksums, atomically (temp file, fsync,
 * rename; a failed save leaves path untouched).  load reads schema 2 and
 * the older schema 1: the arrays are read in place on clearn's threads
 * (clearn_set_num_threads), their checksums, structure and the agreement
 * of the two copies checked, with no parsing, sorting or transposing --
 * over ten times faster than parsing the text (bench/RESULTS.md).
 * Errors: CLEARN_EINVAL (NULL argument), CLEARN_EIO (cannot open or write
 * the file), CLEARN_EFORMAT (not a clearn ratings file, truncated,
 * corrupt, inconsistent; the message names the file and dataset),
 * CLEARN_EVERSION (a newer schema); *out is NULL on failure.  Thread safety
 * as for clearn_ratings_load_part below. */
CLEARN_API int clearn_ratings_save(const clearn_ratings *r, const char *path);
CLEARN_API int clearn_ratings_load(const char *path, clearn_ratings **out);

/* Read only share `part` of `n_parts` of a clearn HDF5 ratings file, for
 * distributed training: each of n_parts processes calls it with its own
 * part and together they read the file once.
 *
 * The parts are contiguous blocks of users in the file's order (ascending
 * user id), balanced by rating count: with N ratings, U users and indptr
 * the file's by-user row pointers (indptr[u] = ratings of the users before
 * u), part p holds users [start(p), start(p+1)), where start(0) = 0,
 * start(n_parts) = U, and otherwise start(p) is the first user u with
 * indptr[u] >= ceil(p * N / n_parts).  Every user, so every rating, is in
 * exactly one part; a part's count differs from N / n_parts by less than
 * the largest user's count; parts may be empty (n_parts > U, say).
 *
 * *out receives a new ratings object (free it with clearn_ratings_free)
 * holding exactly those users' ratings, with their original ids: its user
 * ids are the part's users that have ratings, its item ids only the items
 * they rated, so dense indices are the part's own.  Concatenating the
 * triples (clearn_ratings_triples) of parts 0 .. n_parts-1 gives the
 * triples of clearn_ratings_load.  Only the small arrays (ids, row
 * pointers) are read whole; of the two per-rating arrays only the part's
 * slice is read (an HDF5 hyperslab), with the same checks as a whole load
 * (n_parts = 1: the whole file, read as clearn_ratings_load reads it).
 *
 * Errors (*out NULL): out or path NULL, n_parts outside [1, 2^31 - 1], part
 * outside [0, n_parts): CLEARN_EINVAL naming the parameter; a file that is
 * not HDF5 (a text ratings file): CLEARN_EFORMAT saying partial reads need
 * the HDF5 format (convert once with clearn_ratings_save); otherwise the
 * statuses and messages of clearn_ratings_load, prefixed
 * "load_part '<path>': ".  Not a collective call: it makes no MPI calls
 * and ranks may call it at different times; separate processes may read
 * the same file at once.  Threads: like every clearn file call, safe to
 * call concurrently when the HDF5 library is built thread-safe
 * (H5_HAVE_THREADSAFE, as Debian's libhdf5 is), which then runs the reads
 * one at a time; with a non-thread-safe HDF5, serialize clearn's file
 * calls. */
CLEARN_API int clearn_ratings_load_part(const char *path, int64_t part,
                                        int64_t n_parts,
                                        clearn_ratings **out);

/* ---- Splits ------------------------------------------------------------- */

/* Random holdout: each rating goes to test with probability close to
 * test_fraction (exactly round(test_fraction * nnz) ratings go to test),
 * chosen by a seeded shuffle.  Deterministic for a given seed. */
CLEARN_API int clearn_ratings_split_random(const clearn_ratings *r,
                                           double test_fraction,
                                           uint64_t seed,
                                           clearn_ratings **train,
                                           clearn_ratings **test);

/* Hash holdout: each rating goes to test when a hash of (seed, user id,
 * item id, and for a repeated pair its occurrence number) falls below
 * test_fraction -- a Bernoulli draw per rating, so the test share is close
 * to test_fraction but not exact.  The choice for a rating depends on
 * nothing else: not on the order of the data, the rest of the file, or how
 * it is shared out over MPI ranks, so ranks that split their own shares
 * together split the whole set exactly as one process would (as long as
 * repeated pairs sit on one rank, as clearn_mpi_ratings_load arranges).
 * The command line's --test-fraction uses this split.  Hash:
 *   key = mix(mix(seed) ^ user); h = mix(mix(key ^ item) + occurrence);
 *   test iff (h >> 11) 2^-53 < test_fraction, mix = splitmix64's finalizer. */
CLEARN_API int clearn_ratings_split_hash(const clearn_ratings *r,
                                         double test_fraction, uint64_t seed,
                                         clearn_ratings **train,
                                         clearn_ratings **test);

/* Per-user leave-k-out: for every user with more than k ratings, k of them
 * (chosen at random with the seed) go to test; users with k or fewer keep
 * all their ratings in train. */
CLEARN_API int clearn_ratings_split_leave_k_out(const clearn_ratings *r,
                                                int64_t k, uint64_t seed,
                                                clearn_ratings **train,
                                                clearn_ratings **test);

/* ---- Generator ----------------------------------------------------------
 * MovieLens-shaped synthetic data: long-tailed (power-law) user and item
 * counts, every user with at least min_per_user ratings, non-dense ids,
 * ratings from a rank-`rank` model plus user/item biases and Gaussian noise
 * of standard deviation `noise` around a mean of 3.5.  stars: 1 rounds to
 * MovieLens's whole stars 1..5, 2 to half stars 0.5..5, 0 keeps the
 * continuous values (for tests that need the noise level exactly).
 * Users or items that draw no rating are left out, so the result may hold
 * fewer than n_users users or n_items items.  Exactly nnz ratings, no
 * duplicate pairs.  Deterministic for a given seed, fast (tens of millions
 * of ratings in seconds).  ml-20m's shape: 138493 users, 26744 items, 20000263
 * ratings, min_per_user 20. */
CLEARN_API int clearn_ratings_generate(int64_t n_users, int64_t n_items,
                                       int64_t nnz, int64_t min_per_user,
                                       int rank, double noise, int stars,
                                       uint64_t seed, clearn_ratings **out);

#ifdef __cplusplus
}
#endif
#endif /* CLEARN_RATINGS_H */
