#!/usr/bin/env bash
# Benchmarks `jasni listen` (history on) against nginx proxy_pass and a plain
# Go httputil.ReverseProxy, in one run on loopback, so a noisy machine moves
# them all alike:
#   direct    the load generator -> the app (nginx `return 200`; APP=go: bench/idleapp)
#   nginx     the load generator -> nginx proxy_pass (keep-alive upstream) -> the app
#   revproxy  the load generator -> bench/revproxy (ReverseProxy, default Transport) -> the app
#   relay     the load generator -> jasni listen (verify, record, forward) -> the app
# with bodies of 1 KiB, 100 KiB and 10 MiB (Jasni envelopes made by
# bench/relaybench, signed as Jasni signs). It measures, and prints with the
# ratios between them:
#   - requests/s one at a time (and CONC at once for 1 KiB), p50/p99 one at a
#     time; the best of ROUNDS rounds, targets interleaved
#   - CPU time (utime+stime, /proc/PID/stat) per request of relay and
#     revproxy at each size, and from it the CPU per KiB of body
#   - peak RSS (VmHWM) of fresh relay and revproxy processes after 30
#     concurrent 10 MiB bodies, and their RSS (VmRSS) 5 s later
#   - the history's disk use: 200 distinct 100 KiB deliveries into a fresh
#     listen, the size of history.db (and its body files) per delivery kept
#   - keep-alive expiry: bursts (200 requests at 16 at once) with pauses
#     longer than the app's idle timeout, through relay and revproxy, to a Go
#     app closing idle connections after 1 s (pauses 2 s) and to nginx with
#     keepalive_timeout 2s (pauses 2.5 s); counts the 502s and 504s
# Every result, and the summary, goes to a JSON lines file named at the end.
# nginx comes from Debian (installed here if missing). Usage:
#   bench/relay.sh        # DURATION=5s N=5000 CONC=32 ROUNDS=2, about 4 minutes on 2 cores
# N is the number of 1 KiB requests sent one at a time; 100 KiB gets N/5 and
# 10 MiB N/50 (at least 20). OUT=FILE names the JSON lines file; JASNI=BINARY
# uses that jasni instead of building ./cmd/jasni. APP=go puts bench/idleapp
# (no idle timeout, reads the whole body before answering) in place of nginx
# `return 200` as the app of the first four measurements.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-5s}
n=${N:-5000}
conc=${CONC:-32}
rounds=${ROUNDS:-2}
out=${OUT:-/tmp/jasni-relay-bench-$(date +%Y%m%d-%H%M%S).jsonl}
sizes=(1024 102400 10485760)
maxbody=16777216
secret=whsec_bench_0123456789

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]} from Debian"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
nginx=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
chmod 755 "$work" # nginx's workers (nobody when run as root) keep request bodies past 16 KiB in $work/body
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -f "$work/nginx.pid" ]; then kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; fi
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
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; } # pid VmHWM|VmRSS
file_size() { if [ -f "$1" ]; then stat -c %s "$1"; else echo 0; fi; }

echo "== building jasni, the load generator, the reverse proxy and the idle-closing app"
if [ -n "${JASNI:-}" ]; then cp "$JASNI" "$work/jasni"; else go build -o "$work/jasni" ./cmd/jasni; fi
for p in relaybench revproxy idleapp; do go build -o "$work/$p" "./bench/$p"; done

# The app: nginx `return 200` (the default), or with APP=go bench/idleapp
# without an idle timeout. nginx answers before it has read the body and
# then reads the rest 4 KiB at a time; the Go app reads the whole body first.
nginx_app=$(free_port); proxy=$(free_port); app2=$(free_port)
case ${APP:-nginx} in
  nginx) app=$nginx_app ;;
  go)
    app=$(free_port)
    "$work/idleapp" -listen "127.0.0.1:$app" -idle 0 2>"$work/goapp.err" &
    pids+=($!)
    wait_port "$app"
    ;;
  *) echo "APP is nginx or go" >&2; exit 2 ;;
esac
echo "== the app: ${APP:-nginx}"
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_max_body_size 0;
  client_body_temp_path $work/body;
  proxy_temp_path $work/proxy;
  upstream app { server 127.0.0.1:$app; keepalive 128; }
  server { listen 127.0.0.1:$nginx_app; location / { return 200; } }
  server {
    listen 127.0.0.1:$proxy;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  # The app of the keep-alive expiry scenario: closes idle connections after 2 s.
  server { listen 127.0.0.1:$app2; keepalive_timeout 2s; location / { return 200; } }
}
CONF
"$nginx" -c "$work/nginx.conf" -p "$work"
wait_port "$nginx_app"; wait_port "$proxy"; wait_port "$app2"

