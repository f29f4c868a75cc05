// detail::lazy_path: the text the system calls use, and the std::filesystem::path built from it
// once, on the first request, from any number of threads at once.
#include "tempfile/detail/lazy_path.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using tempfile::detail::lazy_path;
namespace fs = std::filesystem;

TEST(LazyPath, TextIsKeptAndThePathMatchesIt) {
  const lazy_path p(std::string("/dev/shm/dir/tmpabc123"));
  EXPECT_FALSE(p.empty());
  EXPECT_EQ(p.native(), "/dev/shm/dir/tmpabc123");
  EXPECT_STREQ(p.c_str(), "/dev/shm/dir/tmpabc123");
  EXPECT_EQ(p.get(), fs::path("/dev/shm/dir/tmpabc123"));
  EXPECT_EQ(p.get().filename(), "tmpabc123");  // a real path, split into components
  EXPECT_EQ(&p.get(), &p.get()) << "built once, then the same object every time";
}

TEST(LazyPath, EmptyByDefault) {
  const lazy_path p;
  EXPECT_TRUE(p.empty());
  EXPECT_STREQ(p.c_str(), "");
  EXPECT_TRUE(p.get().empty());
}

TEST(LazyPath, AssignReplacesTextAndPathAndEarlierReferencesFollow) {
  lazy_path p(std::string("/a/b"));
  const fs::path& before = p.get();
  EXPECT_EQ(before, fs::path("/a/b"));
  p.assign(std::string("/c/d"));
  EXPECT_EQ(p.native(), "/c/d");
  EXPECT_EQ(p.get(), fs::path("/c/d"));
  EXPECT_EQ(before, fs::path("/c/d")) << "a reference taken earlier shows the new path";
  p.assign(fs::path("/e") / "f");
  EXPECT_EQ(p.native(), "/e/f");
  EXPECT_EQ(p.get(), fs::path("/e/f"));
  EXPECT_EQ(&p.get(), &before);
  p.clear();
  EXPECT_TRUE(p.empty());
  EXPECT_TRUE(p.get().empty());
  EXPECT_TRUE(before.empty());
}

// set() copies into the memory the text already has (a kept file state's path is reused so).
TEST(LazyPath, SetCopiesInPlaceAndEarlierReferencesFollow) {
  lazy_path p(std::string("/dev/shm/a/long/enough/name/not/to/be/short"));
  const char* const memory = p.c_str();
  p.set("/dev/shm/b/shorter/name");
  EXPECT_EQ(p.native(), "/dev/shm/b/shorter/name");
  EXPECT_EQ(p.c_str(), memory) << "the memory it had is reused";
  const fs::path& ref = p.get();
  p.set("/tmp/c");
  EXPECT_EQ(p.native(), "/tmp/c");
  EXPECT_EQ(ref, fs::path("/tmp/c"));
  EXPECT_EQ(&p.get(), &ref);
}

// reset() empties the path but keeps the text's memory; text_to_fill() is written in place.
TEST(LazyPath, ResetKeepsTheMemoryAndTextToFillWritesInPlace) {
  lazy_path p(std::string("/dev/shm/a/long/enough/name/not/to/be/short"));
  (void)p.get();
  const char* const memory = p.c_str();
  p.reset();
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(p.get(), fs::path());
  p.text_to_fill() = "/dev/shm/x/y";  // fits: no new memory
  EXPECT_EQ(p.c_str(), memory);
  EXPECT_EQ(p.native(), "/dev/shm/x/y");
  EXPECT_EQ(p.get(), fs::path("/dev/shm/x/y")) << "the path built before was dropped";
}

TEST(LazyPath, MovingLeavesTheSourceEmptyAndEveryReferenceValid) {
  lazy_path a(std::string("/x/y"));
  const fs::path& from_a = a.get();
  lazy_path b(std::move(a));
  EXPECT_EQ(b.native(), "/x/y");
  EXPECT_EQ(b.get(), fs::path("/x/y"));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT_TRUE(a.get().empty());
  EXPECT_TRUE(from_a.empty()) << "a reference into the moved-from object shows it empty";

  lazy_path c(std::string("/other"));
  const fs::path& from_c = c.get();
  const fs::path& from_b = b.get();
  c = std::move(b);  // as persist() does: the target's path replaces the old one
  EXPECT_EQ(c.native(), "/x/y");
  EXPECT_EQ(&c.get(), &from_c) << "the same object, so earlier references stay valid";
  EXPECT_EQ(from_c, fs::path("/x/y"));
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(from_b.empty());

  lazy_path d(std::string("/d"));
  const fs::path& from_d = d.get();
  lazy_path e(std::string("/never/built"));
  d = std::move(e);  // the source never built its path: this one's is remade
  EXPECT_EQ(from_d, fs::path("/never/built"));
  EXPECT_EQ(&d.get(), &from_d);
}

TEST(LazyPath, ThreadsAskingAtOnceAllGetTheSamePath) {
  for (int round = 0; round < 50; ++round) {
    const lazy_path p(std::string("/dev/shm/round/") + std::to_string(round));
    std::vector<const fs::path*> seen(8, nullptr);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < seen.size(); ++i) {
      threads.emplace_back([&p, &seen, i] { seen[i] = &p.get(); });
    }
    for (auto& t : threads) t.join();
    for (const fs::path* s : seen) {
      ASSERT_EQ(s, seen[0]) << "one path object, whoever built it";
      EXPECT_EQ(*s, fs::path(p.native()));
    }
  }
}

}  // namespace
