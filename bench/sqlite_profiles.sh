#!/usr/bin/env bash
# bench/sqlite_profiles.sh BUILD_DIR OUT_DIR - lifetime profiles of SQLite
# for the offline tools (llama-profdata, llama-train): a training profile, a
# held-out profile of an independent run of the same workloads, and a big
# fully-sampled profile.
#
#   1. fetches Debian's sqlite3 sources and generates the amalgamation
#      (bench/speedtest1.sh's fetch_sources, cached in BUILD_DIR/bench/sqlite)
#      and the shell's shell.c;
#   2. compiles sqlite3.c once with the profiling flags (`llama-config
#      --generate`) and links two programs from it into OUT_DIR/bin:
#      speedtest1 and the sqlite3 shell;
#   3. for each profile, runs the workloads with LLAMA_PROF_FILE pointing into
#      OUT_DIR/raw/NAME and merges the raw profiles into OUT_DIR/NAME.llamaprof
#      (merge timed with /usr/bin/time -v, into OUT_DIR/NAME.merge.time):
#        train    speedtest1 --size N $SPEEDTEST_ARGS for N in TRAIN_SIZES, and
#                 the shell on a generated SQL script of SQL_TRAIN_ROWS rows;
#                 the profiler's default sampling;
#        heldout  the same with HELDOUT_SIZES and SQL_HELDOUT_ROWS: the same
#                 test sets on other data, an independent run;
#        big      the same with BIG_SIZES and SQL_BIG_ROWS and
#                 LLAMA_PROF_SAMPLE=1 (every allocation sampled); the script
#                 fails if it has fewer than BIG_MIN_SAMPLES samples;
#   4. prints, for each profile, samples, sites, contexts, context-dependent
#      sites and the class histogram by calls (from `show --json`), and the
#      wall time of each step (into OUT_DIR/summary.txt, times in OUT_DIR/times.txt).
#
# Re-runnable: the binaries, generated SQL and profiles that exist are kept;
# FORCE=1 redoes everything.
#
# Environment: TESTSET (speedtest1 --testset, default main,orm,cte,fp),
# SPEEDTEST_ARGS ("--memdb --testset $TESTSET"), TRAIN_SIZES (100),
# HELDOUT_SIZES (80), BIG_SIZES ("100 120"), BIG_MIN_SAMPLES (1000000),
# SQL_WORKLOAD (1; 0: only speedtest1), SQL_TRAIN_ROWS (20000),
# SQL_HELDOUT_ROWS (15000), SQL_BIG_ROWS (20000), FORCE.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -ne 2 ]; then
  echo "usage: bench/sqlite_profiles.sh BUILD_DIR OUT_DIR" >&2
  exit 2
fi
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
# The functions of speedtest1.sh (fetch_sources, now_ns) and its settings:
# BUILD_DIR, BIN, WORK (the cached sources), CC.
# shellcheck source-path=SCRIPTDIR source=speedtest1.sh
. "$HERE/speedtest1.sh" "$1"

FORCE=${FORCE:-0}
TESTSET=${TESTSET:-main,orm,cte,fp}
ST_ARGS=${SPEEDTEST_ARGS:-"--memdb --testset $TESTSET"}
TRAIN_SIZES=${TRAIN_SIZES:-100}
HELDOUT_SIZES=${HELDOUT_SIZES:-80}
BIG_SIZES=${BIG_SIZES:-"100 120"}
BIG_MIN_SAMPLES=${BIG_MIN_SAMPLES:-1000000}
SQL_WORKLOAD=${SQL_WORKLOAD:-1}
SQL_TRAIN_ROWS=${SQL_TRAIN_ROWS:-20000}
SQL_HELDOUT_ROWS=${SQL_HELDOUT_ROWS:-15000}
SQL_BIG_ROWS=${SQL_BIG_ROWS:-20000}
PROFDATA="$BIN/llama-profdata"
TIMES="$OUT/times.txt"

log() { bench_log "sqlite_profiles: $*"; }
fresh() { [ "$FORCE" = 1 ] || [ ! -s "$1" ]; }

# step NAME COMMAND...: runs COMMAND, logs and records its wall time.
step() {
  local name=$1 t0 t1
  shift
  t0=$(now_ns)
  "$@"
  t1=$(now_ns)
  log "$name: $(( (t1 - t0) / 1000000 )) ms"
  printf '%-28s %8d ms\n' "$name" $(( (t1 - t0) / 1000000 )) >>"$TIMES"
}

