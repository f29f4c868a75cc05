// tempfile::file: the buffered I/O surface, exercised through named_temporary_file and
// temporary_file on every test root.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <tempfile/tempfile.hpp>
#include <thread>
#include <type_traits>
#include <vector>

#include "platform/fault.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace fault = tempfile::detail::fault;
using fault::call;
using tempfile::whence;

static_assert(std::is_nothrow_move_constructible_v<tempfile::file>);
static_assert(std::is_nothrow_move_assignable_v<tempfile::file>);
static_assert(std::is_nothrow_move_constructible_v<tempfile::temporary_file>);
static_assert(std::is_nothrow_move_assignable_v<tempfile::temporary_file>);
static_assert(std::is_nothrow_move_constructible_v<tempfile::named_temporary_file>);
static_assert(std::is_nothrow_move_assignable_v<tempfile::named_temporary_file>);
static_assert(!std::is_copy_constructible_v<tempfile::file>);
static_assert(!std::is_copy_assignable_v<tempfile::file>);
static_assert(!std::is_copy_constructible_v<tempfile::named_temporary_file>);
static_assert(std::is_nothrow_destructible_v<tempfile::named_temporary_file>);

constexpr std::size_t kBuffer = 64 * 1024;  // the library's buffer size

enum class kind { named, unnamed };

struct param {
  tftest::root root;
  kind k;
};

std::vector<param> params() {
  std::vector<param> out;
  for (const auto& r : tftest::roots()) {
    out.push_back({r, kind::named});
    out.push_back({r, kind::unnamed});
  }
  return out;
}

void PrintTo(const param& p, std::ostream* os) {
  *os << p.root.label << (p.k == kind::named ? " named" : " unnamed");
}

std::string param_name(const ::testing::TestParamInfo<param>& p) {
  return p.param.root.label + (p.param.k == kind::named ? "_named" : "_unnamed");
}

// Bytes that differ from their neighbours, so a shifted or repeated block is noticed.
std::string pattern(std::size_t n, unsigned seed = 0) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>((i * 131 + i / 251 + seed) & 0xff);
  }
  return s;
}

// The content of the file behind descriptor `fd`, read with pread (the offset is untouched).
std::string pread_all(int fd) {
  std::string out;
  char buf[8192];
  for (off_t off = 0;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, off);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    off += n;
  }
  return out;
}

void expect_fs_error(const std::function<void()>& f, int err, const std::string& in_message) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected errno " << err;
  } catch (const fs::filesystem_error& e) {
    EXPECT_TRUE(e.code() == std::error_condition(err, std::generic_category()))
        << "got " << e.code().message() << ", want " << std::generic_category().message(err) << ": "
        << e.what();
    EXPECT_NE(std::string(e.what()).find(in_message), std::string::npos)
        << "'" << in_message << "' not in: " << e.what();
  }
}

class File : public ::testing::TestWithParam<param> {
 protected:
  void SetUp() override { fault::reset(); }
  void TearDown() override { fault::reset(); }

  const fs::path& dir() const { return dir_.path(); }
  bool named() const { return GetParam().k == kind::named; }

  std::unique_ptr<tempfile::file> make(tempfile::options o = {}) {
    o.dir = dir();
    if (named()) return std::make_unique<tempfile::named_temporary_file>(o);
    return std::make_unique<tempfile::temporary_file>(o);
  }

  // What an error message about `f` must contain: its path, or its directory when unnamed.
  std::string where(tempfile::file& f) const {
    if (auto* n = dynamic_cast<tempfile::named_temporary_file*>(&f)) {
      return "'" + n->path().string() + "'";
    }
    return "'" + dir().string() + "'";
  }

  tftest::scratch dir_{GetParam().root.path};
};

// --- basic I/O -----------------------------------------------------------------------------------

TEST_P(File, WriteReadSeekTellSize) {
  auto f = make();
  EXPECT_FALSE(f->closed());
  EXPECT_EQ(f->tell(), 0);
  EXPECT_EQ(f->size(), 0);
  EXPECT_EQ(f->write("hello, "), 7u);
  const std::string w = "world";
  EXPECT_EQ(f->write(std::as_bytes(std::span(w.data(), w.size()))), 5u);
  EXPECT_EQ(f->tell(), 12);
  EXPECT_EQ(f->size(), 12);  // includes bytes still in the buffer
  EXPECT_EQ(f->read(), "");  // at the end
  EXPECT_EQ(f->seek(0), 0);
  EXPECT_EQ(f->read(), "hello, world");
  EXPECT_EQ(f->tell(), 12);
  EXPECT_EQ(f->seek(7), 7);
  EXPECT_EQ(f->read(3), "wor");
  EXPECT_EQ(f->tell(), 10);
  EXPECT_EQ(f->write("LD"), 2u);
  EXPECT_EQ(f->seek(0), 0);
  EXPECT_EQ(f->read(), "hello, worLD");
  EXPECT_EQ(f->size(), 12);
}

