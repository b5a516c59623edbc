/* write.c - the raw profile: building its image and publishing the file.
 *
 * Layout (include/llama/raw_profile.h is normative; docs/profile-format.md has
 * the full drawing):
 *
 *   +--------------------------------------------------------------+
 *   | llama_raw_header (64 bytes): "LLAMARAW", version, pid, times  |
 *   +--------------------------------------------------------------+
 *   | section META     | 16-byte section header | key/value pairs   |
 *   | section MODULES  | 16-byte section header | llama_raw_module+ |
 *   | section SITES    | 16-byte section header | llama_raw_site+   |
 *   | section STACKS   | 16-byte section header | llama_raw_stack+  |
 *   | section SAMPLES  | 16-byte section header | llama_raw_sample* |
 *   +--------------------------------------------------------------+
 *   every entry padded with zeros to a multiple of 8 bytes
 *
 * The image is built in an anonymous mapping: first the parts that need the
 * dynamic loader's lock (modules, through dl_iterate_phdr) without any
 * profiler lock held, then sites, stacks and samples under llama_prof_lock
 * (a consistent snapshot), then the file is written without locks.
 *
 * Publication never overwrites another process's profile: the image goes
 * to a temporary file next to the target (O_EXCL), is fsync'ed, then
 * link(2)ed to the final name, which fails if that name exists; then
 * NAME.<pid> (NAME.<pid>.<k>) is used instead and stderr says so. Only a
 * file this same process wrote earlier (a llama_prof_dump, then the exit
 * profile) is replaced, with rename(2). The write path uses no stdio and
 * no malloc. */
#include "internal.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdio.h> /* rename */
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif

static size_t pad8(size_t n) { return (8 - (n & 7)) & 7; }

static void put_padding(llama_prof_buf_t *b, size_t n) { llama_prof_buf_put(b, NULL, pad8(n)); }

/* ---- META ----------------------------------------------------------------- */

static void meta_pair(llama_prof_buf_t *b, uint32_t *count, const char *key, const char *value,
                      size_t value_len) {
  uint32_t lens[2] = {(uint32_t)strlen(key), (uint32_t)value_len};
  llama_prof_buf_put(b, lens, sizeof lens);
  llama_prof_buf_put(b, key, lens[0]);
  llama_prof_buf_put(b, value, lens[1]);
  put_padding(b, lens[0] + lens[1]);
  (*count)++;
}

