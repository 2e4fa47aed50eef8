"""Ratings data sets: MovieLens files through the C loaders, and generated
MovieLens-shaped data.

Both return a pandas DataFrame with columns user, item, rating (int64,
int64, float32) when pandas is installed and as_frame is true, else a tuple
of three numpy arrays (users, items, ratings) in user-major order.
"""
import ctypes
import os

import numpy as np

from ._lib import lib, raise_for
from .recommender import Ratings

# The ratings file of each MovieLens layout, looked for in a directory.
_RATINGS_FILES = ["u.data", "ratings.dat", "ratings-notime.dat",
                  "ratings.csv"]


def _ratings_path(path):
    path = os.fspath(path)
    if os.path.isdir(path):
        for name in _RATINGS_FILES:
            p = os.path.join(path, name)
            if os.path.exists(p):
                return p
        raise FileNotFoundError("no MovieLens ratings file (%s) in '%s'"
                                % (", ".join(_RATINGS_FILES), path))
    return path


def _out(r, as_frame):
    users, items, values = r.triples()
    if as_frame:
        try:
            import pandas as pd
        except ImportError:
            as_frame = False
    if not as_frame:
        return users, items, values
    return pd.DataFrame({"user": users, "item": items, "rating": values})


def load_movielens(path, format="auto", as_frame=True, skip_bad=False):
    """Ratings of a MovieLens data set (or any delimited ratings text, or a
    clearn HDF5 ratings file) through the C loader
    (clearn_ratings_load_text / clearn_ratings_load).

    path: a ratings file or a MovieLens directory (ml-100k's u.data,
    ml-1m/10m's ratings.dat, ml-20m/25m/latest's ratings.csv).  format:
    "auto" (by the first line), "ml-100k", "ml-1m", "ml-latest",
    "csv:U,I,R[:header]", "tsv:...", or "hdf5".  skip_bad: skip malformed
    lines instead of raising (ClearnFormatError naming file and line).
    """
    p = _ratings_path(path)
    out = ctypes.c_void_p()
    if format == "hdf5" or (format == "auto" and p.endswith((".h5",
                                                              ".hdf5"))):
        raise_for(lib.clearn_ratings_load(p.encode(), ctypes.byref(out)))
    else:
        skipped = ctypes.c_int64()
        raise_for(lib.clearn_ratings_load_text(
            p.encode(), format.encode(), 1 if skip_bad else 0,
            ctypes.byref(skipped), ctypes.byref(out)))
    return _out(Ratings.adopt(out), as_frame)


def movie_titles(path):
    """{movie id: title} from a MovieLens directory (u.item, movies.dat
    or movies.csv); {} when there is no movies file."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        path = os.path.dirname(path)
    for name, sep in (("u.item", "|"), ("movies.dat", "::")):
        p = os.path.join(path, name)
        if os.path.exists(p):
            titles = {}
            with open(p, encoding="latin-1") as f:
                for line in f:
                    parts = line.rstrip("\n").split(sep)
                    if len(parts) > 1:
                        titles[int(parts[0])] = parts[1]
            return titles
    titles = {}
    p = os.path.join(path, "movies.csv")
    if os.path.exists(p):
        import csv
        with open(p, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                titles[int(row["movieId"])] = row["title"]
    return titles


def make_ratings(n_users=943, n_items=1682, n_ratings=100_000,
                 min_per_user=20, rank=10, noise=0.5, stars=1, seed=0,
                 as_frame=True):
    """MovieLens-shaped synthetic ratings (clearn_ratings_generate):
    long-tailed user and item counts, every user with at least
    min_per_user ratings, non-dense ids, ratings from a rank-`rank` model
    with biases and Gaussian noise around 3.5; stars=1 rounds to whole
    stars 1..5, 2 to half stars, 0 keeps continuous values.  The defaults
    have ml-100k's shape.  Deterministic for a seed."""
    out = ctypes.c_void_p()
    raise_for(lib.clearn_ratings_generate(
        int(n_users), int(n_items), int(n_ratings), int(min_per_user),
        int(rank), float(noise), int(stars), int(seed), ctypes.byref(out)))
    return _out(Ratings.adopt(out), as_frame)


def train_test_split_ratings(users, items, ratings, test_fraction=0.1,
                             seed=0):
    """Hash holdout of ratings as the C library and the command line split
    (clearn_ratings_split_hash): ((u, i, r) train, (u, i, r) test)."""
    users = np.asarray(users, np.int64)
    items = np.asarray(items, np.int64)
    ratings = np.asarray(ratings, np.float32)
    r = Ratings(users, items, ratings)
    tr, te = ctypes.c_void_p(), ctypes.c_void_p()
    raise_for(lib.clearn_ratings_split_hash(r.ptr, float(test_fraction),
                                            int(seed), ctypes.byref(tr),
                                            ctypes.byref(te)))
    return Ratings.adopt(tr).triples(), Ratings.adopt(te).triples()