TEST_P(File, EmptyWritesAndReads) {
  auto f = make();
  EXPECT_EQ(f->write(""), 0u);
  EXPECT_EQ(f->write(std::span<const std::byte>{}), 0u);
  EXPECT_EQ(f->read(0), "");
  EXPECT_EQ(f->readinto(std::span<std::byte>{}), 0u);
  EXPECT_EQ(f->size(), 0);
  EXPECT_EQ(f->tell(), 0);
}

TEST_P(File, BinaryDataRoundTrips) {
  auto f = make();
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  f->write(all);
  f->seek(0);
  EXPECT_EQ(f->read(), all);
}

TEST_P(File, ReadIsShortAtEndOfFile) {
  auto f = make();
  f->write("abc");
  f->seek(1);
  EXPECT_EQ(f->read(100), "bc");
  EXPECT_EQ(f->tell(), 3);
  EXPECT_EQ(f->read(100), "");
  EXPECT_EQ(f->read(), "");
}

TEST_P(File, ReadOfAHugeCountReturnsWhatThereIs) {
  // "Up to n bytes": n is a limit, not an allocation size.
  auto f = make();
  f->write("abc");
  f->seek(0);
  EXPECT_EQ(f->read(std::size_t{1} << 40), "abc");
  const std::string data = pattern(3 * kBuffer);
  f->seek(0);
  f->write(data);
  f->seek(0);
  EXPECT_EQ(f->read(100000), data.substr(0, 100000));  // exactly n when there is more
  EXPECT_EQ(f->tell(), 100000);
  EXPECT_EQ(f->read(std::numeric_limits<std::size_t>::max() - 1), data.substr(100000));
}

TEST_P(File, ReadintoReturnsZeroAtEndOfFile) {
  auto f = make();
  f->write("abcdef");
  f->seek(2);
  std::vector<std::byte> buf(3);
  EXPECT_EQ(f->readinto(buf), 3u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), 3), "cde");
  std::vector<std::byte> big(100);
  EXPECT_EQ(f->readinto(big), 1u);
  EXPECT_EQ(static_cast<char>(big[0]), 'f');
  EXPECT_EQ(f->readinto(big), 0u);
  EXPECT_EQ(f->readinto(big), 0u);
  f->seek(1000);
  EXPECT_EQ(f->readinto(big), 0u);
}

TEST_P(File, SeekWhence) {
  auto f = make();
  f->write("0123456789");
  EXPECT_EQ(f->seek(0, whence::end), 10);
  EXPECT_EQ(f->seek(-3, whence::end), 7);
  EXPECT_EQ(f->read(1), "7");
  EXPECT_EQ(f->seek(-5, whence::cur), 3);
  EXPECT_EQ(f->read(1), "3");
  EXPECT_EQ(f->seek(2, whence::cur), 6);
  EXPECT_EQ(f->read(1), "6");
  EXPECT_EQ(f->seek(0, whence::cur), 7);
  EXPECT_EQ(f->seek(4, whence::set), 4);
  EXPECT_EQ(f->tell(), 4);
  // whence::end counts bytes that are only buffered so far.
  f->seek(0, whence::end);
  f->write("ab");
  EXPECT_EQ(f->seek(0, whence::end), 12);
  EXPECT_EQ(f->seek(-1, whence::end), 11);
  EXPECT_EQ(f->read(), "b");
}

TEST_P(File, NegativeSeekThrowsEinvalAndKeepsThePosition) {
  auto f = make();
  f->write("abcdef");
  f->seek(3);
  expect_fs_error([&] { f->seek(-1); }, EINVAL, "");
  expect_fs_error([&] { f->seek(-4, whence::cur); }, EINVAL, "");
  expect_fs_error([&] { f->seek(-7, whence::end); }, EINVAL, "");
  EXPECT_EQ(f->tell(), 3);
  EXPECT_EQ(f->read(), "def");
  EXPECT_EQ(f->seek(-6, whence::end), 0);  // exactly the start is fine
}