# Step 2: one profiling compile of sqlite3.c, two programs. The shell's
# shell.c is generated next to sqlite3.c (cached like it).
build_programs() {
  local gen_cflags gen_ldflags
  read -r -a gen_cflags <<<"$("$BIN/llama-config" --generate --cflags)"
  read -r -a gen_ldflags <<<"$("$BIN/llama-config" --generate --ldflags)"
  local cflags=(-O2 "${gen_cflags[@]}" -g -DSQLITE_OMIT_LOAD_EXTENSION -I"$WORK/amalg")
  mkdir -p "$OUT/bin" "$OUT/obj"
  if [ "$SQL_WORKLOAD" = 1 ] && [ ! -s "$WORK/amalg/shell.c" ]; then
    log "generating shell.c"
    (cd "$WORK/amalg" && make shell.c >make-shell.log 2>&1) ||
      { log "make shell.c failed, see $WORK/amalg/make-shell.log"; exit 1; }
  fi
  if fresh "$OUT/obj/sqlite3.o"; then
    log "compiling sqlite3.c (profiling build)"
    "$CC" "${cflags[@]}" -c "$WORK/amalg/sqlite3.c" -o "$OUT/obj/sqlite3.o"
  fi
  if fresh "$OUT/bin/speedtest1"; then
    log "building speedtest1"
    "$CC" "${cflags[@]}" -c "$SRC/test/speedtest1.c" -o "$OUT/obj/speedtest1.o"
    "$CC" -o "$OUT/bin/speedtest1" "$OUT/obj/speedtest1.o" "$OUT/obj/sqlite3.o" -lm "${gen_ldflags[@]}"
  fi
  if [ "$SQL_WORKLOAD" = 1 ] && fresh "$OUT/bin/sqlite3"; then
    log "building the sqlite3 shell"
    "$CC" "${cflags[@]}" -c "$WORK/amalg/shell.c" -o "$OUT/obj/shell.o"
    "$CC" -o "$OUT/bin/sqlite3" "$OUT/obj/shell.o" "$OUT/obj/sqlite3.o" -lm "${gen_ldflags[@]}"
  fi
}

# gen_sql ROWS: an SQL script for the shell with an application's mix of
# statements: schema, bulk inserts in transactions, indexes, joins,
# aggregates, sorts, window functions, JSON, CTEs, views, triggers, updates,
# deletes, savepoints and rollbacks, temp tables, ANALYZE and VACUUM. Batches
# make objects of several lifetimes (per statement, per transaction, per
# connection).
gen_sql() {
  local n=$1 batches=10 b lo hi
  cat <<EOF
PRAGMA journal_mode=WAL;
PRAGMA cache_size=-8000;
CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, age INT, score REAL, bio TEXT);
CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INT NOT NULL REFERENCES users(id), amount REAL, status TEXT, note TEXT, created INT);
CREATE TABLE tags(order_id INT, tag TEXT, PRIMARY KEY(order_id, tag)) WITHOUT ROWID;
CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB);
CREATE TABLE audit(id INTEGER PRIMARY KEY, what TEXT, at INT);
CREATE TRIGGER orders_del AFTER DELETE ON orders BEGIN
  INSERT INTO audit(what, at) VALUES ('delete ' || old.id, old.created);
END;
CREATE TRIGGER users_upd AFTER UPDATE OF score ON users WHEN new.score > 90 BEGIN
  INSERT INTO audit(what, at) VALUES ('score ' || new.id, new.age);
END;
CREATE VIEW user_totals AS
  SELECT u.id, u.name, count(o.id) AS n, total(o.amount) AS spent
  FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id;
EOF
  for b in $(seq 1 $batches); do
    lo=$(( (b - 1) * n / batches + 1 ))
    hi=$(( b * n / batches ))
    cat <<EOF
BEGIN;
WITH RECURSIVE c(i) AS (SELECT $lo UNION ALL SELECT i + 1 FROM c WHERE i < $hi)
INSERT INTO users SELECT i, 'user' || i, printf('u%d@example.org', i), 18 + abs(random()) % 70,
  abs(random()) % 10000 / 100.0, substr(hex(randomblob(100)), 1, abs(random()) % 200) FROM c;
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $(( 4 * (hi - lo + 1) )))
INSERT INTO orders(user_id, amount, status, note, created)
  SELECT 1 + abs(random()) % $hi, abs(random()) % 100000 / 100.0,
    CASE abs(random()) % 4 WHEN 0 THEN 'new' WHEN 1 THEN 'paid' WHEN 2 THEN 'shipped' ELSE 'void' END,
    CASE WHEN random() % 3 = 0 THEN NULL ELSE substr(hex(randomblob(60)), 1, abs(random()) % 120) END,
    $b * 1000 + i FROM c;
