#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installs Debian's memcached, the reference server of bench/memcached-vs.sh
# (`make bench-deps`), WITHOUT its daemon: the bench starts its own
# instance on a free port, and a daemon on 11211 would take splitcached's
# port (`make run`). Neither started nor enabled, with or without systemd:
#   - a policy-rc.d that refuses every start keeps the package's
#     postinst from starting it (containers, sysvinit, systemd alike);
#   - the unit / init script is then disabled (systemctl where systemd
#     runs; deb-systemd-helper and update-rc.d otherwise), and a daemon an
#     earlier install started is stopped.
# Idempotent; needs root or sudo.
set -euo pipefail

if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
if ! dpkg-query -W -f='${Status}' memcached 2>/dev/null | grep -q 'install ok installed'; then
	echo "install-memcached: installing memcached (the daemon is neither started nor enabled)"
	policy=/usr/sbin/policy-rc.d
	ours=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# bench/install-memcached.sh: no daemon starts while it installs\nexit 101\n' |
			$sudo tee "$policy" >/dev/null
		$sudo chmod 755 "$policy"
		ours=1
	fi
	rc=0
	$sudo apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
			memcached || rc=$?
	if [ "$ours" = 1 ]; then $sudo rm -f "$policy"; fi
	[ "$rc" = 0 ] || exit "$rc"
fi

if [ -d /run/systemd/system ]; then
	$sudo systemctl disable --now memcached.service >/dev/null 2>&1 || true
else
	if command -v deb-systemd-helper >/dev/null; then
		$sudo deb-systemd-helper disable memcached.service >/dev/null 2>&1 || true
	fi
	if command -v update-rc.d >/dev/null && [ -e /etc/init.d/memcached ]; then
		$sudo update-rc.d memcached disable >/dev/null 2>&1 || true
	fi
	# a daemon an earlier install started (its init script's pid file)
	if [ -e /etc/init.d/memcached ] && [ -s /run/memcached/memcached.pid ]; then
		$sudo /etc/init.d/memcached stop >/dev/null 2>&1 || true
	fi
fi
command -v memcached >/dev/null
echo "install-memcached: $(memcached -V) installed, no daemon"
