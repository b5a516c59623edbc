/* peakexec.c - run a command from a small process and report its peak RSS.
 *
 * usage: llama-peakexec RESULT_FILE COMMAND [ARG...]
 *
 * rss_sampler.py forks from Python. A process's peak RSS (ru_maxrss,
 * VmHWM) includes the memory image it had before exec, so every command it
 * started had a peak of at least the forked interpreter's ~10.5 MiB, and a
 * program that peaks below that (xmllint --repeat: 8.5-9.9 MiB) read as
 * 10.3-10.5 MiB whatever its allocator. This wrapper, itself small, forks
 * the command, waits for it, writes "maxrss_kb N" (the command's own
 * ru_maxrss) to RESULT_FILE and ends as the command ended: the same exit
 * code, or the same signal. The command inherits stdin, stdout, stderr and
 * the environment. No allocation beyond libc's start-up. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    static const char usage[] = "usage: llama-peakexec RESULT_FILE COMMAND [ARG...]\n";
    (void)!write(2, usage, sizeof usage - 1);
    return 2;
  }
  pid_t pid = fork();
  if (pid < 0) {
    perror("llama-peakexec: fork");
    return 127;
  }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    fprintf(stderr, "llama-peakexec: %s: %s\n", argv[2], strerror(errno));
    _exit(127);
  }
  /* Signals meant for the job (a terminal's ^C) reach the command too; the
   * wrapper outlives it to report. */
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  int status;
  struct rusage ru;
  while (wait4(pid, &status, 0, &ru) < 0)
    if (errno != EINTR) {
      perror("llama-peakexec: wait4");
      return 127;
    }
  int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    char buf[64];
    int n = snprintf(buf, sizeof buf, "maxrss_kb %ld\n", ru.ru_maxrss);
    (void)!write(fd, buf, (size_t)n);
    close(fd);
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    signal(sig, SIG_DFL);
    struct rlimit none = {0, 0}; /* the command dumped core already, if it could */
    setrlimit(RLIMIT_CORE, &none);
    raise(sig);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 127;
}
