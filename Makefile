GO ?= go

.PHONY: build run test bench bench-profile fuzz vet clean

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
# and first contacts of 500 new users next to an echo bot, 2,000 deliveries
# with PROVIDER_RATE=1000 next to an echo bot that uploads, RSS while
# relaying a big video).
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./core/
	$(GO) test -run '^$$' -bench . -benchtime 3000x ./storage/
	$(GO) test -run '^$$' -bench . -benchtime 1x ./bots/telegram/

# Where the bot's CPU goes while it delivers 2,000 videos (the fakes' and
# the echo bot's samples left out).
bench-profile:
	mkdir -p bin
	$(GO) test -run '^$$' -bench '^BenchmarkDeliveries$$' -benchtime 1x -cpuprofile bin/deliveries.cpu -o bin/telegram.test ./bots/telegram/
	$(GO) tool pprof -top -cum -tagfocus side=bot -nodecount 50 bin/telegram.test bin/deliveries.cpu

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
