#include <cstdio>
int main() { std::puts("pulse"); return 0; }
