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

clean:
	rm -rf .venv .pytest_cache .ruff_cache tests/artifacts
