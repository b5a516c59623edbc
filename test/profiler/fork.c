// fork: parent and child write distinct files (%p); the child's profile is
// flagged FORKED and starts at the fork: none of the parent's samples, site
// counts from zero (the 3 pre-fork calls are counted in the parent only),
// its own samples and stacks. The parent's profile is unaffected by the
// child. A second child calls _exit and writes nothing.
//
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %cc %prof_cflags %s -o %t %link_llamaprof
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/f-%%p.profraw %t | FileCheck --check-prefix=OUT %s
// RUN: ls %t.dir | count 2
// RUN: %rawdump --check-name "f-{pid}.profraw" %t.dir/*.profraw | FileCheck --check-prefix=NAME %s
// RUN: %rawdump --summary %t.dir/*.profraw | FileCheck %s
//
// OUT: fork: done
// NAME-COUNT-2: name ok
// CHECK:      header period=1 flags=0 samples=9
// CHECK-NEXT: site before:[[#BEFORE:]] kind=malloc count=3 bytes=30 samples=3 freed=0 live=3 flags=LIVE
// CHECK-NEXT: site in_child:[[#CHILD:]] kind=malloc count=0 bytes=0 samples=0
// CHECK-NEXT: site in_child:[[#CHILD+2]] kind=free count=0
// CHECK-NEXT: site after:[[#AFTER:]] kind=malloc count=6 bytes=120 samples=6 freed=0 live=6 flags=LIVE
// CHECK-NEXT: header period=1 flags=FORKED samples=5
// CHECK-NEXT: site before:[[#BEFORE]] kind=malloc count=0 bytes=0 samples=0
// CHECK-NEXT: site in_child:[[#CHILD]] kind=malloc count=5 bytes=500 samples=5 freed=4 live=1 flags=LIVE
// CHECK-NEXT: site in_child:[[#CHILD+2]] kind=free count=4
// CHECK-NEXT: site after:[[#AFTER]] kind=malloc count=0 bytes=0 samples=0

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *volatile sink;

__attribute__((noinline)) static void before(void) { sink = malloc(10); }

__attribute__((noinline)) static void in_child(void) {
  for (int i = 0; i < 5; i++) {
    void *p = malloc(100);
    sink = p;
    if (i) free(p);
  }
}

__attribute__((noinline)) static void after(void) { sink = malloc(20); }

int main(void) {
  for (int i = 0; i < 3; i++) before();
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    in_child();
    exit(0);
  }
  after();
  int status;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status)) return 1;
  /* A child that leaves with _exit writes no profile. */
  pid = fork();
  if (pid == 0) {
    in_child();
    _exit(0);
  }
  waitpid(pid, &status, 0);
  for (int i = 0; i < 5; i++) after();
  puts("fork: done");
  return 0;
}