# start_listen NAME PORT FORWARD: a jasni listen with a state of its own;
# its process ID is left in $started.
start_listen() {
  mkdir -p "$work/$1"
  XDG_STATE_HOME="$work/$1/state" XDG_CONFIG_HOME="$work/$1/config" \
    "$work/jasni" listen --tunnel local --port "$2" --forward "$3" --secret "$secret" --max-body "$maxbody" \
    >"$work/$1/listen.out" 2>"$work/$1/listen.err" &
  started=$!
  pids+=("$started")
  wait_port "$2"
}
# start_revproxy PORT TARGET_PORT
start_revproxy() {
  "$work/revproxy" -listen "127.0.0.1:$1" -target "http://127.0.0.1:$2" 2>"$work/revproxy-$1.err" &
  started=$!
  pids+=("$started")
  wait_port "$1"
}
history_files() { # NAME: sizes of history.db (with the body files of history.db-bodies) and of a SQLite history's -wal (0 since the history is a log of jasni's own) in bytes, and the deliveries kept
  local d="$work/$1/state/jasni" sizes kept bodies
  bodies=$( (du -sb "$d/history.db-bodies" 2>/dev/null || echo 0) | awk '{print $1}')
  sizes="$(( $(file_size "$d/history.db") + bodies )) $(file_size "$d/history.db-wal")" # before events list opens it
  kept=$(XDG_STATE_HOME="$work/$1/state" XDG_CONFIG_HOME="$work/$1/config" "$work/jasni" events list --limit 0 --output json 2>/dev/null |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0)
  echo "$sizes $kept"
}

results="$work/results.jsonl"
bench() { # NAME PORT PHASE [relaybench flags...]
  local name=$1 port=$2 phase=$3
  shift 3
  "$work/relaybench" -name "$name" -phase "$phase" -url "http://127.0.0.1:$port/webhooks/jasni" -secret "$secret" "$@" >>"$results"
}

relay=$(free_port); revproxy=$(free_port)
start_listen relay "$relay" "127.0.0.1:$app"; relay_pid=$started
start_revproxy "$revproxy" "$app"; revproxy_pid=$started

# 1-3. Throughput, latency and CPU per request, each size, targets interleaved.
declare -A port=([direct]=$app [nginx]=$proxy [revproxy]=$revproxy [relay]=$relay)
declare -A pid=([direct]="" [nginx]="" [revproxy]=$revproxy_pid [relay]=$relay_pid)
count_for() { case $1 in 1024) echo "$n" ;; 102400) echo $((n / 5)) ;; *) echo $((n / 50 > 20 ? n / 50 : 20)) ;; esac; }
for round in $(seq "$rounds"); do
  for size in "${sizes[@]}"; do
    echo "== round $round/$rounds, $size-byte bodies"
    for t in direct nginx revproxy relay; do
      cpu=()
      [ -n "${pid[$t]}" ] && cpu=(-pid "${pid[$t]}")
      if [ "$size" = 1024 ]; then
        bench "$t" "${port[$t]}" matrix -round "$round" -size "$size" -c "$conc" -d "$duration" "${cpu[@]}"
      fi
      bench "$t" "${port[$t]}" matrix -round "$round" -size "$size" -c 1 -n "$(count_for "$size")" "${cpu[@]}"
    done
  done
done
read -r main_db main_wal main_kept < <(history_files relay)
printf '{"phase":"history-main","target":"relay","db_bytes":%s,"wal_bytes":%s,"kept":%s}\n' "$main_db" "$main_wal" "$main_kept" >>"$results"

# 4. Peak memory under 30 concurrent 10 MiB bodies, fresh processes.
echo "== memory: 30 concurrent 10 MiB bodies"
rss_relay=$(free_port); rss_revproxy=$(free_port)
start_listen rss "$rss_relay" "127.0.0.1:$app"; rss_relay_pid=$started
start_revproxy "$rss_revproxy" "$app"; rss_revproxy_pid=$started
for t in relay:$rss_relay:$rss_relay_pid revproxy:$rss_revproxy:$rss_revproxy_pid; do
  IFS=: read -r name p pr <<<"$t"
  before=$(status_kb "$pr" VmRSS)
  bench "$name" "$p" rss -size 10485760 -c 30 -n 30 -warmup 0
  after_end=$(status_kb "$pr" VmRSS)
  sleep 5
  after5=$(status_kb "$pr" VmRSS)
  hwm=$(status_kb "$pr" VmHWM) # the peak so far: read last, after the history has written what it held
  printf '{"phase":"rss","target":"%s","vmrss_before_kb":%s,"vmhwm_kb":%s,"vmrss_at_end_kb":%s,"vmrss_5s_kb":%s}\n' \
    "$name" "$before" "$hwm" "$after_end" "$after5" >>"$results"