TEST_P(File, SeekOverflowIsRejected) {
  // position + offset does not fit in int64_t: an error, never signed overflow (UB).
  auto f = make();
  f->write("abcde");
  EXPECT_THROW(f->seek(std::numeric_limits<std::int64_t>::max(), whence::cur),
               fs::filesystem_error);
  EXPECT_THROW(f->seek(std::numeric_limits<std::int64_t>::max(), whence::end),
               fs::filesystem_error);
  EXPECT_EQ(f->tell(), 5);
  f->seek(0);
  EXPECT_EQ(f->read(), "abcde");
}

TEST_P(File, SeekPastTheEndThenWriteLeavesAZeroFilledGap) {
  auto f = make();
  f->write("ab");
  EXPECT_EQ(f->seek(10), 10);
  EXPECT_EQ(f->size(), 2);  // seeking alone does not grow the file
  EXPECT_EQ(f->read(), "");
  f->write("c");
  EXPECT_EQ(f->size(), 11);
  f->seek(0);
  EXPECT_EQ(f->read(), std::string("ab") + std::string(8, '\0') + "c");
  // The same with a gap larger than the buffer.
  f->seek(3 * static_cast<std::int64_t>(kBuffer));
  f->write("z");
  EXPECT_EQ(f->size(), 3 * static_cast<std::int64_t>(kBuffer) + 1);
  f->seek(11);
  const std::string gap = f->read(3 * kBuffer - 11);
  EXPECT_EQ(gap, std::string(3 * kBuffer - 11, '\0'));
  EXPECT_EQ(f->read(), "z");
}

TEST_P(File, TruncateKeepsThePosition) {
  auto f = make();
  f->write("hello world");
  f->truncate(5);
  EXPECT_EQ(f->tell(), 11);
  EXPECT_EQ(f->size(), 5);
  f->write("!");
  f->seek(0);
  EXPECT_EQ(f->read(), std::string("hello") + std::string(6, '\0') + "!");
  f->seek(2);
  f->truncate(20);  // extends with zeros
  EXPECT_EQ(f->tell(), 2);
  EXPECT_EQ(f->size(), 20);
  EXPECT_EQ(f->read(), std::string("llo") + std::string(6, '\0') + "!" + std::string(8, '\0'));
  f->seek(1);
  (void)f->read(2);  // reading state: the position is inside the buffer
  f->truncate(0);
  EXPECT_EQ(f->tell(), 3);
  EXPECT_EQ(f->size(), 0);
  EXPECT_EQ(f->read(), "");
  expect_fs_error([&] { f->truncate(-1); }, EINVAL, "");
}

TEST_P(File, TruncateWhileWritingDropsNothingBeforeTheCut) {
  auto f = make();
  f->write("0123456789");  // buffered
  f->truncate(4);
  f->seek(0);
  EXPECT_EQ(f->read(), "0123");
}

TEST_P(File, FlushHandsBytesToTheOs) {
  auto f = make();
  const int fd = f->native_handle();
  f->write("data");
  f->flush();
  EXPECT_EQ(pread_all(fd), "data");
  f->write(" more");
  f->sync();
  EXPECT_EQ(pread_all(fd), "data more");
  if (auto* n = dynamic_cast<tempfile::named_temporary_file*>(f.get())) {
    EXPECT_EQ(tftest::slurp(n->path()), "data more");
  }
}

TEST_P(File, SyncCallsFsync) {
  auto f = make();
  f->write("x");
  fault::reset();
  f->sync();
  EXPECT_EQ(fault::calls(call::fsync), 1u);
}

// --- large and boundary-crossing I/O -------------------------------------------------------------

TEST_P(File, WritesAndReadsLargerThanTheBuffer) {
  auto f = make();
  const std::string big = pattern(3 * kBuffer + 123);
  EXPECT_EQ(f->write(big), big.size());
  EXPECT_EQ(f->size(), static_cast<std::int64_t>(big.size()));
  f->seek(0);
  EXPECT_EQ(f->read(), big);
  f->seek(0);
  EXPECT_EQ(f->read(big.size()), big);
  f->seek(0);
  std::vector<std::byte> buf(big.size() + 10);
  EXPECT_EQ(f->readinto(buf), big.size());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), big.size()), big);
}