static size_t read_file(const char *path, char *out, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  size_t len = 0;
  while (len < cap) {
    ssize_t n = read(fd, out + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  close(fd);
  return len;
}

static size_t exe_path(char *out, size_t cap) {
  ssize_t n = readlink("/proc/self/exe", out, cap - 1);
  if (n < 0) n = 0;
  out[n] = 0;
  return (size_t)n;
}

static void collect_meta(llama_prof_buf_t *b, uint32_t *count) {
  char text[8192];
  size_t n = exe_path(text, sizeof text);
  meta_pair(b, count, "exe", text, n);
  /* Arguments joined by single spaces (for display; NULs in the kernel's
   * copy become spaces). */
  n = read_file("/proc/self/cmdline", text, sizeof text);
  while (n && text[n - 1] == 0) n--;
  for (size_t i = 0; i < n; i++)
    if (!text[i]) text[i] = ' ';
  meta_pair(b, count, "cmdline", text, n);
  struct utsname uts;
  if (uname(&uts) == 0)
    meta_pair(b, count, "host", uts.nodename, strlen(uts.nodename));
  else
    meta_pair(b, count, "host", "", 0);
  const char *unwinder = llama_prof_unwinder_name();
  meta_pair(b, count, "unwinder", unwinder, strlen(unwinder));
  meta_pair(b, count, "version", LLAMA_PROF_VERSION, strlen(LLAMA_PROF_VERSION));
  llama_prof_str_t depth = {text, 0, sizeof text};
  llama_prof_str_u64(&depth, llama_prof_options.depth);
  meta_pair(b, count, "depth", text, depth.len);
}

/* Under the lock: META entries that change while the program runs. */
static void collect_meta_locked(llama_prof_buf_t *b, uint32_t *count) {
  char text[32];
  llama_prof_str_t dropped = {text, 0, sizeof text};
  llama_prof_str_u64(&dropped, llama_prof_samples_dropped());
  meta_pair(b, count, "samples_dropped", text, dropped.len);
}

/* ---- MODULES -------------------------------------------------------------- */

typedef struct modules_s {
  llama_prof_buf_t entries; /* MODULES payload */
  llama_prof_buf_t ranges;  /* uint64_t pairs: every PT_LOAD segment */
  uint32_t count;
} modules_t;

static void build_id(const struct dl_phdr_info *info, const Elf64_Phdr *ph, const void **id,
                     uint32_t *len) {
  const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
  const unsigned char *end = p + ph->p_memsz;
  while (p + sizeof(Elf64_Nhdr) <= end) {
    const Elf64_Nhdr *note = (const Elf64_Nhdr *)p;
    size_t name = (note->n_namesz + 3) & ~(size_t)3, desc = (note->n_descsz + 3) & ~(size_t)3;
    const unsigned char *name_p = p + sizeof *note, *desc_p = name_p + name;
    if (desc_p + desc > end) return;
    if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 && !memcmp(name_p, "GNU", 4)) {
      *id = desc_p;
      *len = note->n_descsz;
      return;
    }
    p = desc_p + desc;
  }
}

static int module_callback(struct dl_phdr_info *info, size_t size, void *arg) {
  modules_t *m = arg;
  uint64_t start = UINT64_MAX, end = 0;
  const void *id = NULL;
  uint32_t id_len = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const Elf64_Phdr *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_NOTE && !id) build_id(info, ph, &id, &id_len);
    if (ph->p_type != PT_LOAD) continue;
    uint64_t range[2] = {info->dlpi_addr + ph->p_vaddr, info->dlpi_addr + ph->p_vaddr + ph->p_memsz};
    llama_prof_buf_put(&m->ranges, range, sizeof range);
    if (!(ph->p_flags & PF_X)) continue;
    if (range[0] < start) start = range[0];
    if (range[1] > end) end = range[1];
  }
  if (!end) return 0; /* nothing executable: no return address can be in it */
  char exe[PATH_MAX];
  const char *path = info->dlpi_name ? info->dlpi_name : "";
  size_t path_len = strlen(path);
  if (!path_len && m->count == 0) { /* the main program */
    path_len = exe_path(exe, sizeof exe);
    path = exe;
  }
  struct llama_raw_module entry = {
      .load_bias = info->dlpi_addr,
      .start = start,
      .end = end,
      .build_id_len = id_len,
      .path_len = (uint32_t)path_len,
  };
  llama_prof_buf_put(&m->entries, &entry, sizeof entry);
  llama_prof_buf_put(&m->entries, id, id_len);
  llama_prof_buf_put(&m->entries, path, path_len);
  put_padding(&m->entries, id_len + path_len);
  m->count++;
  return 0;
}

/* A registered site array of a module that was dlclose'd is unmapped:
 * only arrays inside a loaded segment are read. */
static int mapped(const modules_t *m, const void *p, size_t size) {
  const uint64_t *r = (const uint64_t *)m->ranges.p;
  size_t n = m->ranges.len / (2 * sizeof *r);
  uint64_t a = (uintptr_t)p;
  for (size_t i = 0; i < n; i++)
    if (a >= r[2 * i] && a + size <= r[2 * i + 1]) return 1;
  return 0;
}

/* ---- the image ------------------------------------------------------------ */

typedef struct counts_s {
  uint64_t sites, samples;
  uint32_t stacks;
} counts_t;

/* Appends a section header; returns its offset for section_end. */
static size_t section_begin(llama_prof_buf_t *b, uint32_t kind) {
  struct llama_raw_section s = {.kind = kind};
  size_t at = b->len;
  llama_prof_buf_put(b, &s, sizeof s);
  return at;
}

