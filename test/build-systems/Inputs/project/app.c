/* app.c - scratch strings freed at once, records kept until exit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"

int main(void) {
  static struct record *kept[500];
  size_t chars = 0;
  for (int i = 0; i < 5000; i++) {
    char *s = scratch_format(i);
    chars += strlen(s);
    free(s);
    if (i % 10 == 0)
      kept[i / 10] = record_new(i);
  }
  printf("chars %zu, last record %s\n", chars, kept[499]->name);
  return 0;
}