TEST_P(File, SmallWritesAcrossTheBufferBoundary) {
  auto f = make();
  std::string expected;
  // Odd-sized pieces that straddle several 64 KiB boundaries.
  for (unsigned i = 0; expected.size() < 3 * kBuffer; ++i) {
    const std::string piece = pattern(1000 + i % 7, i);
    f->write(piece);
    expected += piece;
  }
  // A piece that ends exactly on a boundary, then one byte.
  const std::string to_boundary = pattern(4 * kBuffer - expected.size(), 99);
  f->write(to_boundary);
  expected += to_boundary;
  f->write("!");
  expected += "!";
  EXPECT_EQ(f->size(), static_cast<std::int64_t>(expected.size()));
  f->seek(0);
  EXPECT_EQ(f->read(), expected);
}

TEST_P(File, SmallReadsAcrossTheBufferBoundary) {
  auto f = make();
  const std::string data = pattern(2 * kBuffer + 77);
  f->write(data);
  f->seek(static_cast<std::int64_t>(kBuffer) - 5);
  EXPECT_EQ(f->read(10), data.substr(kBuffer - 5, 10));
  // Byte-sized reads right through a boundary.
  f->seek(static_cast<std::int64_t>(2 * kBuffer) - 3);
  std::string got;
  for (int i = 0; i < 6; ++i) got += f->read(1);
  EXPECT_EQ(got, data.substr(2 * kBuffer - 3, 6));
  // Chunked readinto over the whole file.
  f->seek(0);
  std::string all;
  std::vector<std::byte> chunk(1000);
  for (std::size_t n; (n = f->readinto(chunk)) > 0;) {
    all.append(reinterpret_cast<const char*>(chunk.data()), n);
  }
  EXPECT_EQ(all, data);
}

TEST_P(File, LargeReadAfterABufferedSmallRead) {
  auto f = make();
  const std::string data = pattern(3 * kBuffer);
  f->write(data);
  f->seek(0);
  EXPECT_EQ(f->read(10), data.substr(0, 10));
  EXPECT_EQ(f->read(2 * kBuffer), data.substr(10, 2 * kBuffer));
  EXPECT_EQ(f->tell(), static_cast<std::int64_t>(2 * kBuffer + 10));
  EXPECT_EQ(f->read(), data.substr(2 * kBuffer + 10));
}

TEST_P(File, LargeWriteAfterBufferedSmallWrites) {
  auto f = make();
  f->write("head");
  const std::string big = pattern(kBuffer * 2, 5);
  f->write(big);
  f->write("tail");
  f->seek(0);
  EXPECT_EQ(f->read(), "head" + big + "tail");
}

TEST_P(File, WriteInTheMiddleOfWhatWasRead) {
  auto f = make();
  f->write("abcdefghij");
  f->seek(0);
  EXPECT_EQ(f->read(3), "abc");  // the rest sits in the read buffer
  f->write("XY");
  EXPECT_EQ(f->tell(), 5);
  EXPECT_EQ(f->read(2), "fg");
  f->seek(0);
  EXPECT_EQ(f->read(), "abcXYfghij");
}

TEST_P(File, OverwriteLargeRegionThenReadBack) {
  auto f = make();
  const std::string a = pattern(3 * kBuffer, 1);
  const std::string b = pattern(kBuffer + 17, 2);
  f->write(a);
  f->seek(0);
  (void)f->read(100);
  f->seek(static_cast<std::int64_t>(kBuffer) - 9);
  f->write(b);
  std::string expected = a;
  expected.replace(kBuffer - 9, b.size(), b);
  f->seek(0);
  EXPECT_EQ(f->read(), expected);
}

// --- stream() ------------------------------------------------------------------------------------

TEST_P(File, StreamAndMembersShareOneBufferAndPosition) {
  auto f = make();
  f->stream() << 42 << ' ' << "x";
  f->write("yz");
  EXPECT_EQ(f->tell(), 6);
  f->seek(0);
  EXPECT_EQ(f->read(), "42 xyz");

  f->seek(0);
  int n = 0;
  f->stream() >> n;
  EXPECT_EQ(n, 42);
  EXPECT_EQ(f->tell(), 2);
  EXPECT_EQ(f->read(2), " x");
  EXPECT_EQ(f->stream().get(), 'y');
  EXPECT_EQ(f->tell(), 5);
  f->stream() << "Z!";
  EXPECT_EQ(f->size(), 7);
  f->seek(0);
  EXPECT_EQ(f->read(), "42 xyZ!");

  f->stream().seekp(1);
  EXPECT_EQ(f->tell(), 1);
  f->stream() << std::flush;
  f->seek(4);
  EXPECT_EQ(static_cast<std::int64_t>(f->stream().tellg()), 4);
  EXPECT_EQ(&f->stream(), &f->stream());
}

