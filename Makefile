GO ?= go

.PHONY: build run test bench fuzz vet clean

build:
	$(GO) build -o bin/sorabot ./cmd/sorabot

run: build
	./bin/sorabot

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -race -count=1 ./...

# Performance figures (accept throughput next to bare bbolt, scheduler heap
# and CPU with 10,000 jobs, polling efficiency next to fixed 5-s polling).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzNormalize -fuzztime $(FUZZTIME) ./core/

clean:
	rm -rf bin out
