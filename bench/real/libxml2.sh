#!/usr/bin/env bash
# bench/real/libxml2.sh BUILD_DIR OUT_DIR - LLAMA on libxml2's xmllint
# (Debian's libxml2 source package: autotools and libtool, a shared library
# and the programs linked to it), built in two stages by the compiler
# wrappers only: `./configure CC=llama-clang`, nothing else changed.
#
#   1. sources: `apt-get source libxml2` into REAL_WORK/libxml2 (default
#      /tmp/real/libxml2), then `autoreconf -fi` as Debian's build does
#      (its patches touch Makefile.am; the shipped Makefile.in is from
#      another automake). Debian's tarball leaves out upstream's test/ and
#      result/ (Files-Excluded, bug 331534): the test suite takes them from
#      upstream's git tag of the same version (UPSTREAM_GIT, a clone or
#      mirror of GNOME/libxml2; without one the suite runs on Debian's few
#      test files and says so);
#   2. each stage (plain, prof, use) is a VPATH build of the same sources in
#      REAL_WORK/libxml2/STAGE, `configure --without-python --disable-static
#      --prefix=STAGE/inst && make && make install`, with
#        plain  CC=clang-19
#        prof   CC=llama-clang, LLAMA_GENERATE=1 exported for every step
#        use    CC=llama-clang, LLAMA_USE=libxml2.llamaprof
#               LLAMA_USE_MODEL=libxml2.fk.llamamodel exported likewise
#      (configure's default CFLAGS, -g -O2, in all three);
#   3. profiles the prof build: xmllint on a generated catalogue (PROF_RECORDS
#      records, seed 1; the evaluation's five modes) and libxml2's own
#      `make check` (runtest, testrecurse, testapi, testchar, testdict,
#      runxmlconf, the fuzzer seeds), each process writing its raw profile;
#      merges and trains (common.sh's real_train);
#   4. runs `make check` of the plain and use builds (the prof build's ran in
#      step 3) and compares each program's summary with the plain build's;
#   5. measures the evaluation workloads (xmllint on EVAL_RECORDS records,
#      seed 2, and --repeat on a REPEAT_RECORDS-record file, seed 3: other
#      data and sizes than the profile) under glibc, the peers, libllamalloc
#      preloaded with the model, and the use build, REPS times each; every
#      run holds BENCH_LOCK (common.sh); writes OUT_DIR/report.md.
#
# Environment (besides common.sh's): PROF_RECORDS (20000), EVAL_RECORDS
# (40000), REPEAT_RECORDS (1000), UPSTREAM_GIT (default: the first of
# /work/.mirror/GNOME+libxml2/repo, REAL_WORK/libxml2/upstream.git that
# exists, else a clone from GitHub is tried), PROF_CHECK=0 (profile xmllint
# only), SKIP_TESTS=1, TEST_STAGES (plain use), MEASURE=0, FORCE=1.
set -euo pipefail

HERE_XML=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$HERE_XML/common.sh"
real_init libxml2 "$@"

PROF_RECORDS=${PROF_RECORDS:-20000}
EVAL_RECORDS=${EVAL_RECORDS:-40000}
REPEAT_RECORDS=${REPEAT_RECORDS:-1000}
FORCE=${FORCE:-0}
[ -x "$BIN/llama-clang" ] || { echo "libxml2: $BIN/llama-clang missing; build LLAMA first (make build)" >&2; exit 2; }

real_apt dpkg-dev autoconf automake libtool pkg-config zlib1g-dev liblzma-dev git time
SRC=$(real_apt_source libxml2 "$W")
VERSION=$(basename "$SRC" | sed 's/^libxml2-//; s/+.*//')

# Debian's patches change Makefile.am; its Makefile.in is from automake
# 1.16.1, which `missing` would refuse to rerun: regenerate, as dh does.
if [ ! -f "$SRC/.llama-autoreconf" ]; then
  real_log "autoreconf -fi in $SRC"
  (cd "$SRC" && autoreconf -fi >"$W/autoreconf.log" 2>&1) || { real_log "autoreconf failed, see $W/autoreconf.log"; exit 1; }
  touch "$SRC/.llama-autoreconf"
fi