TEST_P(File, StreamLargeOutputAndLines) {
  auto f = make();
  std::string expected;
  for (int i = 0; i < 20000; ++i) {
    f->stream() << "line " << i << '\n';
    expected += "line " + std::to_string(i) + "\n";
  }
  ASSERT_GT(expected.size(), kBuffer);
  EXPECT_EQ(f->size(), static_cast<std::int64_t>(expected.size()));
  f->seek(0);
  EXPECT_EQ(f->read(), expected);
  f->seek(0);
  std::string line;
  int count = 0;
  while (std::getline(f->stream(), line)) {
    ASSERT_EQ(line, "line " + std::to_string(count));
    ++count;
  }
  EXPECT_EQ(count, 20000);
}

TEST_P(File, StreamErrorsSurfaceAsTheSameExceptions) {
  auto f = make();
  fault::fail(call::write, 1, ENOSPC);
  EXPECT_THROW(f->stream() << std::string(2 * kBuffer, 'x'), fs::filesystem_error);
}

// --- native_handle() -----------------------------------------------------------------------------

TEST_P(File, NativeHandleFlushesAndSetsTheOffset) {
  auto f = make();
  f->write("hello");
  f->seek(2);
  const int fd = f->native_handle();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(::lseek(fd, 0, SEEK_CUR), 2);
  EXPECT_EQ(pread_all(fd), "hello");
  const int fd_flags = ::fcntl(fd, F_GETFD);
  EXPECT_TRUE(fd_flags != -1 && (fd_flags & FD_CLOEXEC));

  // A raw write through the descriptor moves its offset; the file picks it up.
  ASSERT_EQ(::write(fd, "XY", 2), 2);
  EXPECT_EQ(f->tell(), 4);
  f->write("Z");
  f->seek(0);
  EXPECT_EQ(f->read(), "heXYZ");

  // Reading state: the offset is where the reader stands, not where the buffer ends.
  f->seek(1);
  EXPECT_EQ(f->read(1), "e");
  EXPECT_EQ(f->native_handle(), fd);
  EXPECT_EQ(::lseek(fd, 0, SEEK_CUR), 2);
  char c = 0;
  ASSERT_EQ(::read(fd, &c, 1), 1);
  EXPECT_EQ(c, 'X');
  EXPECT_EQ(f->read(1), "Y");

  // A raw lseek is picked up too.
  (void)f->native_handle();
  ASSERT_EQ(::lseek(fd, 0, SEEK_END), 5);
  f->write("!");
  f->seek(0);
  EXPECT_EQ(f->read(), "heXYZ!");
}

TEST_P(File, RawWriteThenMemberIoStaysConsistent) {
  auto f = make();
  f->write(pattern(100));
  const int fd = f->native_handle();
  const std::string raw(3 * kBuffer, 'r');
  ASSERT_EQ(::write(fd, raw.data(), raw.size()), static_cast<ssize_t>(raw.size()));
  EXPECT_EQ(f->size(), static_cast<std::int64_t>(100 + raw.size()));
  EXPECT_EQ(f->tell(), static_cast<std::int64_t>(100 + raw.size()));
  f->write("end");
  f->seek(0);
  EXPECT_EQ(f->read(), pattern(100) + raw + "end");
}

// --- closed files --------------------------------------------------------------------------------

TEST_P(File, EveryMemberOnAClosedFileThrowsLogicError) {
  auto f = make();
  f->write("x");
  f->close();
  EXPECT_TRUE(f->closed());
  std::vector<std::byte> buf(4);
  EXPECT_THROW(f->write("x"), std::logic_error);
  EXPECT_THROW(f->write(std::span<const std::byte>(buf)), std::logic_error);
  EXPECT_THROW((void)f->read(), std::logic_error);
  EXPECT_THROW((void)f->read(1), std::logic_error);
  EXPECT_THROW(f->readinto(buf), std::logic_error);
  EXPECT_THROW(f->seek(0), std::logic_error);
  EXPECT_THROW((void)f->tell(), std::logic_error);
  EXPECT_THROW((void)f->size(), std::logic_error);
  EXPECT_THROW(f->truncate(0), std::logic_error);
  EXPECT_THROW(f->flush(), std::logic_error);
  EXPECT_THROW(f->sync(), std::logic_error);
  EXPECT_THROW((void)f->stream(), std::logic_error);
  EXPECT_THROW((void)f->native_handle(), std::logic_error);
  // A logic_error, not an OS error dressed up as one.
  try {
    f->write("x");
  } catch (const std::system_error&) {
    ADD_FAILURE() << "system_error thrown for a closed file";
  } catch (const std::logic_error&) {
  }
}

