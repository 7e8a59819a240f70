#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# splitcached against Debian's memcached on the same machine, same worker
# threads, same memory budget, same client load. Never run by the tests.
#
#   bench/memcached-vs.sh [RUNS] [SECONDS]       (defaults 7 and 10)
#
# 1. Throughput and latency: 90 % get / 10 % set, 32-byte keys, 100-byte
#    values, RUNS rounds, each round every load against each server,
#    alternating which server goes first. The client (CLIENT) is either
#      memcaslap  (libmemcached-tools, the default, so that earlier tables
#                 stay comparable) over 2 client threads; or
#      mcload     (bench/mcload.c, built with the bench) over
#                 CLIENT_THREADS threads (2, as memcaslap: on a shared
#                 machine a client's CPU share grows with its threads,
#                 pinned or not), KEYS keys (100,000) stored before the server's
#                 perf stat starts, one request in flight per connection
#                 (memcaslap's model), every reply checked: a run with an
#                 error is flagged.
#    memcaslap spends more CPU per request than either server: pinned to
#    one CPU, it is the bottleneck and both servers look alike. mcload
#    (io_uring) spends less than either, so its pinned runs measure the
#    servers (docs/benchmarks.md).
#    Three loads:
#      base   CONC connections (32), single-key gets;
#      c1000  MANY connections (1,000) held open and all in use;
#      mget   CONC connections, every get a multi-get of MGET keys (100;
#             memcaslap's --division, ops/s as memcaslap counts them;
#             mcload's --mget, a multi-get counts as one request).
#    Reports per run ops/s and p99 (memcaslap: from its log2 latency
#    histogram, the upper edge of the bucket holding the 99th percentile,
#    so a power of two in microseconds; mcload: its log-linear histogram,
#    within 3.2 %), the share of requests above 8.2 ms, for mcload its own
#    CPU time per request, and, under perf stat (when perf can attach),
#    the server's system calls per request, context switches per request
#    and CPU time (task-clock) per million requests; for splitcached also
#    how many connections each worker accepted (`stats workers`). Then the
#    medians per load and server and the ratios splitcached/memcached.
# 2. Memory per item: a fresh server of each loads ITEMS items (32-byte
#    keys, 100-byte values, pipelined noreply sets), then ITEMS more
#    (other keys). Two figures per server:
#      point     the growth of the process's RSS from its start to ITEMS
#                items, per item, and the server's own "bytes" per item
#                at ITEMS: what earlier tables report;
#      marginal  the growth of RSS from ITEMS to 2 x ITEMS items, per item
#                added, and of "bytes" alike: fixed costs (receive and
#                connection buffers, splitcached's meta marks table, the
#                servers' start-up tables) drop out, and each server's
#                table that doubles with the item count doubles once in
#                between with the defaults (splitcached's index at 10
#                entries per 12-slot bucket: 163,840, 327,680;
#                memcached's hash table at 1.5 items per bucket: 196,608,
#                393,216), so neither gains from where ITEMS falls in its
#                cycle, as either may in the point figure.
#    RSS is read MEM_SETTLE seconds (3) after each load's last reply, the
#    same for both servers: splitcached gives its receive buffers beyond
#    the start set back once a second passes with none running out
#    (docs/service.md); a reading at once would count the burst's.
#    MEM_RUNS rounds (alternating which server goes first), then the
#    medians and the ratios splitcached/memcached of both figures.
#    LOADS="" runs only this; MEM_RUNS=0 skips it.
#    Without cas on both: MEMCACHED_ARGS=-C SPLITCACHED_ARGS=-C.
#
# Environment: THREADS (server threads, 2), BUDGET_MB (256), CONC (32),
# MANY (1000), MGET (100), LOADS ("base c1000 mget"), ITEMS (200000),
# MEM_RUNS (RUNS), MEM_SETTLE (3), MEMCACHED_ARGS (extra arguments, e.g. "-C"),
# SPLITCACHED (build/release/service/splitcached), SPLITCACHED_ARGS (extra
# arguments, e.g. "--io epoll"),
# SERVER_CPUS / CLIENT_CPUS (taskset CPU lists, e.g. 1 and 0: server and
# client on separate cores instead of sharing both; default unpinned),
# CLIENT (memcaslap or mcload), MCLOAD (build/release/bench/mcload),
# CLIENT_THREADS, KEYS and MCLOAD_IO (mcload's --io: auto, uring or
# epoll) for mcload only, see above.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-7}
SECONDS_PER_RUN=${2:-10}
THREADS=${THREADS:-2}
BUDGET_MB=${BUDGET_MB:-256}
CONC=${CONC:-32}
MANY=${MANY:-1000}
MGET=${MGET:-100}
LOADS=${LOADS-base c1000 mget}
SPLITCACHED_ARGS=${SPLITCACHED_ARGS:-}
MEMCACHED_ARGS=${MEMCACHED_ARGS:-}
ITEMS=${ITEMS:-200000}
MEM_RUNS=${MEM_RUNS:-$RUNS}
MEM_SETTLE=${MEM_SETTLE:-3}
SPLITCACHED=${SPLITCACHED:-build/release/service/splitcached}
CLIENT=${CLIENT:-memcaslap}
MCLOAD=${MCLOAD:-build/release/bench/mcload}
KEYS=${KEYS:-100000}
MCLOAD_IO=${MCLOAD_IO:-auto}
PY=/usr/bin/python3
on_server=${SERVER_CPUS:+taskset -c $SERVER_CPUS}
on_client=${CLIENT_CPUS:+taskset -c $CLIENT_CPUS}