done

# 5. The history's disk use: distinct 100 KiB deliveries into a fresh listen.
echo "== history disk use: 200 deliveries of 100 KiB"
hist=$(free_port)
start_listen hist "$hist" "127.0.0.1:$app"; hist_pid=$started
bench relay "$hist" history -size 102400 -vary -c 1 -n 200 -warmup 0 -pid "$hist_pid"
read -r db wal kept < <(history_files hist)
kill -TERM "$hist_pid"; wait "$hist_pid" || true
read -r db_stopped wal_stopped _ < <(history_files hist)
printf '{"phase":"history","target":"relay","body_bytes":102400,"sent":200,"kept":%s,"db_bytes":%s,"wal_bytes":%s,"db_bytes_stopped":%s,"wal_bytes_stopped":%s}\n' \
  "$kept" "$db" "$wal" "$db_stopped" "$wal_stopped" >>"$results"

# 6. Keep-alive expiry: bursts with pauses longer than the app's idle timeout.
echo "== keep-alive expiry: 5 bursts of 200 at 16 at once, pauses past the app's idle timeout"
idle=$(free_port)
"$work/idleapp" -listen "127.0.0.1:$idle" -idle 1s 2>"$work/idleapp.err" &
pids+=($!)
wait_port "$idle"
for scenario in "go-idle-1s:$idle:2s" "nginx-keepalive-2s:$app2:2.5s"; do
  IFS=: read -r label upstream pause <<<"$scenario"
  kr=$(free_port); kp=$(free_port)
  start_listen "ka-$label" "$kr" "127.0.0.1:$upstream"
  start_revproxy "$kp" "$upstream"
  for t in relay:$kr revproxy:$kp; do
    bench "${t%%:*}" "${t##*:}" "keepalive-$label" -size 1024 -c 16 -n 200 -bursts 5 -pause "$pause" -warmup 0
  done
done

cp "$results" "$out"
python3 - "$results" "$out" "$conc" "${APP:-nginx}" <<'PY'
import json, math, os, platform, sys