INSERT OR IGNORE INTO tags SELECT id, 'tag' || (id % 17) FROM orders WHERE id % 3 = 0 AND created >= $b * 1000;
INSERT OR REPLACE INTO kv SELECT 'k' || (id % 5000), randomblob(16 + id % 500) FROM orders WHERE created >= $b * 1000;
COMMIT;
EOF
    if [ "$b" = 1 ]; then
      cat <<'EOF'
CREATE INDEX orders_user ON orders(user_id, created);
CREATE INDEX orders_status ON orders(status, amount);
CREATE INDEX users_age ON users(age, score);
EOF
    fi
    cat <<EOF
SELECT status, count(*), total(amount), avg(length(note)) FROM orders GROUP BY status ORDER BY 2 DESC;
SELECT * FROM user_totals ORDER BY spent DESC LIMIT 20;
SELECT u.name, o.amount, row_number() OVER (PARTITION BY u.age ORDER BY o.amount DESC) AS r
  FROM users u JOIN orders o ON o.user_id = u.id WHERE u.age BETWEEN 30 AND 32 ORDER BY r LIMIT 50;
SELECT age, group_concat(name, ',') FROM (SELECT age, name FROM users WHERE score > 95 ORDER BY name) GROUP BY age;
SELECT json_group_array(json_object('id', id, 'amount', amount, 'status', status))
  FROM (SELECT * FROM orders WHERE user_id % 97 = $b LIMIT 200);
SELECT count(*) FROM orders WHERE note LIKE '%AB%' OR note GLOB '*F0F*';
SELECT t.tag, count(*), max(o.amount) FROM tags t JOIN orders o ON o.id = t.order_id GROUP BY t.tag ORDER BY 2;
WITH RECURSIVE top(id, depth) AS (SELECT id, 0 FROM users WHERE id % 1000 = $b
  UNION ALL SELECT o.user_id, depth + 1 FROM top JOIN orders o ON o.id = top.id * 3 WHERE depth < 5)
SELECT count(*), max(depth) FROM top;
CREATE TEMP TABLE big_spenders AS SELECT id, spent FROM user_totals WHERE spent > 2000;
SELECT count(*), total(spent) FROM big_spenders;
DROP TABLE big_spenders;
BEGIN;
UPDATE users SET score = score + 1.5, bio = bio || 'x' WHERE id % 7 = $(( b % 7 ));
UPDATE orders SET status = 'shipped', note = upper(note) WHERE status = 'paid' AND created % 5 = 0;
DELETE FROM orders WHERE status = 'void' AND created % 3 = $(( b % 3 ));
SAVEPOINT sp;
DELETE FROM users WHERE id % 11 = 0;
INSERT INTO kv VALUES ('tmp$b', zeroblob(4096));
ROLLBACK TO sp;
RELEASE sp;
COMMIT;
SELECT k, length(v) FROM kv ORDER BY length(v) DESC, k LIMIT 10;
EOF
  done
  cat <<'EOF'
ANALYZE;
SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id WHERE u.age > 60 AND o.amount > 500;
PRAGMA integrity_check;
DELETE FROM orders WHERE id % 2 = 0;
VACUUM;
SELECT count(*), total(amount) FROM orders;
EOF
}

# run_workloads NAME SAMPLE SIZES SQL_ROWS: the profiling runs of one profile
# (LLAMA_PROF_SAMPLE=SAMPLE, empty: the default); the raw profiles land in
# OUT_DIR/raw/NAME (emptied first).
run_workloads() {
  local name=$1 sample=$2 sizes=$3 rows=$4 raw="$OUT/raw/$1" size db
  local env=(env)
  [ -n "$sample" ] && env+=(LLAMA_PROF_SAMPLE="$sample")
  rm -rf "$raw"
  mkdir -p "$raw"
  for size in $sizes; do
    log "$name: speedtest1 --size $size $ST_ARGS (LLAMA_PROF_SAMPLE=${sample:-default})"
    # shellcheck disable=SC2086
    "${env[@]}" LLAMA_PROF_FILE="$raw/speedtest1-%p.profraw" \
      "$OUT/bin/speedtest1" --size "$size" $ST_ARGS >"$raw/speedtest1-$size.out"
  done
  if [ "$SQL_WORKLOAD" = 1 ]; then
    if fresh "$OUT/sql/$rows.sql"; then
      mkdir -p "$OUT/sql"
      gen_sql "$rows" >"$OUT/sql/$rows.sql"
    fi
    log "$name: sqlite3 shell, $OUT/sql/$rows.sql on a file database (WAL)"
    db="$raw/shell.db"
    rm -f "$db" "$db-wal" "$db-shm"
    "${env[@]}" LLAMA_PROF_FILE="$raw/sqlite3-%p.profraw" \
      "$OUT/bin/sqlite3" -bail "$db" <"$OUT/sql/$rows.sql" >"$raw/sqlite3.out"
    rm -f "$db" "$db-wal" "$db-shm"
  fi
}

