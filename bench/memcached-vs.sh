#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# splitcached against Debian's memcached on the same machine, same worker
# threads, same memory budget, same client load. Never run by the tests.
#
#   bench/memcached-vs.sh [RUNS] [SECONDS]       (defaults 3 and 10)
#
# 1. Throughput and latency: memcaslap (libmemcached-tools), 90 % get /
#    10 % set, 32-byte keys, 100-byte values, CONC connections over 2
#    client threads, RUNS runs per server, alternating which goes first.
#    Reports ops/s and p99 (from memcaslap's log2 latency histogram: the
#    upper edge of the bucket holding the 99th percentile, so a power of
#    two in microseconds) per run, their medians and splitcached/memcached;
#    per run also the share of requests in the histogram's buckets above
#    8.2 ms, and for splitcached how many connections each worker accepted
#    to serve (`stats workers`: one worker taking most is a regression).
# 2. Memory per item: a fresh server of each loads ITEMS items (32-byte
#    keys, 100-byte values, pipelined noreply sets); reports the growth of
#    the process's RSS per item and the server's own "bytes" per item.
#
# Environment: THREADS (server threads, 2), BUDGET_MB (256), CONC (32),
# ITEMS (200000), SPLITCACHED (build/release/service/splitcached),
# SERVER_CPUS / CLIENT_CPUS (taskset CPU lists, e.g. 1 and 0: server and
# client on separate cores instead of sharing both; default unpinned).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-3}
SECONDS_PER_RUN=${2:-10}
THREADS=${THREADS:-2}
BUDGET_MB=${BUDGET_MB:-256}
CONC=${CONC:-32}
ITEMS=${ITEMS:-200000}
SPLITCACHED=${SPLITCACHED:-build/release/service/splitcached}
PY=/usr/bin/python3
on_server=${SERVER_CPUS:+taskset -c $SERVER_CPUS}
on_client=${CLIENT_CPUS:+taskset -c $CLIENT_CPUS}

for p in memcached memcaslap "$SPLITCACHED" "$PY"; do
	command -v "$p" >/dev/null || { echo "memcached-vs: $p is missing (make bench-deps; make release)" >&2; exit 2; }
done

tmp=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

cat > "$tmp/mix.cfg" <<'EOF'
key
32 32 1
value
100 100 1
cmd
0 0.1
1 0.9
EOF

free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server NAME: sets $pid and $port.
start_server() {
	port=$(free_port)
	if [ "$1" = memcached ]; then
		# shellcheck disable=SC2046 # root must name a user
		$on_server memcached -l 127.0.0.1 -p "$port" -U 0 -t "$THREADS" -m "$BUDGET_MB" -c 4096 \
			$([ "$(id -u)" = 0 ] && echo -u nobody) >"$tmp/server.log" 2>&1 &
	else
		$on_server "$SPLITCACHED" --index-listen "127.0.0.1:$port" --view-listen none --mode indexer \
			-t "$THREADS" -m "$BUDGET_MB" -c 4096 >"$tmp/server.log" 2>&1 &
	fi
	pid=$!
	for _ in $(seq 100); do
		if "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "memcached-vs: $1 did not start" >&2
	cat "$tmp/server.log" >&2
	exit 1
}

stop_server() {
	kill -TERM "$pid"
	wait "$pid" || true
	pid=""
}

# splitcached's connections per worker, "a/b/...", from stats workers.
spread_of() {
	"$PY" - "$1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"stats workers\r\n")
buf = b""
while not buf.endswith(b"END\r\n"):
    buf += s.recv(65536)
st = dict(l.split(b" ")[1:3] for l in buf.split(b"\r\n") if l.startswith(b"STAT "))
n = int(st[b"threads"])
print("/".join(st[b"worker_%d_total_connections" % i].decode() for i in range(n)))
EOF
}

# From memcaslap's "Total Statistics" log2 histogram: the p99 in
# microseconds (upper edge of its bucket) and the share (%) of requests
# above 8192 us, on one line.
latency_of() {
	awk '
	/^Total Statistics/ { on = 1; next }
	on && /Log2 Dist:/ { dist = 1; next }
	on && dist && /^ *[0-9]+:/ {
		b = $1; sub(":", "", b)
		for (i = 2; i <= NF; i++) { n[b + i - 2] = $i; total += $i }
		next
	}
	on && dist && !/^ *[0-9]+:/ { on = 0 }
	END {
		if (total == 0) { print "nan nan"; exit }
		acc = 0; p99 = 0; over = 0
		for (k = 0; k < 64; k++) {
			acc += n[k]
			if (!p99 && acc >= 0.99 * total) p99 = 2 ^ (k + 1)
			if (k >= 13) over += n[k]
		}
		printf "%d %.2f\n", p99, 100 * over / total
	}' "$1"
}