TEST_P(File, CloseIsIdempotentAndReleasesTheDescriptor) {
  const std::size_t fds = tftest::open_fd_count();
  auto f = make();
  EXPECT_EQ(tftest::open_fd_count(), fds + 1);
  f->write("x");
  f->close();
  EXPECT_EQ(tftest::open_fd_count(), fds);
  EXPECT_NO_THROW(f->close());
  EXPECT_NO_THROW(f->close());
  EXPECT_TRUE(f->closed());
  f.reset();
  EXPECT_EQ(tftest::open_fd_count(), fds);
}

TEST_P(File, DestructionReleasesTheDescriptor) {
  const std::size_t fds = tftest::open_fd_count();
  for (int i = 0; i < 50; ++i) {
    auto f = make();
    f->write("abc");
  }
  EXPECT_EQ(tftest::open_fd_count(), fds);
  EXPECT_TRUE(dir_.entries().empty());
}

TEST_P(File, StreamKeptPastCloseRefusesLikeTheMembers) {
  auto f = make();
  std::iostream& s = f->stream();
  s << "abc";
  f->close();
  EXPECT_THROW((void)f->stream(), std::logic_error);
  EXPECT_THROW(s << "more" << std::flush, std::logic_error);
  s.clear();
  char c = 0;
  EXPECT_THROW(s >> c, std::logic_error);
  s.clear();
  EXPECT_THROW((void)s.tellg(), std::logic_error);
  s.clear();
  EXPECT_THROW(s.seekg(0, std::ios_base::end), std::logic_error);  // not EBADF from fstat(-1)
  s.clear();
  EXPECT_THROW(s.seekg(0), std::logic_error);  // not a silent success
  s.clear();
  EXPECT_THROW(s.seekp(3), std::logic_error);
}

// --- moves ---------------------------------------------------------------------------------------

TEST_P(File, MoveConstructionLeavesTheSourceClosed) {
  auto f = make();
  f->write("moved");
  tempfile::file g(std::move(*f));
  EXPECT_TRUE(f->closed());
  EXPECT_THROW(f->write("x"), std::logic_error);
  EXPECT_NO_THROW(f->close());
  EXPECT_FALSE(g.closed());
  EXPECT_EQ(g.tell(), 5);
  g.seek(0);
  EXPECT_EQ(g.read(), "moved");
}

TEST_P(File, MoveAssignmentClosesTheTargetsFile) {
  auto a = make();
  auto b = make();
  a->write("a");
  b->write("b");
  const std::size_t fds = tftest::open_fd_count();
  *a = std::move(*b);
  EXPECT_EQ(tftest::open_fd_count(), fds - 1);
  EXPECT_TRUE(b->closed());
  EXPECT_FALSE(a->closed());
  a->seek(0);
  EXPECT_EQ(a->read(), "b");
}

TEST(FileBase, DefaultConstructedIsClosed) {
  tempfile::file f;
  EXPECT_TRUE(f.closed());
  EXPECT_THROW(f.write("x"), std::logic_error);
  EXPECT_THROW((void)f.read(), std::logic_error);
  EXPECT_THROW((void)f.native_handle(), std::logic_error);
  EXPECT_NO_THROW(f.close());
  tempfile::file g(std::move(f));
  EXPECT_TRUE(g.closed());
  EXPECT_EQ(tempfile::file::npos, static_cast<std::size_t>(-1));
}

// --- the fault seam on I/O -----------------------------------------------------------------------

