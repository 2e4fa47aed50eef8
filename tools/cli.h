/*
 * cli.h -- what the files of the clearn command line share (clearn.c:
 * supervised kinds, predict, info, params; rec.c: recommenders, convert,
 * recommend, and the MPI runs).
 */
#ifndef CLEARN_CLI_H
#define CLEARN_CLI_H

#include <clearn/clearn.h>

enum { EXIT_USAGE = 2, EXIT_DATA = 3, EXIT_RUNTIME = 4 };

/* Rank in MPI_COMM_WORLD under mpirun, else 0; only rank 0 prints. */
extern int cli_rank, cli_size;

double cli_now(void);
/* Exit code for a clearn status. */
int cli_exit_for(int status);
/* Print "clearn: <what>: <message>" on stderr (rank 0 only); returns the
 * exit code for status. */
int cli_fail(int status, const char *what);
int cli_usage(const char *msg);

/* rec.c */
int cli_train_ratings(clearn_estimator *est, int argc, char **argv);
int cli_recommend(int argc, char **argv);
int cli_convert(int argc, char **argv);
/* predict for a recommender: rows of "user,item" -> ratings */
int cli_predict_pairs(clearn_estimator *est, const double *v, long rows,
                      long cols, const char *data, FILE *out);
/* MPI: started when launched by mpirun (see rec.c) */
void cli_mpi_start(int *argc, char ***argv);
int cli_mpi_finish(int code);

#endif /* CLEARN_CLI_H */
