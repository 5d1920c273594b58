.PHONY: run test lint bench
run:
	bash scripts/run.sh
test:
	bash scripts/test.sh
lint:
	bash scripts/lint.sh
bench:
	bash bench/run.sh
