#!/usr/bin/env bash
# Benchmarks `jasni listen` (history on) against nginx proxy_pass, in one run
# on loopback, so a noisy machine moves all three alike:
#   direct  the load generator -> the app (nginx `return 200`)
#   nginx   the load generator -> nginx proxy_pass (keep-alive upstream) -> the app
#   relay   the load generator -> jasni listen (verify, record, forward) -> the app
# It measures requests/s at concurrency 32 and p50/p99 latency at
# concurrency 1, and prints the ratios the listener's targets are stated in.
# nginx comes from Debian (installed here if missing). Usage:
#   bench/relay.sh                 # DURATION=5s N=5000 CONC=32 by default
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-5s}
n=${N:-5000}
conc=${CONC:-32}

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  echo "== installing nginx from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2; return 1
}

echo "== building jasni and the load generator"
go build -o "$work/jasni" ./cmd/jasni
go build -o "$work/relaybench" ./bench/relaybench

app=$(free_port); proxy=$(free_port); relay=$(free_port)
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/body;
  proxy_temp_path $work/proxy;
  upstream app { server 127.0.0.1:$app; keepalive 128; }
  server { listen 127.0.0.1:$app; location / { return 200; } }
  server {
    listen 127.0.0.1:$proxy;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
"$nginx" -c "$work/nginx.conf" -p "$work"
wait_port "$app"; wait_port "$proxy"

secret=whsec_bench_0123456789
XDG_STATE_HOME="$work/state" XDG_CONFIG_HOME="$work/config" \
  "$work/jasni" listen --tunnel local --port "$relay" --forward "127.0.0.1:$app" --secret "$secret" \
  >"$work/listen.out" 2>"$work/listen.err" &
pids+=($!)
wait_port "$relay"

body=fixtures/jasni/email.received.json
bench() { # name port concurrency -d/-n value
  "$work/relaybench" -name "$1" -url "http://127.0.0.1:$2/webhooks/jasni" -body "$body" -secret "$secret" -c "$3" "$4" "$5"
}
results="$work/results.jsonl"
for round in 1 2; do
  for t in direct:$app nginx:$proxy relay:$relay; do
    bench "${t%%:*}" "${t##*:}" "$conc" -d "$duration" >>"$results"
    bench "${t%%:*}" "${t##*:}" 1 -n "$n" >>"$results"
  done
done

history_rows=$(XDG_STATE_HOME="$work/state" XDG_CONFIG_HOME="$work/config" "$work/jasni" events list --limit 0 --output json 2>/dev/null | grep -c '"id"' || true)
python3 - "$results" "$history_rows" <<'PY'
import json, sys, statistics, platform, os
rows = [json.loads(l) for l in open(sys.argv[1])]
def best(name, conc, key, pick):
    vals = [r[key] for r in rows if r["target"] == name and r["concurrency"] == conc]
    return pick(vals)
errs = sum(r["errors"] + r["non_2xx"] for r in rows)
c = max(r["concurrency"] for r in rows)
rps = {t: best(t, c, "rps", max) for t in ("direct", "nginx", "relay")}
p50 = {t: best(t, 1, "p50_us", min) for t in ("direct", "nginx", "relay")}
p99 = {t: best(t, 1, "p99_us", min) for t in ("direct", "nginx", "relay")}
print()
print(f"machine: {os.cpu_count()} cores, {platform.machine()}, {platform.platform()}")
print(f"{'':8}{'req/s c=' + str(c):>14}{'p50 c=1':>12}{'p99 c=1':>12}")
for t in ("direct", "nginx", "relay"):
    print(f"{t:8}{rps[t]:>14,.0f}{p50[t]:>10.1f}us{p99[t]:>10.1f}us")
add = lambda t, p: p[t] - p["direct"]
print()
print(f"throughput  relay / nginx           = {rps['relay']/rps['nginx']:.2f}x   (target >= 0.5x)")
print(f"added p50   relay / nginx           = {add('relay', p50)/max(add('nginx', p50), 0.1):.1f}x   ({add('relay', p50):.1f}us vs {add('nginx', p50):.1f}us; target <= 5x)")
print(f"added p99   relay / nginx           = {add('relay', p99)/max(add('nginx', p99), 0.1):.1f}x   ({add('relay', p99):.1f}us vs {add('nginx', p99):.1f}us)")
print(f"errors or non-2xx answers: {errs}; deliveries in the history: {sys.argv[2]} (kept: the newest 10,000)")
PY
