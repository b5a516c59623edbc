/* records.h - a small shared library with allocation sites of two lifetimes:
 * scratch buffers freed at once and records kept until exit. */
#ifndef RECORDS_H
#define RECORDS_H
#include <stddef.h>

struct record {
  int key;
  char *name;
};

char *scratch_format(int value);      /* freed by the caller at once */
struct record *record_new(int key);   /* kept until exit */
void record_free(struct record *r);

#endif
