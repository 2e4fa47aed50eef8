"""The comm= path under a real mpirun: python/tests/mpi_comm_check.py on
2 ranks (each fits on its share, compares with the serial fit)."""
import os
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("mpi4py", reason="python3-mpi4py is not installed")


def test_mpirun_np2_comm_fits_match_serial():
    mpirun = shutil.which("mpirun") or shutil.which("mpiexec")
    if mpirun is None:
        pytest.skip("no mpirun on PATH (openmpi-bin)")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    script = os.path.join(os.path.dirname(__file__), "mpi_comm_check.py")
    cmd = [mpirun, "-np", "2", "--oversubscribe", sys.executable, script]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                       timeout=240)
    print(p.stdout)
    print(p.stderr, file=sys.stderr)
    assert p.returncode == 0, p.stderr[-3000:]
    for r in (0, 1):
        assert "rank %d: ALS distributed == serial (bitwise)" % r in p.stdout
        for cls in ("Ridge", "Lasso", "ElasticNet", "LogisticRegression"):
            assert "rank %d: %s distributed == serial" % (r, cls) in p.stdout
    assert "all ranks passed (np 2)" in p.stdout
