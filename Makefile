# The two commands of README.md, plus lint. Only Python 3.11+ and make are assumed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

STATEMENT_FONT := var/fonts/opcms-cjk-gb2312.otf
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/opcms_bench

.PHONY: run test lint format lock clean font bench bench-tiny

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $(STAMP)

# The statement PDF's CJK subset font, built at install so the first PDF takes no 10-20 s.
$(STATEMENT_FONT): | $(STAMP)
	$(BIN)/python manage.py build_statement_font

font: $(STATEMENT_FONT)

run: $(STAMP) $(STATEMENT_FONT)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(STAMP) $(STATEMENT_FONT)
	$(BIN)/python -m pytest -n 2 --dist loadfile

# Every bench at full size against a scratch database (it truncates tables); one table.
bench: $(STAMP) $(STATEMENT_FONT)
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/run_all.py

# Every bench at a tiny size (seconds, no timing asserted): a bench a model change broke fails.
bench-tiny: $(STAMP) $(STATEMENT_FONT)
	DATABASE_URL=$(BENCH_DATABASE_URL)_tiny $(BIN)/python bench/run_all.py --tiny

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable > requirements.lock

clean:
	rm -rf $(VENV) var
