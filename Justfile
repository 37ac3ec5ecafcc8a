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

# The product: build the wheel, install it into a fresh venv and run the demo from outside the checkout
# (all of CI: `.ci/run`).
package:
    rm -rf /tmp/cxrdb-wheel && python3 -m venv .venv && .venv/bin/pip wheel -q --no-deps -w /tmp/cxrdb-wheel .
    python3 -m venv /tmp/cxrdb-wheel/venv && /tmp/cxrdb-wheel/venv/bin/pip install -q /tmp/cxrdb-wheel/cxrdb-*.whl
    cd /tmp/cxrdb-wheel && venv/bin/cxrdb demo --out demo-out && venv/bin/cxrdb check --db demo-out/catalog.duckdb --release demo-out/release && venv/bin/cxrdb diff demo-out/release demo-out/release --out diff-out

# CI, as it runs on a clean machine.
ci:
    ./.ci/run
