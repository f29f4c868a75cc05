// The implementation and main() of Catch2 for catch2_child.cpp.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
