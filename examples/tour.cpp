#include <tempfile/tempfile.hpp>
int main() { return 0; }
