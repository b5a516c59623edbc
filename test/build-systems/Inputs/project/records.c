#include "records.h"

#include <stdio.h>
#include <stdlib.h>

char *scratch_format(int value) {
  char *text = malloc(32);
  if (text)
    snprintf(text, 32, "value %d", value);
  return text;
}

struct record *record_new(int key) {
  struct record *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->key = key;
  r->name = malloc(24);
  if (r->name)
    snprintf(r->name, 24, "record %d", key);
  return r;
}

void record_free(struct record *r) {
  if (r)
    free(r->name);
  free(r);
}