case $CLIENT in
memcaslap) client_bin=memcaslap ;;
mcload) client_bin=$MCLOAD ;;
*) echo "memcached-vs: CLIENT is memcaslap or mcload, not $CLIENT" >&2; exit 2 ;;
esac
CLIENT_THREADS=${CLIENT_THREADS:-2}
for p in memcached "$client_bin" "$SPLITCACHED" "$PY"; do
	command -v "$p" >/dev/null || { echo "memcached-vs: $p is missing (make bench-deps; make release)" >&2; exit 2; }
done

# 1,000 connections: a descriptor each in the client, the servers take -c 4096.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
perf_ok=false
if command -v perf >/dev/null && perf stat -e raw_syscalls:sys_enter -o /dev/null true 2>/dev/null; then
	perf_ok=true
fi

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
		# shellcheck disable=SC2086 # MEMCACHED_ARGS is a word list
		$on_server memcached -l 127.0.0.1 -p "$port" -U 0 -t "$THREADS" -m "$BUDGET_MB" -c 4096 \
			$([ "$(id -u)" = 0 ] && echo -u nobody) $MEMCACHED_ARGS >"$tmp/server.log" 2>&1 &
	else
		# shellcheck disable=SC2086 # SPLITCACHED_ARGS is a word list
		$on_server "$SPLITCACHED" --index-listen "127.0.0.1:$port" --view-listen none --mode indexer \
			-t "$THREADS" -m "$BUDGET_MB" -c 4096 $SPLITCACHED_ARGS >"$tmp/server.log" 2>&1 &
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

# From mcload's "NAME VALUE" lines: the value of NAME.
field_of() { awk -v n="$1" '$1 == n { print $2 }' "$2"; }

