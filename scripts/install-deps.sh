#!/bin/sh
# Installs every Debian package that the build, the demo and the tests need.
# Idempotent: packages already present are left alone, and apt is only asked
# when something is missing. Run as root (or with sudo) on Debian 12.
set -eu

PACKAGES="
  build-essential autoconf automake libtool pkg-config
  libssl-dev libcurl4-openssl-dev libcjson-dev libp11-kit-dev libcmocka-dev
  p11-kit opensc softhsm2 gnutls-bin libengine-pkcs11-openssl
  python3 python3-cryptography python3-pykcs11 openjdk-17-jdk-headless nodejs
  curl jq openssl ca-certificates valgrind cppcheck clang-format scdoc groff-base
  clang libclang-rt-14-dev
  openssh-server
  debhelper lintian man-db
  libyaml-dev python3-yaml
"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done

# The fidelity suite needs Node.js 20 and npm: the configured apt source's
# nodejs ships npm; Debian's own nodejs (18) is too old and has no npm.
command -v npm >/dev/null 2>&1 || missing="$missing npm"

if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# openssh-server is here for the sshd that tests/docs/cookbook.sh starts
# itself on a loopback port, not to serve this machine: installed here, its
# system service stays off (Debian's ssh.service and /etc/init.d/ssh do not
# start while /etc/ssh/sshd_not_to_be_run exists). A machine that already
# has openssh-server is left as it is.
case " $missing " in
*" openssh-server "*)
  $SUDO mkdir -p /etc/ssh
  $SUDO sh -c 'echo "azkv-pkcs11 scripts/install-deps.sh: sshd for the tests only" >/etc/ssh/sshd_not_to_be_run'
  ;;
esac
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
