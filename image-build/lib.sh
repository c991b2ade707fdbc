# shellcheck shell=bash
# Shared by the image-build scripts: stage timing, root and package checks, the cache folder.
# Sourced, not run.

# Everything cached between builds lives outside the clone, so CI's fresh clones reuse it.
TUSACH_IMAGE_CACHE=${TUSACH_IMAGE_CACHE:-/var/cache/tusach-image}

# Prints "== name (at Ns)" with the seconds since the script started, so the log shows
# how long each stage took.
stage() { echo "== $1 (at ${SECONDS}s)"; }

die() {
  echo "error: $*" >&2
  exit 1
}

need_root() {
  [ "$(id -u)" -eq 0 ] || die "run as root: building the root file system needs chroot and binfmt_misc"
}

# need_commands cmd:package ... installs the packages whose command is missing.
need_commands() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair##*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  apt-get update -qq || die "apt-get update failed; is deb.debian.org reachable?"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || die "could not install ${missing[*]}"
}

# need_packages package ... installs the packages that are not installed.
need_packages() {
  local pkg missing_pkgs=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing_pkgs+=("$pkg")
  done
  [ ${#missing_pkgs[@]} -eq 0 ] && return 0
  echo "installing: ${missing_pkgs[*]}"
  apt-get update -qq || die "apt-get update failed; is deb.debian.org reachable?"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" \
    || die "could not install ${missing_pkgs[*]}"
}