# run_load SERVER LOAD ROUND: one client run; appends "ops/s p99 over
# syscalls/req cs/req cpu_ms/Mreq" to $tmp/SERVER.LOAD.
run_load() {
	local name=$1 load=$2 out=$tmp/$1.$2.$3.txt perf_out=$tmp/perf.txt conc=$CONC extra=()
	case $load in
	c1000) conc=$MANY ;;
	mget) if [ "$CLIENT" = mcload ]; then extra=(--mget "$MGET"); else extra=(-d "$MGET"); fi ;;
	esac
	start_server "$name"
	if [ "$CLIENT" = mcload ] && ! "$MCLOAD" -s "127.0.0.1:$port" -k "$KEYS" --preload-only 2>"$out"; then
		echo "memcached-vs: mcload could not preload $name:" >&2
		cat "$out" >&2
		exit 1
	fi
	local perf_pid=""
	if $perf_ok; then
		perf stat -e raw_syscalls:sys_enter,context-switches,task-clock -p "$pid" -o "$perf_out" &
		perf_pid=$!
	fi
	local rc=0
	if [ "$CLIENT" = mcload ]; then
		$on_client "$MCLOAD" -s "127.0.0.1:$port" -k "$KEYS" --no-preload -t "$SECONDS_PER_RUN" --io "$MCLOAD_IO" \
			-T "$CLIENT_THREADS" -c "$conc" "${extra[@]}" >"$out" 2>"$out.err" || rc=$?
	else
		$on_client memcaslap -s "127.0.0.1:$port" -F "$tmp/mix.cfg" -t "${SECONDS_PER_RUN}s" -T 2 -c "$conc" \
			-S "${SECONDS_PER_RUN}s" "${extra[@]}" >"$out" 2>&1 || true
	fi
	if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
	local tps ops p99 over spread="" sc="nan" cs="nan" cpu="nan" client=""
	if [ "$name" = splitcached ]; then spread="  conns/worker $(spread_of "$port")"; fi
	stop_server
	if [ "$CLIENT" = mcload ]; then
		tps=$(field_of ops/s "$out")
		ops=$(field_of requests "$out")
		p99=$(field_of p99_us "$out")
		over=$(field_of over_8ms_pct "$out")
		client="  client us/req $(field_of cpu_us_per_req "$out")"
		if [ "$rc" -ne 0 ]; then
			client="$client  ERRORS $(field_of errors "$out") (exit $rc)"
			sed 's/^/    /' "$out.err" >&2
		fi
	else
		tps=$(sed -n 's/.*TPS: \([0-9]*\).*/\1/p' "$out" | tail -1)
		ops=$(sed -n 's/^Run time: .* Ops: \([0-9]*\) .*/\1/p' "$out" | tail -1)
		read -r p99 over < <(latency_of "$out")
	fi
	if [ -n "$perf_pid" ] && [ -n "$ops" ] && [ "$ops" -gt 0 ]; then
		read -r sc cs cpu < <(awk -v ops="$ops" '
			{ gsub(",", "", $1) }
			/raw_syscalls:sys_enter/ { sc = $1 }
			/context-switches/ { cs = $1 }
			/task-clock/ { tc = $1 }
			END { printf "%.3f %.3f %.0f\n", sc / ops, cs / ops, tc / ops * 1e6 }' "$perf_out")
	fi
	echo "${tps:-0} $p99 $over $sc $cs $cpu" >> "$tmp/$name.$load"
	printf '  %-5s %-11s run %d: %8s ops/s  p99 <= %5s us  > 8 ms %5s %%  syscalls/req %s  cs/req %s  cpu ms/Mreq %s%s%s\n' \
		"$load" "$name" "$3" "${tps:-?}" "$p99" "$over" "$sc" "$cs" "$cpu" "$client" "$spread"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 && a == a + 0) printf "%.2f", a / b; else print "nan" }'; }

echo "machine: $(nproc) CPUs, $(uname -r), $(memcached -V) $MEMCACHED_ARGS, splitcached $("$SPLITCACHED" --version | awk '{print $2}') $SPLITCACHED_ARGS"
if [ "$CLIENT" = mcload ]; then
	echo "load: mcload --io $MCLOAD_IO, 90 % get / 10 % set, 32 B keys ($KEYS), 100 B values, $CLIENT_THREADS client threads, ${SECONDS_PER_RUN} s per run;"
else
	echo "load: memcaslap 90 % get / 10 % set, 32 B keys, 100 B values, 2 client threads, ${SECONDS_PER_RUN} s per run;"
fi
echo "      base $CONC connections, c1000 $MANY connections, mget $CONC connections x $MGET-key gets"
echo "servers: $THREADS threads, ${BUDGET_MB} MiB; CPUs: server ${SERVER_CPUS:-any}, client ${CLIENT_CPUS:-any}; loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$RUNS"); do
	if [ $((r % 2)) -eq 1 ]; then order="memcached splitcached"; else order="splitcached memcached"; fi
	for load in $LOADS; do
		for s in $order; do run_load "$s" "$load" "$r"; done
	done
done

echo
echo "medians of $RUNS rounds (loadavg now $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-6s %-11s %9s %8s %9s %8s %12s\n' load server "ops/s" "p99 us" "sys/req" "cs/req" "cpu ms/Mreq"
for load in $LOADS; do
	declare -A med=()
	for s in memcached splitcached; do
		for col in 1 2 4 5 6; do
			med[$s.$col]=$(awk -v c="$col" '{ print $c }' "$tmp/$s.$load" | median)
		done
		printf '%-6s %-11s %9s %8s %9s %8s %12s\n' "$load" "$s" "${med[$s.1]}" "${med[$s.2]}" \
			"${med[$s.4]}" "${med[$s.5]}" "${med[$s.6]}"
	done
	printf '%-6s %-11s %9s %8s %9s %8s %12s\n' "$load" "ratio" "$(ratio "${med[splitcached.1]}" "${med[memcached.1]}")" \
		"$(ratio "${med[splitcached.2]}" "${med[memcached.2]}")" "$(ratio "${med[splitcached.4]}" "${med[memcached.4]}")" \
		"$(ratio "${med[splitcached.5]}" "${med[memcached.5]}")" "$(ratio "${med[splitcached.6]}" "${med[memcached.6]}")"
	unset med
