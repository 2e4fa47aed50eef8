# Lets one test module import helpers from another (test_als uses
# test_linear's GIL probe) however pytest is started.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
