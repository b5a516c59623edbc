#include <cstdio>
#include <string>
#include <vector>

int main() {
  std::vector<std::string *> names;
  for (int i = 0; i < 100; i++)
    names.push_back(new std::string(40, 'a' + i % 26));
  size_t total = 0;
  for (std::string *s : names) {
    total += s->size();
    delete s;
  }
  std::printf("total %zu\n", total);
  return 0;
}