# Upstream's test/ and result/ of the same version, added next to Debian's
# (whose own test files win).
TESTDATA=debian
if [ -f "$SRC/.llama-upstream-tests" ]; then
  TESTDATA=$(cat "$SRC/.llama-upstream-tests")
else
  git_dir=${UPSTREAM_GIT:-}
  if [ -z "$git_dir" ]; then
    for d in /work/.mirror/GNOME+libxml2/repo "$W/upstream.git"; do
      [ -d "$d" ] && { git_dir=$d; break; }
    done
  fi
  if [ -z "$git_dir" ]; then
    real_log "cloning GNOME/libxml2 (tags only) for upstream's test data"
    if git clone -q --bare --filter=blob:none https://github.com/GNOME/libxml2.git "$W/upstream.git" 2>/dev/null; then
      git_dir="$W/upstream.git"
    else
      real_log "warning: no upstream git; the test suite runs on Debian's test files only"
    fi
  fi
  if [ -n "$git_dir" ] && git --git-dir="$git_dir" rev-parse -q --verify "v$VERSION^{commit}" >/dev/null; then
    git --git-dir="$git_dir" archive "v$VERSION" test result | tar -x --skip-old-files -C "$SRC" -f -
    TESTDATA="upstream v$VERSION ($(git --git-dir="$git_dir" rev-parse --short "v$VERSION^{commit}"))"
    echo "$TESTDATA" >"$SRC/.llama-upstream-tests"
    real_log "test/ and result/ from $TESTDATA"
  elif [ -n "$git_dir" ]; then
    real_log "warning: $git_dir has no tag v$VERSION; the test suite runs on Debian's test files only"
  fi
fi

# stage_env STAGE: STAGE_CC and STAGE_ENV (VAR=value words for env) of a stage.
stage_env() {
  case $1 in
    plain) STAGE_CC=$CC; STAGE_ENV=() ;;
    prof) STAGE_CC=llama-clang; STAGE_ENV=(LLAMA_GENERATE=1) ;;
    use) STAGE_CC=llama-clang
         STAGE_ENV=(LLAMA_USE="$W/libxml2.llamaprof" LLAMA_USE_MODEL="$W/libxml2.fk.llamamodel") ;;
  esac
  STAGE_MODE=${STAGE_ENV[*]:-no mode}
  STAGE_ENV+=(PATH="$BIN:$PATH")
}

# build_stage STAGE: W/STAGE (build tree), W/STAGE/inst (installed).
build_stage() {
  local stage=$1 d="$W/$1"
  if [ "$FORCE" != 1 ] && [ -x "$d/inst/bin/xmllint" ] &&
     { [ "$stage" != use ] || real_newer "$d/inst/bin/xmllint"; }; then
    real_log "$stage build is up to date"
    return
  fi
  stage_env "$stage"
  rm -rf "$d"
  mkdir -p "$d"
  real_log "$stage: configure CC=$STAGE_CC && make && make install ($STAGE_MODE)"
  local t0 t1
  t0=$(date +%s)
  (cd "$d" && env "${STAGE_ENV[@]}" "$SRC/configure" CC="$STAGE_CC" --without-python --disable-static \
     --prefix="$d/inst" >configure.log 2>&1) || { real_log "$stage: configure failed, see $d/configure.log"; exit 1; }
  (cd "$d" && env "${STAGE_ENV[@]}" make -j"${JOBS:-2}" >make.log 2>&1 &&
     env "${STAGE_ENV[@]}" make install >install.log 2>&1) ||
    { real_log "$stage: make failed, see $d/make.log"; tail -n 5 "$d/make.log" >&2; exit 1; }
  t1=$(date +%s)
  echo "$stage: configure, make, make install: $((t1 - t0)) s" >>"$OUT/build-times.txt"
  if [ "$stage" != plain ] && ! cmp -s "$W/plain/config.h" "$d/config.h" 2>/dev/null; then
    real_log "note: $stage's config.h differs from plain's (configure through the wrapper decided otherwise)"
    diff "$W/plain/config.h" "$d/config.h" >"$OUT/config-h-$stage.diff" || true
  fi
}