run_load() {
	local name=$1 out=$tmp/$1.$2.txt
	start_server "$name"
	$on_client memcaslap -s "127.0.0.1:$port" -F "$tmp/mix.cfg" -t "${SECONDS_PER_RUN}s" -T 2 -c "$CONC" \
		-S "${SECONDS_PER_RUN}s" >"$out" 2>&1 || true
	local tps p99 over spread=""
	if [ "$name" = splitcached ]; then spread="  connections per worker $(spread_of "$port")"; fi
	stop_server
	tps=$(sed -n 's/.*TPS: \([0-9]*\).*/\1/p' "$out" | tail -1)
	read -r p99 over < <(latency_of "$out")
	echo "$tps $p99 $over" >> "$tmp/$name.results"
	printf '  %-11s run %d: %8s ops/s  p99 <= %s us  > 8 ms %s %%%s\n' "$name" "$2" "${tps:-?}" \
		"$p99" "$over" "$spread"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "machine: $(nproc) CPUs, $(uname -r), $(memcached -V), splitcached $("$SPLITCACHED" --version | awk '{print $2}')"
echo "load: memcaslap 90 % get / 10 % set, 32 B keys, 100 B values, $CONC connections, 2 client threads, ${SECONDS_PER_RUN} s per run"
echo "servers: $THREADS threads, ${BUDGET_MB} MiB; CPUs: server ${SERVER_CPUS:-any}, client ${CLIENT_CPUS:-any}"
for r in $(seq "$RUNS"); do
	if [ $((r % 2)) -eq 1 ]; then order="memcached splitcached"; else order="splitcached memcached"; fi
	for s in $order; do run_load "$s" "$r"; done
done

m_tps=$(awk '{print $1}' "$tmp/memcached.results" | median)
s_tps=$(awk '{print $1}' "$tmp/splitcached.results" | median)
m_p99=$(awk '{print $2}' "$tmp/memcached.results" | median)
s_p99=$(awk '{print $2}' "$tmp/splitcached.results" | median)
echo
printf 'median ops/s   memcached %s  splitcached %s  ratio %s\n' "$m_tps" "$s_tps" \
	"$(awk -v a="$s_tps" -v b="$m_tps" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
printf 'median p99 us  memcached %s  splitcached %s  ratio %s\n' "$m_p99" "$s_p99" \
	"$(awk -v a="$s_p99" -v b="$m_p99" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
m_over=$(awk '{print $3}' "$tmp/memcached.results" | median)
s_over=$(awk '{print $3}' "$tmp/splitcached.results" | median)
printf 'median > 8 ms  memcached %s %%  splitcached %s %%\n' "$m_over" "$s_over"

# Memory per item.
cat > "$tmp/load.py" <<'EOF'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
val = b"v" * 100
batch = []
for i in range(n):
    batch.append(b"set k%031d 0 0 100 noreply\r\n%s\r\n" % (i, val))
    if len(batch) == 1000:
        s.sendall(b"".join(batch)); batch = []
s.sendall(b"".join(batch) + b"mn\r\n")
buf = b""
while not buf.endswith(b"MN\r\n"):
    buf += s.recv(65536)
s.sendall(b"stats\r\n")
buf = b""
while not buf.endswith(b"END\r\n"):
    buf += s.recv(65536)
st = dict(l.split(b" ")[1:3] for l in buf.split(b"\r\n") if l.startswith(b"STAT "))
print(int(st[b"curr_items"]), int(st[b"bytes"]))
EOF
rss_kib() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
echo
echo "memory: $ITEMS items, 32-byte keys, 100-byte values"
for s in memcached splitcached; do
	start_server "$s"
	sleep 0.2
	before=$(rss_kib "$pid")
	read -r items bytes < <("$PY" "$tmp/load.py" "$port" "$ITEMS")
	after=$(rss_kib "$pid")
	stop_server
	printf '  %-11s items %d  RSS +%d KiB = %.1f B/item  stats bytes %.1f B/item\n' "$s" "$items" \
		$((after - before)) "$(awk -v d=$((after - before)) -v n="$items" 'BEGIN { print d * 1024 / n }')" \
		"$(awk -v b="$bytes" -v n="$items" 'BEGIN { print b / n }')"
done
