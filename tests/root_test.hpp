// The fixture of the library's own suites that run over every test root (disk and tmpfs), with
// the fault seam reset around each test. Needs the test build of the library (tempfile_testing).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "platform/fault.hpp"
#include "tempfile/options.hpp"
#include "test_support.hpp"

namespace tftest {

/// A fixture for tests parameterised over roots(): each test gets a fresh scratch directory in
/// the root, and the fault seam is reset before and after it.
class root_test : public ::testing::TestWithParam<root> {
 protected:
  void SetUp() override { tempfile::detail::fault::reset(); }
  void TearDown() override { tempfile::detail::fault::reset(); }
  /// The test's scratch directory.
  const fs::path& dir() const { return dir_.path(); }
  /// The names in dir(), sorted.
  std::vector<std::string> entries() const { return dir_.entries(); }
  /// Options that create in dir().
  tempfile::options in_dir() const {
    tempfile::options o;
    o.dir = dir();
    return o;
  }

 private:
  scratch dir_{GetParam().path};
};

}  // namespace tftest
