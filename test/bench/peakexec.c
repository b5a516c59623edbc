// rss_sampler.py's peak RSS. Forked from Python, a command's ru_maxrss
// includes the interpreter's image from before exec (7-11 MiB), so a
// program that touches 3 MiB reports the interpreter's peak; with --peak-exec
// (bench/real/peakexec.c forks it from a small static process) its peak is
// its own: at least the 3 MiB it touched, well below the interpreter's.
// The wrapper also passes on the exit code and a killing signal.
//
// RUN: %cc -O1 %s -o %t
// RUN: rm -f %t.fork.json %t.exec.json %t.code.json %t.sig.json
// RUN: %sampler --json=%t.fork.json -- %t
// RUN: %sampler --json=%t.exec.json --peak-exec=%peakexec -- %t
// RUN: %python -c "import json,sys; f,e=(json.load(open(a)) for a in sys.argv[1:]); print('fork', f['peak_rss_source'], 'above own peak by 2 MiB', f['peak_rss_kb'] > e['peak_rss_kb'] + 2048)" %t.fork.json %t.exec.json | FileCheck --check-prefix=FORK %s
// RUN: %python -c "import json,sys; d=json.load(open(sys.argv[1])); print('exec', d['peak_rss_source'], 'own', 3072 <= d['peak_rss_kb'] < 7168, 'exit', d['exit_status'])" %t.exec.json | FileCheck --check-prefix=EXEC %s
// RUN: not %sampler --json=%t.code.json --peak-exec=%peakexec -- %t exit7
// RUN: %python -c "import json,sys; d=json.load(open(sys.argv[1])); print('status', d['exit_status'])" %t.code.json | FileCheck --check-prefix=CODE %s
// RUN: not %sampler --json=%t.sig.json --peak-exec=%peakexec -- %t abort
// RUN: %python -c "import json,sys; d=json.load(open(sys.argv[1])); print('status', d['exit_status'])" %t.sig.json | FileCheck --check-prefix=SIG %s
// FORK: fork fork above own peak by 2 MiB True
// EXEC: exec peakexec own True exit 0
// CODE: status 7
// SIG: status -6
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "exit7")) return 7;
  if (argc > 1 && !strcmp(argv[1], "abort")) {
    signal(SIGABRT, SIG_DFL);
    abort();
  }
  size_t n = 3u << 20;
  char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 2;
  memset(p, 1, n);
  return 0;
}