# run_check STAGE [VAR=value...]: `make check` in W/STAGE with the stage's
# environment; its output in OUT/check-STAGE.log, a summary line per test
# program in OUT/tests-summary-STAGE.txt (and OUT/tests-STAGE.txt: program
# and result, for the comparison).
run_check() {
  local stage=$1 d="$W/$1" status=0 t0 t1
  shift
  stage_env "$stage"
  real_log "$stage: make check (test data: $TESTDATA)"
  t0=$(date +%s)
  (cd "$d" && env "${STAGE_ENV[@]}" "$@" make check >"$OUT/check-$stage.log" 2>&1) || status=$?
  t1=$(date +%s)
  python3 - "$OUT/check-$stage.log" "$status" >"$OUT/tests-$stage.txt" <<'EOF'
import re, sys
log, status = open(sys.argv[1], errors="replace").read(), sys.argv[2]
progs = [("runtest", r"^## XML regression tests$"), ("testrecurse", r"^## Parsing recursive test cases$"),
         ("testapi", r"^Testing HTMLparser"), ("testchar", r"^testing char range"),
         ("testdict", r"^dictionary tests"), ("runxmlconf", r"^(xmlconf/xmlconf.xml is missing|## XML Conformance)"),
         ("fuzz", r"^## Running fuzzer tests$")]
starts = []
for name, pat in progs:
    m = re.search(pat, log, re.M)
    starts.append((m.start() if m else None, name))
found = sorted((s, n) for s, n in starts if s is not None)
for i, (s, name) in enumerate(found):
    part = log[s:found[i + 1][0] if i + 1 < len(found) else len(log)]
    res = None
    if name == "testapi":
        m = re.search(r"^Total: (\d+) functions, (\d+) tests, (\d+) errors", part, re.M)
        res = m and "%s functions, %s tests, %s errors" % m.groups()
    elif name in ("runtest", "testrecurse", "runxmlconf"):
        m = re.search(r"^Total (\d+) tests, (no errors|(\d+) errors, (\d+) leaks)", part, re.M)
        res = m and ("%s tests, %s" % (m.group(1), m.group(2)))
    elif name == "testchar":
        res = "%d checks done" % part.count(" done") if "done" in part else None
    elif name == "testdict":
        m = re.search(r"^dictionary tests (succeeded|failed)[^\n]*", part, re.M)
        res = m and m.group(0)
    elif name == "fuzz":
        m = re.search(r"^(Successfully tested \d+ inputs|.*[Ff]ail[^\n]*)", part, re.M)
        res = m and m.group(0)
    print("%s\t%s" % (name, res or "no summary (failed or did not run)"))
for s, name in starts:
    if s is None:
        print("%s\tdid not run" % name)
print("make-check\texit status %s" % status)
EOF
  {
    printf '%s: make check exit status %s, %d s; ' "$stage" "$status" $((t1 - t0))
    awk -F'\t' '$1 != "make-check" { printf "%s%s: %s", (n++ ? "; " : ""), $1, $2 } END { print "" }' "$OUT/tests-$stage.txt"
  } | tee "$OUT/tests-summary-$stage.txt" >&2
}

# compare_tests STAGE: each program's result against plain's.
compare_tests() {
  if [ ! -s "$OUT/tests-plain.txt" ]; then
    echo "$1: no plain results in $OUT to compare with" | tee -a "$OUT/tests-summary-$1.txt" >&2
    return 1
  fi
  if cmp -s "$OUT/tests-plain.txt" "$OUT/tests-$1.txt"; then
    echo "$1: same results as plain" | tee -a "$OUT/tests-summary-$1.txt" >&2
  else
    echo "$1: DIFFERENT results from plain: $(diff "$OUT/tests-plain.txt" "$OUT/tests-$1.txt" | grep '^>' | tr '\t\n' ': ')" |
      tee -a "$OUT/tests-summary-$1.txt" >&2
    return 1
  fi
}

# gen_xml RECORDS SEED: a catalogue with an internal DTD (IDs, IDREFs,
# enumerations, defaults, an entity), two namespaces, mixed content,
# CDATA and comments; text lengths vary (exponential), so do allocation
# sizes. About 950 bytes a record.
gen_xml() {
  python3 - "$1" "$2" <<'EOF'
import random, sys
records, seed = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(seed)
out = sys.stdout
w = out.write
words = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
         "sigma tau upsilon phi chi psi omega lorem ipsum dolor sit amet consectetur adipiscing").split()
