// `tempfile sponge` through the executable, interrupted: after SIGINT or SIGTERM, whether the
// input was still being soaked up (and had spilled to disk) or was being written, nothing is
// left behind and FILE is either untouched or complete. Waits only on pipes and waitpid().
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "process_support.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace tfcli;  // NOLINT(google-build-using-namespace): the helpers of these tests

class SpongeSignal : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    fs::create_directory(spill());
    fs::create_directory(work());
  }
  fs::path spill() const { return dir_.path() / "tmp"; }  // TMPDIR: where the input spills
  fs::path work() const { return dir_.path() / "work"; }  // where FILE lives
  started start_sponge(const std::vector<std::string>& args) const {
    start_options o;
    o.pipe_stdin = true;
    o.env = {{"TMPDIR", spill().string()}};
    return start(kBinary, args, o);
  }

  tftest::scratch dir_{tftest::roots().front().path};
};

TEST_P(SpongeSignal, WhileSoakingNothingIsLeftAndFileIsUntouched) {
  const fs::path target = work() / "out";
  tftest::spit(target, "old\n");
  started s = start_sponge({"sponge", target.string()});
  // 24 MiB, well past the 8 MiB held in memory: once the last write returns, sponge has read all
  // but what a pipe holds, so it has spilled to disk and is still waiting for the end of input.
  const std::string chunk(1 << 20, 'x');
  for (int i = 0; i < 24; ++i) ASSERT_TRUE(write_all(s.in.get(), chunk));
  ASSERT_EQ(::kill(s.pid, GetParam()), 0);
  const finished f = finish(s);
  EXPECT_NE(f.status, 0);
  EXPECT_EQ(tftest::slurp(target), "old\n");
  EXPECT_TRUE(fs::is_empty(spill()));
  EXPECT_EQ(tftest::names_in(work()), std::vector<std::string>{"out"});
}

TEST_P(SpongeSignal, AfterTheInputEndsFileIsOldOrCompleteAndNothingElseIsLeft) {
  const fs::path target = work() / "out";
  tftest::spit(target, "old\n");
  std::string input;
  for (int i = 0; i < 200000; ++i) input += std::to_string(i) + "\n";
  started s = start_sponge({"sponge", target.string()});
  ASSERT_TRUE(write_all(s.in.get(), input));
  s.in.reset();  // end of input: sponge now writes FILE, and is interrupted somewhere in that
  ::kill(s.pid, GetParam());
  (void)finish(s);
  const std::string now = tftest::slurp(target);
  EXPECT_TRUE(now == "old\n" || now == input) << "FILE has " << now.size() << " bytes";
  EXPECT_TRUE(fs::is_empty(spill()));
  EXPECT_EQ(tftest::names_in(work()), std::vector<std::string>{"out"});
}

INSTANTIATE_TEST_SUITE_P(Signals, SpongeSignal, ::testing::Values(SIGINT, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& param) {
                           return std::string(sigabbrev_np(param.param));
                         });

}  // namespace
