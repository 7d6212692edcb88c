# SPDX-License-Identifier: GPL-2.0
# Paths and helpers shared by the qemu/ scripts.  Sourced, never run.

CSQ_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CSQ_QEMU=$CSQ_TOP/qemu
CSQ_BUILD=${CSQ_BUILD:-$CSQ_TOP/build}
CSQ_CACHE=${CSQ_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/csq}

# Debian package names that pin both kernels.
CSQ_SRC_PKG=linux-source-6.12
CSQ_STOCK_META=linux-image-amd64

step() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

pkg_version() {
	dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null |
		awk '$3 == "installed" { print $4 }'
}

# The kernel source tree, extracted once per Debian package version.
linux_src_dir() {
	local ver
	ver=$(pkg_version "$CSQ_SRC_PKG")
	[ -n "$ver" ] || die "$CSQ_SRC_PKG is not installed (run: make deps)"
	printf '%s/src/%s-%s\n' "$CSQ_CACHE" "$CSQ_SRC_PKG" "$ver"
}

# Key of the debug kernel: source version plus the fragment's content.
debug_kernel_dir() {
	local ver frag
	ver=$(pkg_version "$CSQ_SRC_PKG")
	frag=$(sha256sum "$CSQ_QEMU/debug.config" | cut -c1-12)
	printf '%s/kernels/debug-%s-%s\n' "$CSQ_CACHE" "$ver" "$frag"
}

# The stock kernel release is whatever the Debian meta package points at.
stock_release_file() {
	printf '%s/stock/release\n' "$CSQ_CACHE"
}

# What kbuild reads, and nothing else, copied into DEST: a build directory,
# a dkms source tree or a kernel tree.  Extra rsync options go first.
#   kbuild_sources_to DEST [rsync options]
kbuild_sources_to() {
	local dest=$1
	shift
	rsync -a "$@" --prune-empty-dirs \
		--include='/Kbuild' --include='/Kconfig' \
		--include='/module/***' --include='/kunit/***' --include='/bench/***' \
		--include='/examples/***' \
		--exclude='*' "$CSQ_TOP/" "$dest/"
}

CSQ_RESULTS=$CSQ_BUILD/results
CSQ_LOGS=$CSQ_BUILD/logs

# Packages every target needs; the stock kernel's headers come on top.
# perl runs checkpatch and kernel-doc, xz-utils unpacks the source tarball:
# neither is certain on a minimal image installing without recommends.
# dkms is for dkms.conf's check (make dkms-check) and make dkms-install,
# python3-docutils for the check of docs/ (make lint).
CSQ_DEB_PKGS="qemu-system-x86 busybox-static cpio gcc make bc flex bison
libelf-dev libssl-dev sparse $CSQ_SRC_PKG python3 rsync libc6-dev
perl xz-utils liburing-dev libaio-dev dkms python3-docutils"

# One dpkg-query for the whole list: this runs before every target.
missing_pkgs() {
	local installed
	installed=$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null |
		awk '$4 == "installed" { print $1 }')
	printf '%s\n' "$@" | grep -vxF -e "$installed" || true
}

# Install what is missing, or say exactly what is missing and fail: a
# half-provisioned machine must not get as far as a confusing build error.
apt_ensure() {
	local missing
	missing=$(missing_pkgs "$@")
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		printf 'missing Debian packages:\n' >&2
		printf '  %s\n' $missing >&2
		die "install them as root: apt-get install $(echo $missing)"
	fi
	step "installing: $(echo $missing)"
	apt_update_once
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		-o DPkg::Lock::Timeout=600 \
		$missing >&2
}

apt_update_once() {
	[ -z "${CSQ_APT_UPDATED:-}" ] || return 0
	apt-get -o DPkg::Lock::Timeout=600 update >&2
	CSQ_APT_UPDATED=1
}

# The release of the stock kernel: the recorded one once it has been
# fetched, so a Debian point release does not silently switch kernels
# under a checkout; otherwise what linux-image-amd64 depends on today.
stock_release() {
	local file rel
	file=$(stock_release_file)
	if [ -s "$file" ]; then
		cat "$file"
		return
	fi
	rel=$(apt-cache depends "$CSQ_STOCK_META" 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(6\.1\.0-[0-9]*-amd64\)$/\1/p' |
		sort -V | tail -n1)
	[ -n "$rel" ] || return 1
	printf '%s\n' "$rel"
}

# The release modules built against a tree will carry in their vermagic.
# Not include/config/kernel.release: Debian's headers put the upstream
# version there (6.1.192), not the package's release (6.1.0-56-amd64).
kdir_release() {
	local h=$1/include/generated/utsrelease.h
	[ -f "$h" ] || die "$1 is not a configured kernel tree (no $h)"
	sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$h"
}

# The verdict of one "CSQ-TEST NAME rc=N pass=P fail=F ..." line that a
# guest printed for a test program: prints "PASSED FAILED SKIPPED".  xfail
# passes; xpass and error fail; a non-zero exit with no failing case
# counts one failure.
test_line_counts() {
	local line=$1 rc p f
	rc=$(test_line_field "$line" rc)
	p=$(( $(test_line_field "$line" pass) + $(test_line_field "$line" xfail) ))
	f=$(( $(test_line_field "$line" fail) + $(test_line_field "$line" xpass) +
	      $(test_line_field "$line" error) ))
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		step "exit status $rc: $line"
		f=1
	fi
	echo "$p $f $(test_line_field "$line" skip)"
}

test_line_field() {
	sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1" | grep . || echo 0
}
