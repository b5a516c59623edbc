#include <stdio.h>
#include <stdlib.h>

void *volatile keep;

int main(void) {
  long sum = 0;
  for (int i = 0; i < 1000; i++) {
    int *p = malloc(sizeof *p);
    keep = p;
    *p = i;
    sum += *p;
    free(p);
  }
  printf("sum %ld\n", sum);
  return 0;
}