done

# Memory per item.
if [ "$MEM_RUNS" -eq 0 ]; then exit 0; fi
cat > "$tmp/load.py" <<'EOF'
import socket, sys
port, first, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
val = b"v" * 100
batch = []
for i in range(first, first + n):
    batch.append(b"set k%031d 0 0 100 noreply\r\n%s\r\n" % (i, val))
    if len(batch) == 1000:
        s.sendall(b"".join(batch)); batch = []
s.sendall(b"".join(batch) + b"mn\r\n")
buf = b""
while not buf.endswith(b"MN\r\n"):
    buf += s.recv(65536)
s.close()
EOF
cat > "$tmp/count.py" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"stats\r\n")
buf = b""
while not buf.endswith(b"END\r\n"):
    buf += s.recv(65536)
st = dict(l.split(b" ")[1:3] for l in buf.split(b"\r\n") if l.startswith(b"STAT "))
print(int(st[b"curr_items"]), int(st[b"bytes"]))
EOF
rss_kib() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
per_item() { awk -v d="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.1f", d / n; else print "nan" }'; }
echo
echo "memory: $ITEMS then $((2 * ITEMS)) items, 32-byte keys, 100-byte values, $MEM_RUNS rounds, RSS read ${MEM_SETTLE} s after each load"
for r in $(seq "$MEM_RUNS"); do
	if [ $((r % 2)) -eq 1 ]; then order="memcached splitcached"; else order="splitcached memcached"; fi
	for s in $order; do
		start_server "$s"
		sleep 0.2
		rss0=$(rss_kib "$pid")
		"$PY" "$tmp/load.py" "$port" 0 "$ITEMS"
		sleep "$MEM_SETTLE"
		rss1=$(rss_kib "$pid")
		read -r items1 bytes1 < <("$PY" "$tmp/count.py" "$port")
		"$PY" "$tmp/load.py" "$port" "$ITEMS" "$ITEMS"
		sleep "$MEM_SETTLE"
		rss2=$(rss_kib "$pid")
		read -r items2 bytes2 < <("$PY" "$tmp/count.py" "$port")
		stop_server
		rss=$(per_item $(((rss1 - rss0) * 1024)) "$items1")
		own=$(per_item "$bytes1" "$items1")
		mrss=$(per_item $(((rss2 - rss1) * 1024)) $((items2 - items1)))
		mown=$(per_item $((bytes2 - bytes1)) $((items2 - items1)))
		echo "$rss $own $mrss $mown" >> "$tmp/$s.mem"
		printf '  %-11s run %d: %d items: RSS +%d KiB = %s B/item, bytes %s B/item;  %d more: RSS +%d KiB = %s B/item, bytes %s B/item\n' \
			"$s" "$r" "$items1" $((rss1 - rss0)) "$rss" "$own" $((items2 - items1)) $((rss2 - rss1)) "$mrss" "$mown"
	done
done
declare -A mm=()
for s in memcached splitcached; do
	for col in 1 2 3 4; do
		mm[$s.$col]=$(awk -v c="$col" '{ print $c }' "$tmp/$s.mem" | median)
	done
	printf '  %-11s median: point RSS %s, bytes %s B/item;  marginal RSS %s, bytes %s B/item\n' "$s" \
		"${mm[$s.1]}" "${mm[$s.2]}" "${mm[$s.3]}" "${mm[$s.4]}"
done
printf '  %-11s point RSS %s, bytes %s;  marginal RSS %s, bytes %s\n' "ratio" \
	"$(ratio "${mm[splitcached.1]}" "${mm[memcached.1]}")" "$(ratio "${mm[splitcached.2]}" "${mm[memcached.2]}")" \
	"$(ratio "${mm[splitcached.3]}" "${mm[memcached.3]}")" "$(ratio "${mm[splitcached.4]}" "${mm[memcached.4]}")"