TEST_P(File, WriteFailureThrowsNamingTheFile) {
  for (int err : {ENOSPC, EIO}) {
    SCOPED_TRACE(err);
    auto f = make();
    const std::string prefix = named() ? "cannot write to " : "cannot write to temporary file in ";
    // Large writes go straight to the OS.
    fault::fail(call::write, 1, err);
    expect_fs_error([&] { f->write(pattern(2 * kBuffer)); }, err, prefix + where(*f));
    // Small writes fail when the buffer is handed over.
    f->write("small");
    fault::fail(call::write, 1, err);
    expect_fs_error([&] { f->flush(); }, err, prefix + where(*f));
    // The bytes stayed pending: a later flush delivers them.
    f->flush();
    EXPECT_EQ(f->size(), 5);
    f->seek(0);
    EXPECT_EQ(f->read(), "small");
    fault::reset();
  }
}

TEST_P(File, ReadFailureThrowsNamingTheFile) {
  auto f = make();
  f->write("abc");
  f->seek(0);
  fault::fail(call::read, 1, EIO);
  const std::string prefix = named() ? "cannot read from " : "cannot read from temporary file in ";
  expect_fs_error([&] { (void)f->read(); }, EIO, prefix + where(*f));
  EXPECT_EQ(f->read(), "abc");
}

TEST_P(File, InjectedEintrIsRetriedInvisibly) {
  fault::fail(call::open, 1, EINTR, 2);
  auto f = make();
  EXPECT_EQ(fault::calls(call::open), 3u);
  fault::fail(call::write, 1, EINTR, 3);
  const std::string big = pattern(2 * kBuffer);
  EXPECT_EQ(f->write(big), big.size());
  f->write("tail");
  f->flush();
  EXPECT_GE(fault::calls(call::write), 5u);
  fault::fail(call::read, 1, EINTR, 3);
  f->seek(0);
  EXPECT_EQ(f->read(), big + "tail");
  EXPECT_GE(fault::calls(call::read), 4u);
  fault::fail(call::fsync, 1, EINTR, 2);
  EXPECT_NO_THROW(f->sync());
  fault::fail(call::ftruncate, 1, EINTR, 1);
  EXPECT_NO_THROW(f->truncate(3));
  EXPECT_EQ(f->size(), 3);
}

TEST_P(File, FailingFsyncThrowsFromSync) {
  auto f = make();
  f->write("data");
  fault::fail(call::fsync, 1, EIO);
  expect_fs_error([&] { f->sync(); }, EIO, where(*f));
  EXPECT_NO_THROW(f->sync());
}

TEST_P(File, FailingTruncateThrows) {
  auto f = make();
  f->write("data");
  fault::fail(call::ftruncate, 1, EIO);
  expect_fs_error([&] { f->truncate(1); }, EIO, where(*f));
  EXPECT_EQ(f->size(), 4);
}

TEST_P(File, CloseReportsAFlushFailureButStillReleasesTheDescriptor) {
  const std::size_t fds = tftest::open_fd_count();
  auto f = make();
  f->write("pending");
  fault::fail(call::write, 1, EIO);
  expect_fs_error([&] { f->close(); }, EIO, where(*f));
  EXPECT_TRUE(f->closed());
  EXPECT_EQ(tftest::open_fd_count(), fds);
  EXPECT_NO_THROW(f->close());
  f.reset();
  EXPECT_TRUE(dir_.entries().empty());
}

TEST_P(File, DestructorSwallowsErrors) {
  const std::size_t fds = tftest::open_fd_count();
  {
    auto f = make();
    f->write("pending");
    fault::fail(call::write, 1, EIO);
    fault::fail(call::close, 1, EIO);
  }
  EXPECT_EQ(tftest::open_fd_count(), fds);
  EXPECT_TRUE(dir_.entries().empty());
}

INSTANTIATE_TEST_SUITE_P(Kinds, File, ::testing::ValuesIn(params()), param_name);

// --- a thread's spare state ----------------------------------------------------------------------
// Each thread keeps the state of the last file it disposed of for the next file it makes (see
// new_state() in file.cpp). Whatever the file before was and did, the next one starts as new.

struct used_kind {
  std::string name;
  std::function<std::unique_ptr<tempfile::file>(const fs::path& dir)> make;
};

std::vector<used_kind> every_kind() {
  return {
      {"named",
       [](const fs::path& d) {
         return std::make_unique<tempfile::named_temporary_file>(tempfile::options{.dir = d});
       }},
      {"named kept, no delete on close",
       [](const fs::path& d) {
         return std::make_unique<tempfile::named_temporary_file>(
             tempfile::options{.dir = d, .keep = true, .delete_on_close = false});
       }},
      {"unnamed",
       [](const fs::path& d) {
         return std::make_unique<tempfile::temporary_file>(tempfile::options{.dir = d});
       }},
      {"spooled",
       [](const fs::path& d) {
         return std::make_unique<tempfile::spooled_temporary_file>(
             tempfile::options{.dir = d, .max_size = 64});
       }},
      {"atomic",
       [](const fs::path& d) { return std::make_unique<tempfile::atomic_file>(d / "target"); }},
  };
}