w('<?xml version="1.0" encoding="UTF-8"?>\n'
  '<!DOCTYPE catalog [\n'
  '<!ELEMENT catalog (record*)>\n'
  '<!ATTLIST catalog xmlns CDATA #FIXED "urn:llama:catalog" xmlns:m CDATA #FIXED "urn:llama:meta">\n'
  '<!ELEMENT record (title, author+, tags?, body, m:note*)>\n'
  '<!ATTLIST record id ID #REQUIRED kind (book|paper|report) "book" year CDATA #IMPLIED>\n'
  '<!ELEMENT title (#PCDATA)>\n<!ELEMENT author (#PCDATA)>\n'
  '<!ATTLIST author ref IDREF #IMPLIED>\n'
  '<!ELEMENT tags (tag*)>\n<!ELEMENT tag (#PCDATA)>\n'
  '<!ELEMENT body (#PCDATA|em|code)*>\n<!ELEMENT em (#PCDATA)>\n<!ELEMENT code (#PCDATA)>\n'
  '<!ELEMENT m:note (#PCDATA)>\n<!ATTLIST m:note m:lang CDATA "en">\n'
  '<!ENTITY co "LLAMA Catalogue Consortium">\n'
  ']>\n'
  '<catalog xmlns="urn:llama:catalog" xmlns:m="urn:llama:meta">\n')
for i in range(records):
    w('<record id="r%d" kind="%s" year="%d">' % (i, r.choice(("book", "paper", "report")), r.randint(1950, 2024)))
    w('<title>%s</title>' % " ".join(r.choice(words) for _ in range(r.randint(2, 9))))
    for _ in range(r.randint(1, 4)):
        ref = ' ref="r%d"' % r.randint(0, i) if i and r.random() < 0.3 else ''
        w('<author%s>%s %s</author>' % (ref, r.choice(words).title(), r.choice(words).title()))
    if r.random() < 0.7:
        w('<tags>' + "".join('<tag>%s</tag>' % r.choice(words) for _ in range(r.randint(0, 6))) + '</tags>')
    w('<body>')
    for _ in range(r.randint(1, 6)):
        w(" ".join(r.choice(words) for _ in range(int(r.expovariate(1 / 30)) + 1)))
        c = r.random()
        if c < 0.3: w(' <em>%s</em> ' % r.choice(words))
        elif c < 0.45: w(' <code>a &lt; b &amp;&amp; c &gt; d</code> ')
        elif c < 0.55: w(' &co; ')
        elif c < 0.6: w(' <![CDATA[raw <data> & more]]> ')
    w('</body>')
    for _ in range(r.choice((0, 0, 1, 2))):
        w('<m:note m:lang="%s">%s</m:note>' % (r.choice(("en", "de", "fr")),
          " ".join(r.choice(words) for _ in range(r.randint(3, 20)))))
    w('</record>\n')
    if i % 1000 == 999:
        w('<!-- %d records -->\n' % (i + 1))
w('</catalog>\n')
EOF
}

xml_file() {
  [ -s "$W/xml/$1-$2.xml" ] || { mkdir -p "$W/xml"; gen_xml "$1" "$2" >"$W/xml/$1-$2.xml.tmp" && mv "$W/xml/$1-$2.xml.tmp" "$W/xml/$1-$2.xml"; }
  echo "$W/xml/$1-$2.xml"
}

# The xmllint modes, for the profile and the evaluation (name, arguments
# before the file; --repeat parses its file 100 times).
XPATH="count(//*[local-name()='record'][*[local-name()='author'][2]])"
workload_args() {
  case $1 in
    valid) echo "--noout --valid" ;;
    stream) echo "--stream --noout --valid" ;;
    xpath) echo "--noout --xpath" ;;   # the expression follows
    format) echo "--format --output /dev/null" ;;
    repeat) echo "--noout --valid --repeat" ;;
  esac
}
WORKLOADS="valid stream xpath format repeat"

# xmllint_args WORKLOAD FILE: the argument words, one a line.
xmllint_args() {
  local a
  for a in $(workload_args "$1"); do echo "$a"; done
  [ "$1" = xpath ] && echo "$XPATH"
  echo "$2"
}

