/*
 * clearn/metrics.h -- scoring functions, as scikit-learn.metrics.
 *
 * Every function takes borrowed float64 matrices of n rows (y_true and
 * predictions of the same shape unless stated), an optional sample_weight
 * (NULL or n x 1, finite, >= 0, not all zero) and writes the score into
 * *out.  Nothing is allocated or kept; all functions are thread-safe.
 * Errors: NULL arguments, another dtype or mismatched shapes are
 * CLEARN_EINVAL / CLEARN_ESHAPE naming the array; non-finite values
 * CLEARN_ENUMERIC naming the position.  Multi-column regression metrics
 * average the columns uniformly (scikit-learn's multioutput =
 * "uniform_average").  Class labels are float64 holding integers, as for
 * the estimators (clearn/estimator.h).
 */
#ifndef CLEARN_METRICS_H
#define CLEARN_METRICS_H

#include "clearn/core.h"
#include "clearn/matrix.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Weighted fraction of rows with y_pred == y_true (n x 1 each). */
CLEARN_API int clearn_metric_accuracy(const clearn_matrix *y_true,
                                      const clearn_matrix *y_pred,
                                      const clearn_matrix *sample_weight,
                                      double *out);

/* Cross-entropy of predicted probabilities: proba is n x K with column k
 * for the k-th smallest distinct label of y_true (the "classes" order of
 * a classifier), or n x 1 holding the probability of the larger label
 * when y_true has two labels.  Rows are renormalized to sum 1 and clipped
 * to [eps, 1 - eps] with eps = 2.2e-16 (scikit-learn 1.2's eps="auto").
 * A K that does not match the number of labels in y_true: CLEARN_ESHAPE. */
CLEARN_API int clearn_metric_log_loss(const clearn_matrix *y_true,
                                      const clearn_matrix *proba,
                                      const clearn_matrix *sample_weight,
                                      double *out);

/* Area under the ROC curve for two classes (the larger label positive)
 * from scores (n x 1, larger = more positive; ties count one half).
 * y_true with one label only: CLEARN_EINVAL ("Only one class present in
 * y_true..."); more than two: CLEARN_EINVAL. */
CLEARN_API int clearn_metric_roc_auc(const clearn_matrix *y_true,
                                     const clearn_matrix *score,
                                     const clearn_matrix *sample_weight,
                                     double *out);

/* Coefficient of determination (1 for a constant y_true predicted
 * exactly, else 0 when y_true is constant), mean squared error, mean
 * absolute error. */
CLEARN_API int clearn_metric_r2(const clearn_matrix *y_true,
                                const clearn_matrix *y_pred,
                                const clearn_matrix *sample_weight,
                                double *out);
CLEARN_API int clearn_metric_mse(const clearn_matrix *y_true,
                                 const clearn_matrix *y_pred,
                                 const clearn_matrix *sample_weight,
                                 double *out);
CLEARN_API int clearn_metric_mae(const clearn_matrix *y_true,
                                 const clearn_matrix *y_pred,
                                 const clearn_matrix *sample_weight,
                                 double *out);

#ifdef __cplusplus
}
#endif
#endif /* CLEARN_METRICS_H */