// Leaves `f` in some used state: content, a position, a rollover, a stream, closed or not.
void use(tempfile::file& f, unsigned how) {
  f.write(pattern(100 + how, how));
  f.seek(7);
  if (how % 2 == 1) f.stream() << "streamed " << how;
  if (how % 3 == 2) f.close();
}

TEST(FileStateReuse, EveryFileStartsAsNewWhateverTheOneBeforeWasAndDid) {
  tftest::scratch dir(tftest::roots().front().path);
  const std::vector<used_kind> kinds = every_kind();
  unsigned how = 0;
  for (const used_kind& before : kinds) {
    for (const used_kind& next : kinds) {
      for (unsigned round = 0; round < 3; ++round, ++how) {
        SCOPED_TRACE(before.name + ", then " + next.name + ", use " + std::to_string(how));
        fs::path before_path;
        {
          std::unique_ptr<tempfile::file> f = before.make(dir.path());
          if (auto* n = dynamic_cast<tempfile::named_temporary_file*>(f.get())) {
            before_path = n->path();
          }
          use(*f, how);
        }
        std::unique_ptr<tempfile::file> f = next.make(dir.path());
        EXPECT_FALSE(f->closed());
        EXPECT_EQ(f->tell(), 0);
        EXPECT_EQ(f->size(), 0);
        EXPECT_EQ(f->read(), "");
        if (auto* s = dynamic_cast<tempfile::spooled_temporary_file*>(f.get())) {
          EXPECT_FALSE(s->rolled_over());
        }
        if (auto* n = dynamic_cast<tempfile::named_temporary_file*>(f.get())) {
          EXPECT_NE(n->path(), before_path);
          EXPECT_TRUE(fs::exists(n->path()));
        }
        f->write("fresh");
        f->seek(0);
        EXPECT_EQ(f->read(), "fresh");
        f->stream() << " and streamed";
        f->flush();
        f->seek(0);
        EXPECT_EQ(f->read(), "fresh and streamed");
        if (auto* a = dynamic_cast<tempfile::atomic_file*>(f.get())) {
          a->commit();
          EXPECT_EQ(tftest::slurp(dir.path() / "target"), "fresh and streamed");
        }
        if (!before_path.empty() && fs::exists(before_path)) fs::remove(before_path);  // kept
        if (auto* n = dynamic_cast<tempfile::named_temporary_file*>(f.get())) {
          const fs::path path = n->path();
          f->close();  // a plain named file is deleted now, a kept one stays
          EXPECT_EQ(fs::exists(path), next.name.find("kept") != std::string::npos);
          f.reset();
          if (next.name.find("kept") != std::string::npos) {
            EXPECT_TRUE(fs::remove(path));
          }
        }
      }
    }
  }
  // Nothing is left but what was kept (and removed above) and the atomic target.
  std::vector<std::string> left = dir.entries();
  std::erase(left, "target");
  EXPECT_TRUE(left.empty()) << left.size() << " entries left, e.g. " << left.front();
}

// A file may be disposed of on another thread than the one that made it, and threads end with a
// state kept: nothing is lost (the sanitizer builds' leak check runs this too), nothing is left.
TEST(FileStateReuse, FilesDisposedOfOnOtherThreadsAndThreadsThatEnd) {
  tftest::scratch dir(tftest::roots().front().path);
  std::vector<std::unique_ptr<tempfile::file>> made;
  std::thread maker([&] {
    for (const used_kind& k : every_kind()) made.push_back(k.make(dir.path()));
    made.back()->write("disposed of elsewhere");
  });
  maker.join();
  std::thread disposer([&] {
    made.front().reset();  // kept by this thread, which then ends
  });
  disposer.join();
  for (auto& f : made) {
    if (f) f->write("still works");
  }
  made.clear();
  std::vector<std::string> left = dir.entries();
  std::erase(left, "target");  // the atomic file never committed: no target, but it may exist
  for (const std::string& name : left) fs::remove(dir.path() / name);  // the one kept
  EXPECT_LE(left.size(), 1u);
}

}  // namespace
