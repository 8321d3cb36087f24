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
# and CPU with 10,000 jobs, polling efficiency next to fixed 5-s polling,
# three providers with 3,000 jobs in flight next to one provider: busiest
# second per provider, detection delay, heap and CPU; Telegram commands/s
# next to an echo bot, RSS while relaying a big video).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./core/
	$(GO) test -run '^$$' -bench . -benchtime 3000x ./storage/
	$(GO) test -run '^$$' -bench . -benchtime 1x ./bots/telegram/

FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz ^FuzzNormalize$$ -fuzztime $(FUZZTIME) ./core/
	$(GO) test -run '^$$' -fuzz ^FuzzParse$$ -fuzztime $(FUZZTIME) ./bots/chat/
	$(GO) test -run '^$$' -fuzz ^FuzzParseStatus$$ -fuzztime $(FUZZTIME) ./core/provider/sorapro/
	$(GO) test -run '^$$' -fuzz ^FuzzParseCreate$$ -fuzztime $(FUZZTIME) ./core/provider/sorapro/
	$(GO) test -run '^$$' -fuzz ^FuzzParseStatus$$ -fuzztime $(FUZZTIME) ./core/provider/videocreate/
	$(GO) test -run '^$$' -fuzz ^FuzzParseCreate$$ -fuzztime $(FUZZTIME) ./core/provider/videocreate/

clean:
	rm -rf bin out