rows = [json.loads(l) for l in open(sys.argv[1])]
out = open(sys.argv[2], "a")
conc = int(sys.argv[3])
app = {"nginx": "nginx `return 200`", "go": "bench/idleapp (Go, reads the body)"}[sys.argv[4]]
summary = []
def clean(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v
def note(metric, value, **kw):
    summary.append({k: clean(v) for k, v in dict(kind="summary", metric=metric, value=value, **kw).items()})

targets = ("direct", "nginx", "revproxy", "relay")
matrix = [r for r in rows if r.get("phase") == "matrix"]
sizes = sorted({r["body_bytes"] for r in matrix})
def best(t, size, c, key, pick):
    vals = [r[key] for r in matrix if r["target"] == t and r["body_bytes"] == size and r["concurrency"] == c and r.get(key) is not None]
    return pick(vals) if vals else math.nan
def human(b):
    return f"{b // (1 << 20)} MiB" if b >= 1 << 20 else f"{b // 1024} KiB" if b >= 1024 else f"{b} B"
def ratio(a, b):
    return a / b if b and not math.isnan(b) else math.nan
def added_ratio(a, b):
    # Against nginx's added latency: none when nginx adds nothing (or less
    # than direct: at 10 MiB the app's own way of reading the body decides).
    return a / b if b >= 1 and not math.isnan(a) else math.nan
def fmt_ratio(v):
    return "n/a" if math.isnan(v) else f"{v:.1f}x" if v >= 1 else f"{v:.2f}x"
def failed(t, size):
    return sum(r["errors"] + r["non_2xx"] for r in matrix if r["target"] == t and r["body_bytes"] == size)

print()
print(f"machine: {os.cpu_count()} cores, {platform.machine()}, {platform.platform()}")
print(f"app: {app}; best of the rounds: highest requests/s, lowest p50 and p99, lowest CPU per request")
note("app", sys.argv[4])
print()
print(f"{'body':8}{'target':10}{'req/s c=' + str(conc):>13}{'req/s c=1':>12}{'p50 c=1':>13}{'p99 c=1':>13}{'CPU/req':>13}{'failed':>8}")
for s in sizes:
    for t in targets:
        rc = best(t, s, conc, "rps", max)
        cpu = best(t, s, 1, "cpu_us_per_req", min)
        print(f"{human(s):8}{t:10}{'' if math.isnan(rc) else f'{rc:,.0f}':>13}{best(t, s, 1, 'rps', max):>12,.0f}"
              f"{best(t, s, 1, 'p50_us', min):>11,.0f}us{best(t, s, 1, 'p99_us', min):>11,.0f}us"
              f"{'' if math.isnan(cpu) else f'{cpu:,.0f}us':>13}{failed(t, s):>8}")
        for key, pick in (("rps", max), ("p50_us", min), ("p99_us", min), ("cpu_us_per_req", min)):
            v = best(t, s, 1, key, pick)
            if not math.isnan(v):
                note(key, v, target=t, body_bytes=s, concurrency=1)
        if not math.isnan(rc):
            note("rps", rc, target=t, body_bytes=s, concurrency=conc)
errs = sum(r["errors"] + r["non_2xx"] for r in matrix)

print()
print("ratios (added = the target's p99 minus direct's, at concurrency 1)")
for s in sizes:
    added = {t: best(t, s, 1, "p99_us", min) - best("direct", s, 1, "p99_us", min) for t in targets}
    added50 = {t: best(t, s, 1, "p50_us", min) - best("direct", s, 1, "p50_us", min) for t in targets}
    line = []
    if s == sizes[0]:
        v = ratio(best("relay", s, conc, "rps", max), best("revproxy", s, conc, "rps", max))
        line.append(f"throughput relay/revproxy c={conc} {v:.2f}x")
        note("throughput_relay_over_revproxy", v, body_bytes=s, concurrency=conc)
        v = ratio(best("relay", s, conc, "rps", max), best("nginx", s, conc, "rps", max))
        line.append(f"relay/nginx c={conc} {v:.2f}x (target >= 0.5x)")
        note("throughput_relay_over_nginx", v, body_bytes=s, concurrency=conc)
    v = ratio(best("relay", s, 1, "rps", max), best("revproxy", s, 1, "rps", max))
    line.append(f"throughput relay/revproxy c=1 {v:.2f}x")
    note("throughput_relay_over_revproxy", v, body_bytes=s, concurrency=1)
    v = ratio(best("relay", s, 1, "rps", max), best("nginx", s, 1, "rps", max))
    line.append(f"relay/nginx c=1 {v:.2f}x")
    note("throughput_relay_over_nginx", v, body_bytes=s, concurrency=1)
    print(f"  {human(s):8}" + ", ".join(line))
    for t in ("relay", "revproxy"):
        v = added_ratio(added[t], added["nginx"])
        print(f"  {'':8}added p99 {t}/nginx {fmt_ratio(v)} ({added[t]:,.0f}us vs {added['nginx']:,.0f}us)")
        note(f"added_p99_{t}_over_nginx", None if math.isnan(v) else v, body_bytes=s, added_us=added[t], nginx_added_us=added["nginx"])
    v = added_ratio(added50["relay"], added50["nginx"])
    target = "; target <= 5x" if s == sizes[0] else ""
    print(f"  {'':8}added p50 relay/nginx {fmt_ratio(v)} ({added50['relay']:,.0f}us vs {added50['nginx']:,.0f}us{target})")
    note("added_p50_relay_over_nginx", None if math.isnan(v) else v, body_bytes=s, added_us=added50["relay"], nginx_added_us=added50["nginx"])
print(f"  errors or non-2xx answers in these runs: {errs} (by target and size: the column 'failed', all rounds)")
note("matrix_errors_or_non_2xx", errs)

print()
print("CPU per KiB of body (CPU per request at concurrency 1 against the body size, least squares)")
slopes = {}
for t in ("relay", "revproxy"):
    pts = [(s / 1024, best(t, s, 1, "cpu_us_per_req", min)) for s in sizes]
    pts = [(x, y) for x, y in pts if not math.isnan(y)]
    if len(pts) < 2:
        continue
    mx = sum(x for x, _ in pts) / len(pts); my = sum(y for _, y in pts) / len(pts)
    slope = sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)
    fixed = my - slope * mx
    steps = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(pts, pts[1:])]
    slopes[t] = slope
    print(f"  {t:9}{slope:6.2f} us/KiB, fixed {fixed:,.0f} us/request"
          f"  (between sizes: {', '.join(f'{v:.2f}' for v in steps)} us/KiB)")
    note("cpu_us_per_kib", slope, target=t, fixed_us_per_req=fixed, steps_us_per_kib=steps)
