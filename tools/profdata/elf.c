/*
 * elf.c - reads the GNU build id of an ELF file (32 or 64 bit, either byte
 * order), from its PT_NOTE segments or, for separate debug files without
 * program headers, its SHT_NOTE sections. Used by merge to match the
 * binaries it symbolises against the build ids the profiler recorded.
 */
#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

struct elf_file {
  int fd;
  int is64, big_endian;
};

static uint64_t get(const struct elf_file *ef, const unsigned char *p, int size) {
  uint64_t v = 0;
  for (int i = 0; i < size; i++) {
    int shift = ef->big_endian ? 8 * (size - 1 - i) : 8 * i;
    v |= (uint64_t)p[i] << shift;
  }
  return v;
}

static int read_at(const struct elf_file *ef, void *buf, size_t n, uint64_t offset) {
  if (offset > (uint64_t)INT64_MAX)
    return -1;
  ssize_t got = pread(ef->fd, buf, n, (off_t)offset);
  return got == (ssize_t)n ? 0 : -1;
}

/* Scans a note area [offset, offset + size) for NT_GNU_BUILD_ID. */
static int scan_notes(const struct elf_file *ef, uint64_t offset, uint64_t size, unsigned char *id,
                      size_t cap) {
  unsigned char buf[65536];
  if (size > sizeof buf)
    size = sizeof buf;
  if (read_at(ef, buf, (size_t)size, offset))
    return 0;
  uint64_t pos = 0;
  while (size - pos >= 12) {
    uint64_t namesz = get(ef, buf + pos, 4), descsz = get(ef, buf + pos + 4, 4);
    uint64_t type = get(ef, buf + pos + 8, 4);
    uint64_t name_at = pos + 12, desc_at = name_at + ((namesz + 3) & ~(uint64_t)3);
    uint64_t next = desc_at + ((descsz + 3) & ~(uint64_t)3);
    if (next > size || next <= pos)
      return 0;
    if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(buf + name_at, "GNU", 4) == 0) {
      size_t n = descsz < cap ? (size_t)descsz : cap;
      memcpy(id, buf + desc_at, n);
      return (int)n;
    }
    pos = next;
  }
  return 0;
}

int elf_build_id(const char *path, unsigned char *id, size_t cap) {
  struct elf_file ef = {open(path, O_RDONLY | O_CLOEXEC), 0, 0};
  if (ef.fd < 0)
    return -1;
  unsigned char eh[64];
  int result = -1;
  if (read_at(&ef, eh, 52, 0) || memcmp(eh, ELFMAG, SELFMAG) != 0)
    goto out;
  ef.is64 = eh[EI_CLASS] == ELFCLASS64;
  ef.big_endian = eh[EI_DATA] == ELFDATA2MSB;
  if (ef.is64 && read_at(&ef, eh, 64, 0))
    goto out;
  uint64_t phoff, shoff;
  uint64_t phentsize, phnum, shentsize, shnum;
  if (ef.is64) {
    phoff = get(&ef, eh + 32, 8);
    shoff = get(&ef, eh + 40, 8);
    phentsize = get(&ef, eh + 54, 2);
    phnum = get(&ef, eh + 56, 2);
    shentsize = get(&ef, eh + 58, 2);
    shnum = get(&ef, eh + 60, 2);
  } else {
    phoff = get(&ef, eh + 28, 4);
    shoff = get(&ef, eh + 32, 4);
    phentsize = get(&ef, eh + 42, 2);
    phnum = get(&ef, eh + 44, 2);
    shentsize = get(&ef, eh + 46, 2);
    shnum = get(&ef, eh + 48, 2);
  }
  result = 0;
  unsigned char ent[64];
  if (phentsize >= (ef.is64 ? 56u : 32u) && phentsize <= sizeof ent) {
    for (uint64_t i = 0; i < phnum; i++) {
      if (read_at(&ef, ent, (size_t)phentsize, phoff + i * phentsize))
        break;
      if (get(&ef, ent, 4) != PT_NOTE)
        continue;
      uint64_t off = ef.is64 ? get(&ef, ent + 8, 8) : get(&ef, ent + 4, 4);
      uint64_t size = ef.is64 ? get(&ef, ent + 32, 8) : get(&ef, ent + 16, 4);
      int n = scan_notes(&ef, off, size, id, cap);
      if (n > 0) {
        result = n;
        goto out;
      }
    }
  }
  if (shentsize >= (ef.is64 ? 64u : 40u) && shentsize <= sizeof ent) {
    for (uint64_t i = 0; i < shnum; i++) {
      if (read_at(&ef, ent, (size_t)shentsize, shoff + i * shentsize))
        break;
      if (get(&ef, ent + 4, 4) != SHT_NOTE)
        continue;
      uint64_t off = ef.is64 ? get(&ef, ent + 24, 8) : get(&ef, ent + 16, 4);
      uint64_t size = ef.is64 ? get(&ef, ent + 32, 8) : get(&ef, ent + 20, 4);
      int n = scan_notes(&ef, off, size, id, cap);
      if (n > 0) {
        result = n;
        goto out;
      }
    }
  }
out:
  close(ef.fd);
  return result;
}