static void section_end(llama_prof_buf_t *b, size_t at, uint64_t count) {
  if (b->failed) return;
  struct llama_raw_section *s = (struct llama_raw_section *)(b->p + at);
  s->count = (uint32_t)count;
  s->size = b->len - at - sizeof *s;
}

static uint32_t string_len(const char *s) { return s ? (uint32_t)strnlen(s, 1u << 20) : 0; }

static uint64_t put_sites(llama_prof_buf_t *b, const modules_t *m) {
  uint64_t registrations, written = 0;
  llama_prof_pending_t pending;
  if (llama_prof_pending_collect(&pending) < 0) b->failed = ENOMEM;
  const llama_prof_module_sites_t *r = llama_prof_registrations(&registrations);
  for (uint64_t k = 0; k < registrations; k++) {
    if (!mapped(m, r[k].sites, r[k].count * sizeof *r[k].sites)) continue;
    for (uint64_t i = 0; i < r[k].count; i++) {
      const struct llama_site *site = &r[k].sites[i];
      struct llama_raw_site e = {
          .id = site->id,
          .count = __atomic_load_n(&site->count, __ATOMIC_RELAXED),
          .bytes = __atomic_load_n(&site->bytes, __ATOMIC_RELAXED),
          .line = site->line,
          .column = site->column,
          .line_offset = site->line_offset,
          .kind = site->kind,
          .flags = site->flags,
      };
      llama_prof_pending_get(&pending, site, &e.count, &e.bytes);
      /* An external pseudo-site nothing called says nothing. */
      if ((site->flags & LLAMA_SITE_EXTERNAL) && !e.count) continue;
      e.function_len = string_len(site->function);
      e.file_len = string_len(site->file);
      e.inlined_at_len = string_len(site->inlined_at);
      llama_prof_buf_put(b, &e, sizeof e);
      llama_prof_buf_put(b, site->function, e.function_len);
      llama_prof_buf_put(b, site->file, e.file_len);
      llama_prof_buf_put(b, site->inlined_at, e.inlined_at_len);
      put_padding(b, (size_t)e.function_len + e.file_len + e.inlined_at_len);
      written++;
    }
  }
  llama_prof_pending_free(&pending);
  return written;
}

static void build_image(llama_prof_buf_t *b, llama_prof_buf_t *meta, uint32_t meta_count,
                        const modules_t *m, uint32_t flags, counts_t *counts) {
  collect_meta_locked(meta, &meta_count);
  struct llama_raw_header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, LLAMA_RAW_MAGIC, sizeof h.magic);
  h.version = LLAMA_RAW_VERSION;
  h.header_size = sizeof h;
  h.pid = (uint64_t)getpid();
  h.start_ns = llama_prof_start_ns;
  h.end_ns = llama_prof_now_ns();
  h.sample_period = llama_prof_options.sample_period;
  h.section_count = 5;
  h.flags = llama_prof_flags | flags;
  llama_prof_buf_put(b, &h, sizeof h);

  size_t at = section_begin(b, LLAMA_RAW_SEC_META);
  llama_prof_buf_put(b, meta->p, meta->len);
  section_end(b, at, meta_count);

  at = section_begin(b, LLAMA_RAW_SEC_MODULES);
  llama_prof_buf_put(b, m->entries.p, m->entries.len);
  section_end(b, at, m->count);

  at = section_begin(b, LLAMA_RAW_SEC_SITES);
  counts->sites = put_sites(b, m);
  section_end(b, at, counts->sites);

  at = section_begin(b, LLAMA_RAW_SEC_STACKS);
  counts->stacks = llama_prof_stack_count();
  for (uint32_t id = 1; id <= counts->stacks; id++) {
    struct llama_raw_stack s = {.id = id};
    const uint64_t *frames = llama_prof_stack_get(id, &s.depth);
    llama_prof_buf_put(b, &s, sizeof s);
    llama_prof_buf_put(b, frames, s.depth * sizeof *frames);
  }
  section_end(b, at, counts->stacks);

  at = section_begin(b, LLAMA_RAW_SEC_SAMPLES);
  counts->samples = llama_prof_sample_count();
  for (uint64_t i = 0; i < counts->samples; i++) {
    struct llama_raw_sample s = *llama_prof_sample_at(i);
    if (s.free_ns == LLAMA_RAW_NOT_FREED) {
      s.flags |= LLAMA_RAW_S_LIVE;
      s.free_site_id = 0;
      s.free_tid = 0;
    }
    llama_prof_buf_put(b, &s, sizeof s);
  }
  section_end(b, at, counts->samples);
}

