# The two commands of the README, and a few helpers.
PORT ?= 8000
BIN := .venv/bin

.PHONY: run test lint bench clean

## make run: install, migrate, seed the demo store, serve on http://127.0.0.1:$(PORT)
run:
	@scripts/setup.sh run
	@$(BIN)/chatcart migrate
	@$(BIN)/chatcart seed-demo
	@exec $(BIN)/chatcart run --port $(PORT)

## make test: install everything the tests need, lint, run the whole suite
test:
	@scripts/setup.sh test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint:
	$(BIN)/ruff check .

## make bench: install wrk and the bench extras, then run every benchmark (~10 min, not a test)
bench:
	@scripts/setup.sh test
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || \
		echo "wrk not installed: ingest falls back to the Python load generator"
	@$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf .venv .pytest_cache .ruff_cache tests/artifacts