profile() {
  real_profile_fresh "$W/libxml2.llamaprof" "$W/prof/inst/bin/xmllint" && return
  local big small wl args f
  big=$(xml_file "$PROF_RECORDS" 1)
  small=$(xml_file $((REPEAT_RECORDS / 2)) 1)
  for wl in $WORKLOADS; do
    if [ "$wl" = repeat ]; then f=$small; else f=$big; fi
    mapfile -t args < <(xmllint_args "$wl" "$f")
    real_log "profiling: xmllint ${args[*]}"
    LLAMA_PROF_FILE="$W/raw/xmllint-$wl-%p.profraw" "$W/prof/inst/bin/xmllint" "${args[@]}" >"$W/raw/xmllint-$wl.out" 2>&1 ||
      { real_log "profiling run failed: xmllint ${args[*]}"; exit 1; }
  done
  if [ "${PROF_CHECK:-1}" = 1 ]; then
    # libxml2's own test suite on the profiling build: its test result and
    # the second half of the profile.
    run_check prof LLAMA_PROF_FILE="$W/raw/check-%p.profraw"
  fi
  real_train
}

# The evaluation workloads.
bin_of() { real_config_env "$1"; echo "$W/$CFG_STAGE/inst/bin/xmllint"; }
prep_none() { :; }
run_workload() {
  local wl=$1 config=$2 rep=$3 f args
  if [ "$wl" = repeat ]; then f=$(xml_file "$REPEAT_RECORDS" 3); else f=$(xml_file "$EVAL_RECORDS" 2); fi
  mapfile -t args < <(xmllint_args "$wl" "$f")
  real_measure "$config" "$wl" "$rep" "$(bin_of "$config")" -- "${args[@]}"
}
for wl in $WORKLOADS; do eval "run_$wl() { run_workload $wl \"\$@\"; }"; done

real_build_all

if [ "${SKIP_TESTS:-0}" != 1 ]; then
  for stage in ${TEST_STAGES:-plain use}; do
    [ -x "$W/$stage/inst/bin/xmllint" ] || continue
    [ "$stage" = use ] && ! real_use_works && continue
    # LLAMA_STATS: each of the use build's test processes reports where its
    # allocations' classes came from (summed below).
    if [ "$stage" = use ]; then run_check use LLAMA_STATS=1; else run_check "$stage"; fi
  done
fi
for stage in prof use; do
  [ -s "$OUT/tests-$stage.txt" ] && { compare_tests "$stage" || true; }
done
if [ -s "$OUT/check-use.log" ]; then
  grep -o 'allocations: static [0-9]*, predicted [0-9]*, default [0-9]*' "$OUT/check-use.log" |
    awk '{ s += $3; p += $5; d += $7; n++ } END { if (n) printf "use: make check, %d processes with LLAMA_STATS: static %d, predicted %d, default %d: static share %.1f%%\n", n, s, p, d, 100 * s / (s + p + d) }' |
    tee "$OUT/check-use-static.txt" >&2
fi

if [ "${MEASURE:-1}" = 0 ]; then exit 0; fi
xml_file "$EVAL_RECORDS" 2 >/dev/null
xml_file "$REPEAT_RECORDS" 3 >/dev/null
real_measure_reset
for wl in $WORKLOADS; do
  real_measure_all "$wl" prep_none "run_$wl"
done
{
  real_report "libxml2 $(basename "$SRC"): xmllint on a $EVAL_RECORDS-record catalogue ($(du -m "$(xml_file "$EVAL_RECORDS" 2)" | cut -f1) MB; repeat: 100 parses of $REPEAT_RECORDS records)"
  echo "Workloads: $(for wl in $WORKLOADS; do printf '%s = xmllint %s; ' "$wl" "$(workload_args "$wl")"; done)xpath's expression: $XPATH"
  echo
  if ls "$OUT"/tests-summary-*.txt >/dev/null 2>&1; then
    echo "libxml2's make check (test data: $TESTDATA):"
    echo
    # Only the stages that ran (SKIP_TESTS=1 leaves the profiling run's):
    # a missing file must not fail the pipeline under pipefail.
    for f in "$OUT"/tests-summary-{plain,prof,use}.txt "$OUT/check-use-static.txt"; do
      if [ -f "$f" ]; then sed 's/^/    /' "$f"; fi
    done
  fi
} >"$OUT/report.md"
cat "$OUT/report.md"