/* ---- file names ----------------------------------------------------------- */

/* Expands %p (pid), %h (host name) and %% in `pattern`. */
static int expand(const char *pattern, char *out, size_t cap) {
  llama_prof_str_t s = {out, 0, cap};
  for (const char *c = pattern; *c; c++) {
    if (c[0] == '%' && c[1] == 'p') {
      llama_prof_str_u64(&s, (uint64_t)getpid());
      c++;
    } else if (c[0] == '%' && c[1] == 'h') {
      struct utsname uts;
      llama_prof_str_add(&s, uname(&uts) == 0 ? uts.nodename : "localhost");
      c++;
    } else if (c[0] == '%' && c[1] == '%') {
      llama_prof_str_add(&s, "%");
      c++;
    } else {
      llama_prof_str_addn(&s, c, 1);
    }
  }
  if (s.len + 1 >= cap - 64) { /* room for the temporary and alternate suffixes */
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}

/* Files this process has written: the only ones it may replace. */
#define WRITTEN_MAX 8
static struct {
  char paths[WRITTEN_MAX][PATH_MAX];
  unsigned next;
} written;

static int written_by_us(const char *path) {
  for (unsigned i = 0; i < WRITTEN_MAX; i++)
    if (written.paths[i][0] && !strcmp(written.paths[i], path)) return 1;
  return 0;
}

static void remember(const char *path) {
  if (written_by_us(path)) return;
  strncpy(written.paths[written.next % WRITTEN_MAX], path, PATH_MAX - 1);
  written.next++;
}

void llama_prof_write_fork_child(void) { memset(&written, 0, sizeof written); }

static void with_suffix(char *out, const char *path, const char *tag, uint64_t a, uint64_t b,
                        int with_b) {
  llama_prof_str_t s = {out, 0, PATH_MAX};
  llama_prof_str_add(&s, path);
  llama_prof_str_add(&s, tag);
  llama_prof_str_u64(&s, a);
  if (with_b) {
    llama_prof_str_add(&s, ".");
    llama_prof_str_u64(&s, b);
  }
}

/* Publishes `tmp` as `name` unless `name` exists: link(2), or
 * renameat2(RENAME_NOREPLACE) on file systems without hard links.
 * Returns 0 (tmp still exists after a link), or -1 with errno. */
static int publish_as(const char *tmp, const char *name, int *tmp_gone) {
  if (link(tmp, name) == 0) return 0;
  if (errno == EEXIST) return -1;
  int link_errno = errno;
  if (syscall(SYS_renameat2, AT_FDCWD, tmp, AT_FDCWD, name, RENAME_NOREPLACE) == 0) {
    *tmp_gone = 1;
    return 0;
  }
  if (errno != EEXIST) errno = link_errno;
  return -1;
}

/* Writes `data` to `path` as described at the top of the file; the name
 * actually used goes to `final`. */
static int publish(const char *path, const void *data, size_t len, char *final) {
  char tmp[PATH_MAX];
  uint64_t pid = (uint64_t)getpid();
  int fd = -1;
  for (unsigned k = 0; k < 100 && fd < 0; k++) {
    with_suffix(tmp, path, ".tmp.", pid, k, 1);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) return -1;
  }
  if (fd < 0) return -1;
  if (llama_prof_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
    int saved = errno;
    close(fd);
    unlink(tmp);
    errno = saved;
    return -1;
  }
  if (close(fd) < 0) {
    int saved = errno;
    unlink(tmp);
    errno = saved;
    return -1;
  }
  strcpy(final, path);
  if (written_by_us(path)) {
    if (rename(tmp, path) == 0) return 0;
    int saved = errno;
    unlink(tmp);
    errno = saved;
    return -1;
  }
  int tmp_gone = 0, r = publish_as(tmp, final, &tmp_gone);
  for (unsigned k = 0; r < 0 && errno == EEXIST && k < 100; k++) {
    with_suffix(final, path, ".", pid, k, k > 0);
    r = publish_as(tmp, final, &tmp_gone);
  }
  int saved = errno;
  if (!tmp_gone) unlink(tmp);
  errno = saved;
  if (r == 0 && strcmp(final, path) != 0) {
    char note[2 * PATH_MAX + 64];
    llama_prof_str_t s = {note, 0, sizeof note};
    llama_prof_str_add(&s, path);
    llama_prof_str_add(&s, " exists; wrote ");
    llama_prof_str_add(&s, final);
    llama_prof_str_add(&s, " instead");
    llama_prof_report(note, NULL, 0);
  }
  return r;
}