if len(slopes) == 2:
    v = ratio(slopes["relay"], slopes["revproxy"])
    print(f"  relay/revproxy {v:.1f}x")
    note("cpu_per_kib_relay_over_revproxy", v)

print()
print("memory after 30 concurrent 10 MiB bodies (fresh processes)")
for r in rows:
    if r.get("phase") == "rss" and "vmhwm_kb" in r:
        run = next((x for x in rows if x.get("phase") == "rss" and x["target"] == r["target"] and "statuses" in x), {})
        print(f"  {r['target']:9}peak (VmHWM) {r['vmhwm_kb'] / 1024:7.1f} MiB, RSS at the end {r['vmrss_at_end_kb'] / 1024:7.1f} MiB,"
              f" 5 s later {r['vmrss_5s_kb'] / 1024:7.1f} MiB (at start {r['vmrss_before_kb'] / 1024:.1f} MiB);"
              f" answers {run.get('statuses')}")
        note("vmhwm_kb", r["vmhwm_kb"], target=r["target"], vmrss_5s_kb=r["vmrss_5s_kb"], statuses=run.get("statuses"))
hw = {r["target"]: r["vmhwm_kb"] for r in rows if r.get("phase") == "rss" and "vmhwm_kb" in r}
if len(hw) == 2:
    print(f"  peak relay/revproxy {hw['relay'] / hw['revproxy']:.1f}x")
    note("vmhwm_relay_over_revproxy", hw["relay"] / hw["revproxy"])

print()
for r in rows:
    if r.get("phase") == "history" and "kept" in r:
        run = next((x for x in rows if x.get("phase") == "history" and "statuses" in x), {})
        total, stopped = r["db_bytes"] + r["wal_bytes"], r["db_bytes_stopped"] + r["wal_bytes_stopped"]
        kept = max(r["kept"], 1)
        print(f"history disk use: {r['sent']} distinct deliveries of {human(r['body_bytes'])} ({run.get('statuses')}), {r['kept']} kept")
        print(f"  running: history.db and body files {r['db_bytes']:,} bytes = {total / kept:,.0f} bytes per delivery"
              f" = {total / kept / r['body_bytes']:.2f}x the body")
        print(f"  stopped: history.db and body files {r['db_bytes_stopped']:,} bytes = {stopped / kept:,.0f} bytes per delivery"
              f" = {stopped / kept / r['body_bytes']:.2f}x the body")
        if run.get("cpu_us_per_req") is not None:
            print(f"  relay CPU {run['cpu_us_per_req']:,.0f} us per delivery (every body its own)")
        note("history_bytes_per_delivery", total / kept, body_bytes=r["body_bytes"], ratio_to_body=total / kept / r["body_bytes"],
             stopped_bytes_per_delivery=stopped / kept, stopped_ratio_to_body=stopped / kept / r["body_bytes"], kept=r["kept"])
for r in rows:
    if r.get("phase") == "history-main":
        print(f"  the benchmark's own relay after the runs above: history.db and body files {r['db_bytes']:,} bytes,"
              f" {r['kept']} deliveries kept")

print()
print("keep-alive expiry (5 bursts of 200 requests at 16 at once; every answer should be 2xx):")
labels = {"keepalive-go-idle-1s": "Go app, IdleTimeout 1 s, pauses 2 s",
          "keepalive-nginx-keepalive-2s": "nginx app, keepalive_timeout 2s, pauses 2.5 s"}
for phase, label in labels.items():
    print(f"  {label}")
    for r in rows:
        if r.get("phase") != phase:
            continue
        st = r["statuses"]
        other = sum(v for k, v in st.items() if k not in ("error", "502", "504") and not k.startswith("2"))
        per = [b["statuses"].get("502", 0) for b in r["bursts"]]
        print(f"    {r['target']:9}502s: {st.get('502', 0)}  504s: {st.get('504', 0)}  other non-2xx: {other}"
              f"  errors: {st.get('error', 0)}  (502s per burst: {per}; answers {st})")
        note("keepalive_502", st.get("502", 0), target=r["target"], scenario=phase, s504=st.get("504", 0), errors=st.get("error", 0))

for s in summary:
    out.write(json.dumps(s) + "\n")
PY
echo
echo "results (JSON lines, every run then the summary): $out"