# merge NAME: OUT_DIR/raw/NAME/*.profraw -> OUT_DIR/NAME.llamaprof, with the
# merge's time and peak RSS in OUT_DIR/NAME.merge.time.
merge() {
  local name=$1
  log "$name: llama-profdata merge ($(find "$OUT/raw/$name" -name '*.profraw' | wc -l) raw profiles, $(du -ch "$OUT/raw/$name"/*.profraw | tail -n 1 | cut -f1))"
  /usr/bin/time -v -o "$OUT/$name.merge.time" \
    "$PROFDATA" merge -o "$OUT/$name.llamaprof" "$OUT/raw/$name"/*.profraw
  log "$name: merge $(awk -F': ' '/Elapsed \(wall clock\)/ { t = $2 } /Maximum resident/ { m = $2 } END { printf "%s wall, peak RSS %.0f MiB", t, m / 1024 }' "$OUT/$name.merge.time")"
}

# profile NAME SAMPLE SIZES SQL_ROWS
profile() {
  if ! fresh "$OUT/$1.llamaprof"; then
    log "$1: $OUT/$1.llamaprof exists (FORCE=1 redoes it)"
    return
  fi
  step "$1: runs" run_workloads "$@"
  step "$1: merge" merge "$1"
}

# Step 4: the numbers, from show --json: samples, sites, contexts,
# context-dependent sites, calls by the class of their site and of their
# context, samples by lifetime bucket.
SUMMARY_PY='
import json, sys
d = json.load(sys.stdin)
m = d["meta"]
sites = d["sites"]
alloc = [s for s in sites if s["kind"] != "free"]
ctxs = [c for s in alloc for c in s["contexts"]]
calls = sum(s["calls"] for s in alloc) or 1
def hist(items):
    h = [0] * 8
    for it in items:
        h[7 if it["class"] is None else it["class"]] += it["calls"]
    return " ".join("%s:%.1f%%" % (k if k < 7 else "unsampled", 100.0 * v / calls) for k, v in enumerate(h) if v)
life = [sum(s["histogram"][i] for s in alloc) for i in range(8)]
print("%-8s samples %d (period %d), sites %d (%d allocation, %d sampled), contexts %d, context-dependent sites %d (%.1f%% of allocation calls)" % (
    sys.argv[1], m["total_samples"], m["sample_period"], m["site_count"], len(alloc),
    sum(s["class"] is not None for s in alloc), m["context_count"],
    sum(s["context_dependent"] for s in alloc),
    100.0 * sum(s["calls"] for s in alloc if s["context_dependent"]) / calls))
print("         allocation calls %d; by site class:    %s" % (calls, hist(alloc)))
print("         %-24s by context class: %s" % ("", hist(ctxs)))
print("         samples by lifetime (<=10ms <=100ms <=1s <=10s <=100s <=1000s >1000s live): " + " ".join(str(v) for v in life))
if len(sys.argv) > 2 and m["total_samples"] < int(sys.argv[2]):
    print("         FAIL: fewer than %s samples" % sys.argv[2])
    sys.exit(1)
'

summarise() {
  local name min status=0
  {
    echo "SQLite $(basename "$SRC") profiles in $OUT (speedtest1 $ST_ARGS; shell workload: $SQL_WORKLOAD)"
    for name in train heldout big; do
      min=0
      [ "$name" = big ] && min=$BIG_MIN_SAMPLES
      "$PROFDATA" show --json "$OUT/$name.llamaprof" | python3 -c "$SUMMARY_PY" "$name" "$min" || status=1
      awk -F': ' '/Elapsed \(wall clock\)/ { t = $2 } /Maximum resident/ { m = $2 } END { printf "         merge: %s wall, peak RSS %.0f MiB\n", t, m / 1024 }' "$OUT/$name.merge.time"
    done
    echo "step wall times (all invocations, $TIMES):"
    cat "$TIMES"
    return $status
  } | tee "$OUT/summary.txt"
}

[ "$FORCE" = 1 ] && rm -f "$TIMES"
echo "# $(date -u +%FT%TZ) $0 $*" >>"$TIMES"
step "fetch sources" fetch_sources
step "build" build_programs
profile train "" "$TRAIN_SIZES" "$SQL_TRAIN_ROWS"
profile heldout "" "$HELDOUT_SIZES" "$SQL_HELDOUT_ROWS"
profile big 1 "$BIG_SIZES" "$SQL_BIG_ROWS"
summarise
