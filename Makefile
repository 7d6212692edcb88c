# SPDX-License-Identifier: GPL-2.0
#
# csq: the cancel-safe request queue.  `make run` boots the stock kernel and
# shows the demo; `make check` runs every test.  See README.md.
#
# Variables:
#   KDIR=<dir>   kernel build tree for `make modules` (default: the stock
#                Debian 6.1 headers)
#   W=, C=, V=   passed to kbuild by `make modules`
#   QEMU_ACCEL, CSQ_TIMEOUT, CSQ_QUIET, CSQ_CMDLINE   see qemu/boot.sh
#   DURATION=<s> how long `make stress` storms (default 20)
#   KERNELVER=<release>  kernel for `make dkms-install` (default: running)
#   DKMS_ROOT=<dir>      `make dkms-install` into dkms trees under <dir>
#   CSQ_KUNIT_ARCH       architecture of `make kunit-tree` (default um)
#
# Kbuild (not this file) is what kbuild reads, in and out of tree.

Q := qemu
RESULTS := build/results
SUMMARY := $(Q)/summary.sh

# Evaluated once, and only by the targets that need the kernel tree.
LINUX_SRC = $(eval LINUX_SRC := $(shell $(Q)/linux-source.sh))$(LINUX_SRC)

USER_SRCS := $(wildcard userspace/*.c)
USER_BINS := $(USER_SRCS:userspace/%.c=build/userspace/%)
USER_DEPS := $(wildcard userspace/*.h module/uapi/linux/*.h) Makefile
USER_CFLAGS := -static -O2 -Wall -Wextra -pthread -I module/uapi
# aio and io_uring, for the asynchronous cases (linked only where used).
USER_LIBS := -luring -laio

LINT_RESULTS := lint-checkpatch lint-sparse lint-warnings lint-kernel-doc lint-docs
KUNIT_RESULTS := kunit-debug console-debug-kunit
UTEST_RESULTS := utest-stock console-stock-utest utest-debug console-debug-utest
STRESS_RESULTS := stress-debug console-debug-stress
FAULTS_RESULTS := faults-debug console-debug-faults
LOADUNLOAD_RESULTS := loadunload-debug console-debug-loadunload
DKMS_RESULTS := dkms-stock
KUNIT_TREE_RESULTS := kunit-tree
DURATION ?= 20

.PHONY: all deps modules userspace run kunit utest lint check clean bench
.PHONY: stress faults loadunload dkms-check dkms-install dkms-uninstall
.PHONY: kunit-tree

# The guests and lint share build/modules and the console; -j must not
# interleave them.
.NOTPARALLEL:

all: modules userspace

deps:
	@$(Q)/deps.sh

modules: deps
	@$(Q)/build-modules.sh "$(KDIR)" $(if $(W),W=$(W)) $(if $(C),C=$(C)) $(if $(V),V=$(V))

userspace: $(USER_BINS)

# Every userspace/*.c is one static binary; *_test ones are run by utest.
# -isystem: kselftest_harness.h itself trips -Wextra (unused-parameter,
# clobbered) inside its macros; our own code must still be clean.
build/userspace/%: userspace/%.c $(USER_DEPS) | deps
	@mkdir -p $(@D)
	@echo "  CC      $@"
	@$(CC) $(USER_CFLAGS) -isystem $(LINUX_SRC)/tools/testing/selftests -o $@ $< $(USER_LIBS)

run: userspace
	@$(Q)/guest.sh stock run

# A guest that fails still leaves a console to count; only then does the
# half fail, through its summary.
kunit: deps
	@rm -f $(KUNIT_RESULTS:%=$(RESULTS)/%)
	@$(Q)/guest.sh debug kunit || true
	@$(Q)/kunit-results.sh debug-kunit kunit-debug
	@$(SUMMARY) $(KUNIT_RESULTS)

# csq dropped into a copy of the kernel tree, its suites run by kunit.py.
kunit-tree: deps
	@rm -f $(KUNIT_TREE_RESULTS:%=$(RESULTS)/%)
	@$(Q)/kunit-tree.sh || true
	@$(SUMMARY) $(KUNIT_TREE_RESULTS)

utest: userspace
	@rm -f $(UTEST_RESULTS:%=$(RESULTS)/%)
	@$(Q)/guest.sh stock utest || true
	@$(Q)/utest-results.sh stock-utest utest-stock
	@$(Q)/guest.sh debug utest || true
	@$(Q)/utest-results.sh debug-utest utest-debug
	@$(SUMMARY) $(UTEST_RESULTS)

# Benchmarks in the stock kernel, one boot; the table goes to
# build/bench/results.md.  Timing is reported, never a verdict.
bench: userspace
	@CSQ_TIMEOUT=$${CSQ_TIMEOUT:-1200} $(Q)/guest.sh stock bench
	@$(Q)/bench-results.sh stock-bench

# dkms.conf: `dkms build` against the stock headers, in private trees.
dkms-check: deps
	@rm -f $(DKMS_RESULTS:%=$(RESULTS)/%)
	@$(Q)/dkms-check.sh || true
	@$(SUMMARY) $(DKMS_RESULTS)

# The system's dkms: installs into /lib/modules (root), unless DKMS_ROOT.
dkms-install: deps
	@$(Q)/dkms-install.sh install $(KERNELVER)

dkms-uninstall: deps
	@$(Q)/dkms-install.sh uninstall

lint: deps
	@$(Q)/lint.sh
	@$(SUMMARY) $(LINT_RESULTS)

# The proofs of issue 5, in the debug kernel.  The storm's length reaches
# the guest on the kernel command line; the guest's time limit grows
# with it unless CSQ_TIMEOUT is set.
stress: userspace
	@rm -f $(STRESS_RESULTS:%=$(RESULTS)/%)
	@CSQ_CMDLINE="$(CSQ_CMDLINE) csq_stress_s=$(DURATION)" \
		CSQ_TIMEOUT=$${CSQ_TIMEOUT:-$$(($(DURATION) + 240))} \
		$(Q)/guest.sh debug stress || true
	@$(Q)/job-results.sh debug-stress stress-debug \
		"stress checks, $(DURATION) s" csq_stress kmemleak
	@$(SUMMARY) $(STRESS_RESULTS)

faults: userspace
	@rm -f $(FAULTS_RESULTS:%=$(RESULTS)/%)
	@$(Q)/guest.sh debug faults || true
	@$(Q)/job-results.sh debug-faults faults-debug \
		"fault injection cases and leak scan" csq_faults kmemleak
	@$(SUMMARY) $(FAULTS_RESULTS)

loadunload: userspace
	@rm -f $(LOADUNLOAD_RESULTS:%=$(RESULTS)/%)
	@$(Q)/guest.sh debug loadunload || true
	@$(Q)/job-results.sh debug-loadunload loadunload-debug \
		"load/unload cycles and leak scan" loadunload kmemleak
	@$(SUMMARY) $(LOADUNLOAD_RESULTS)

# Every half runs even when an earlier one failed; a half that cannot run
# at all leaves no result and counts as failed in the total.
check:
	@rm -rf $(RESULTS)
	@$(MAKE) --no-print-directory -k lint dkms-check kunit kunit-tree utest \
		stress faults loadunload SUMMARY=: || true
	@echo "==> summary"
	@$(Q)/summary.sh $(LINT_RESULTS) $(DKMS_RESULTS) $(KUNIT_RESULTS) \
		$(KUNIT_TREE_RESULTS) $(UTEST_RESULTS) $(STRESS_RESULTS) \
		$(FAULTS_RESULTS) $(LOADUNLOAD_RESULTS)

clean:
	rm -rf build
