# cxrdb tasks. `just` runs the tests and the linters.
default: test lint

# Set up the virtual environment with everything (runtime + dev + Dask + GDCM).
setup:
    python3 -m venv .venv
    .venv/bin/pip install -q -e '.[dev]'

# Run the whole pipeline on the bundled demo source into demo-out/.
demo: setup
    .venv/bin/cxrdb demo --out demo-out

# The test suite (what CI runs).
test: setup
    .venv/bin/pytest

# Linters: ruff over code, tests, benches and scripts.
lint:
    .venv/bin/ruff check .

# Benchmarks: print figures and ratios against naive references (no timed asserts).
bench:
    .venv/bin/python bench/ingest.py --n 10000
    .venv/bin/python bench/convert.py
    .venv/bin/python bench/convert_cli.py --images 200
    .venv/bin/python bench/label.py
