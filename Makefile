# Daybook: the two commands are `make demo` and `make test`. Everything they need is installed
# here (Debian 12 packages, Kafka jars from Maven Central); nothing is installed by hand.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
# Warnings are errors in CI (CI=true is set by the CI runner).
WERROR ?= $(if $(filter true,$(CI)),ON,OFF)
JOBS ?= $(shell nproc)

APT_PACKAGES := g++ cmake ninja-build pkg-config ccache librdkafka-dev librocksdb-dev libprotobuf-dev \
  protobuf-compiler libspdlog-dev catch2 libssl-dev libcli11-dev libcpp-httplib-dev \
  openjdk-17-jre-headless maven python3 procps openssl curl chromium clang-14 libclang-rt-14-dev

.PHONY: all deps build fuzz-build kafka-jars test test-long demo bench clean

all: build

# Installs the Debian packages that are missing (needs root or sudo).
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi; \
	node_major=$$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0); \
	if [ "$$node_major" -lt 20 ] || ! command -v npm >/dev/null; then \
	  echo "the dashboard's browser test needs Node.js 20 or later with npm (found: $$(node --version 2>/dev/null || echo none))"; exit 1; \
	fi

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DDAYBOOK_WERROR=$(WERROR) \
	  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The libFuzzer targets (clang-14, build/fuzz): make test runs each for 10 s over its corpus.
fuzz-build: deps
	scripts/fuzz build

kafka-jars: deps
	scripts/kafka-local fetch

test: build fuzz-build kafka-jars
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900 -j2 -L 'unit|integration|broker'

# The long tier: everything (label long too), with 100 faults in the bank-under-faults test instead
# of 20, 20 broker SIGKILLs in the durability test instead of 3, 40 projector crashes instead of 8,
# and 300 s per fuzz target instead of 10.
test-long: build fuzz-build kafka-jars
	cd $(BUILD_DIR) && DAYBOOK_BANK_FAULTS=100 DAYBOOK_DURABILITY_FAULTS=20 DAYBOOK_PROJECTOR_CRASHES=40 DAYBOOK_FUZZ_SECONDS=300 ctest --output-on-failure --timeout 3600

demo: build kafka-jars
	scripts/demo

bench: build kafka-jars
	scripts/bench

clean:
	rm -rf $(BUILD_DIR)