/* ---- entry ------------------------------------------------------------------ */

int llama_prof_write(const char *pattern, uint32_t flags) {
  llama_prof_thread_t *t = &llama_prof_thread;
  uint8_t saved_guard = t->in_profiler;
  t->in_profiler = 1;
  llama_prof_dump_lock();
  char path[PATH_MAX], final[PATH_MAX];
  int r = expand(pattern ? pattern : llama_prof_options.file, path, sizeof path);
  int err = errno, expanded = r == 0;
  llama_prof_buf_t meta = {0}, image = {0};
  modules_t modules = {0};
  uint32_t meta_count = 0;
  counts_t counts = {0};
  if (r == 0) {
    collect_meta(&meta, &meta_count);
    dl_iterate_phdr(module_callback, &modules);
    pthread_mutex_lock(&llama_prof_lock);
    build_image(&image, &meta, meta_count, &modules, flags, &counts);
    pthread_mutex_unlock(&llama_prof_lock);
    int failed = image.failed | meta.failed | modules.entries.failed | modules.ranges.failed;
    if (failed) {
      r = -1;
      err = failed;
    } else {
      r = publish(path, image.p, image.len, final);
      err = errno;
    }
  }
  if (r == 0) {
    remember(final);
    if (llama_prof_options.verbose) {
      char note[PATH_MAX + 128];
      llama_prof_str_t s = {note, 0, sizeof note};
      llama_prof_str_add(&s, "wrote ");
      llama_prof_str_add(&s, final);
      llama_prof_str_add(&s, " (");
      llama_prof_str_u64(&s, counts.sites);
      llama_prof_str_add(&s, " sites, ");
      llama_prof_str_u64(&s, counts.samples);
      llama_prof_str_add(&s, " samples, ");
      llama_prof_str_u64(&s, counts.stacks);
      llama_prof_str_add(&s, " stacks)");
      llama_prof_report(note, NULL, 0);
    }
  } else {
    char note[PATH_MAX + 32];
    llama_prof_str_t s = {note, 0, sizeof note};
    llama_prof_str_add(&s, "cannot write ");
    llama_prof_str_add(&s, expanded ? path : (pattern ? pattern : llama_prof_options.file));
    llama_prof_report(note, NULL, err);
  }
  llama_prof_buf_free(&meta);
  llama_prof_buf_free(&image);
  llama_prof_buf_free(&modules.entries);
  llama_prof_buf_free(&modules.ranges);
  llama_prof_dump_unlock();
  t->in_profiler = saved_guard;
  errno = err;
  return r;
}

LLAMA_PROF_EXPORT int llama_prof_dump(const char *path) {
  llama_prof_init();
  return llama_prof_write(path, LLAMA_RAW_F_DUMP);
}
