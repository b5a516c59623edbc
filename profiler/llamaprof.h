/*
 * llamaprof.h - public API of libllamaprof, the profiler runtime of the
 * LLAMA profiling build (`llama-config --generate`).
 *
 * A program built with the profiling flags needs nothing from this header:
 * the compiler routes its allocation sites to the profiler and the profile
 * is written at exit. Include it to write a profile at a point of your
 * choosing (a server that never exits, a phase boundary).
 *
 * Environment (read once, at start-up): LLAMA_PROF_SAMPLE, LLAMA_PROF_DEPTH,
 * LLAMA_PROF_UNWIND, LLAMA_PROF_FILE, LLAMA_PROF_VERBOSE,
 * LLAMA_PROF_MAX_SAMPLES; docs/profile-format.md describes them and the file.
 */
#ifndef LLAMAPROF_H
#define LLAMAPROF_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Writes a raw profile of everything recorded so far: every registered
 * site with its counts, the samples (objects still live are flagged
 * LLAMA_RAW_S_LIVE) and their stacks; the header carries LLAMA_RAW_F_DUMP.
 * Profiling goes on; the profile written at exit includes these samples
 * again.
 *
 * `path` is a file name pattern (%p = pid, %h = host name, %% = '%'), or
 * NULL for LLAMA_PROF_FILE / "llama-%p.profraw". The file is written
 * atomically and never replaces another process's file: if the name exists,
 * NAME.<pid> is used instead (and stderr says so). A file this process
 * wrote before is replaced.
 *
 * Returns 0, or -1 with errno set (and one line on stderr) when the file
 * cannot be written. Thread-safe; the caller owns nothing afterwards.
 */
int llama_prof_dump(const char *path);

#ifdef __cplusplus
}
#endif

#endif /* LLAMAPROF_H */
