/*
 * clearn/clearn.h -- umbrella header of the clearn machine-learning library.
 *
 * Include this one header to use the serial library:
 *   core.h       versions, status codes, error messages, threads
 *   matrix.h     dense and CSR containers (owned storage vs borrowed views)
 *   estimator.h  the generic estimator: params, fit, predict, score,
 *                fitted attributes, save/load to HDF5
 *   metrics.h    accuracy, log loss, ROC AUC, R^2, MSE, MAE
 *   ratings.h    (user, item, rating) data: loaders, splits, generator
 *   recommender.h  recommender calls (ALS): fit on ratings, predict
 *                pairs, recommend, similar items, fold-in, metrics
 *
 * The distributed (MPI) part has its own header, clearn/clearn_mpi.h, and
 * its own library (CMake target clearn::clearn_mpi, pkg-config clearn-mpi).
 */
#ifndef CLEARN_CLEARN_H
#define CLEARN_CLEARN_H

#include "clearn/core.h"
#include "clearn/matrix.h"
#include "clearn/estimator.h"
#include "clearn/metrics.h"
#include "clearn/ratings.h"
#include "clearn/recommender.h"

#endif /* CLEARN_CLEARN_H */
