// The benchmarks of tempfile: every workload beside the raw system calls that do the same work,
// in the same binary, so that bench/compare can report the ratio of the two from one run.
//
// Everything runs in a fresh directory (tfbench.XXXXXX: a short name, as temporary directories
// usually have) made inside $TEMPFILE_BENCH_DIR (default: gettempdir())
// and removed at the end. Each benchmark is a group of members run interleaved (see run_group):
// counters give each member's seconds per operation, and `ratio` is tempfile / raw.
//
//   named      create a named file, write 16 B, close, delete
//   unnamed    create an unnamed (O_TMPFILE) file, write 4 KiB, close
//   directory  create an empty directory and remove it
//   control    unnamed's raw code against itself: how far a ratio strays with nothing to find
//   spooled    1,000,000 writes of 32 B in memory, then read everything back
//   atomic     replace an existing 4 KiB file: write, fsync, rename, fsync the directory
//   tree       remove a tree of 10,030 files in 104 directories; also std::filesystem::remove_all
//              and `rm -rf` (each tree built outside the timed region)
//   flat/N     remove one directory of N files (the cost per entry against N)
//   deep       remove a chain of 100,000 nested directories (tmpfs only)
//
// Members are `tempfile` (the library) and `raw` (the system calls alone), plus `remove_all` and
// `rm_rf` for trees, and for atomic `raw_keep` (raw, also keeping the target's mode and owner) and
// `raw_tmpfile` (tempfile's own sequence of system calls, by hand).
// `tempfile_bench --ops=<group>/<member>:<n>:<k>` skips Google Benchmark: it prepares the case k
// times (trees: builds k trees) and runs the operation n <= k times; the rest stay as prepared.
// Under `strace -c -f`, a run with n = 0 subtracted from one with n > 0 leaves the system calls of
// n operations. Its work directory is left for the caller to remove. With
// --measure it also reports the peak resident memory and the most descriptors open while the
// operations ran.
#include <benchmark/benchmark.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tempfile/tempfile.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "tempfile_bench: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(2);
}

// --- the work directory ---------------------------------------------------------------------

bool g_keep_work_dir = false;

const fs::path& work_dir() {
  static const fs::path dir = [] {
    const char* env = std::getenv("TEMPFILE_BENCH_DIR");
    const fs::path base = env != nullptr && *env != '\0' ? fs::path(env) : tempfile::gettempdir();
    std::string tmpl = (fs::absolute(base) / "tfbench.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) die("mkdtemp in " + base.string());
    return fs::path(tmpl);
  }();
  return dir;
}

bool on_tmpfs() {
  struct statfs st {};
  return ::statfs(work_dir().c_str(), &st) == 0 && st.f_type == TMPFS_MAGIC;
}

// Names for the raw baselines: a counter written in 8 base-36 digits, so that a raw name is as
// long as the library's (prefix + 8 random characters + suffix). Every baseline has a prefix of
// its own: a name that was used in the directory before is cheaper to create again (the kernel
// still has it as a negative dentry, and need not search the directory on disk), and with one
// shared prefix the directory baseline reused the names the named baseline had just deleted,
// which put directory on ext4 at 1.17 in the whole suite against 1.02 run alone. For the same
// reason the counter is the process's, not the object's: Google Benchmark calls a benchmark
// several times (growing the iterations until --benchmark_min_time), each call makes its workloads
// afresh, and a counter starting again at 0 gave the baselines the names of the calls before
// (every early name was created three times), cheaper than the fresh random names of the library.
class name_source {
 public:
  name_source(const fs::path& dir, std::string_view prefix, std::string_view suffix = {})
      : text_((dir / prefix).string()), stem_(text_.size()) {
    text_.append(8, '0');
    text_ += suffix;
  }
  const char* next() {
    std::uint64_t v = next_number_++;
    for (std::size_t i = 8; i-- > 0; v /= 36)
      text_[stem_ + i] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
    return text_.c_str();
  }

 private:
  std::string text_;
  std::size_t stem_;
  static inline std::uint64_t next_number_ = 0;  // never a name twice in a process
};

void write_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) die("write");
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

const std::string& bytes(std::size_t n) {
  static std::map<std::size_t, std::string> cache;
  auto [it, fresh] = cache.try_emplace(n);
  if (fresh) {
    it->second.resize(n);
    for (std::size_t i = 0; i < n; ++i) it->second[i] = static_cast<char>('a' + i % 26);
  }
  return it->second;
}

// --- workloads --------------------------------------------------------------------------------

// One benchmark case. prepare() (untimed) sets up one operation; run() is the timed operation;
// abandon() drops a prepared operation without running it (--ops mode, for n = 0).
class workload {
 public:
  virtual ~workload() = default;
  [[nodiscard]] virtual bool needs_prepare() const { return false; }
  virtual void prepare() {}
  virtual void run() = 0;
  virtual void abandon() {}
};

class named_tempfile final : public workload {
 public:
  void run() override {
    tempfile::named_temporary_file f(opts_);
    f.write(data_);
    f.close();
  }

 private:
  tempfile::options opts_{.dir = work_dir()};
  std::string_view data_ = bytes(16);
};

class named_raw final : public workload {
 public:
  void run() override {
    const char* path = names_.next();
    const int fd = ::open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) die("open");
    write_all(fd, data_.data(), data_.size());
    ::close(fd);
    if (::unlink(path) != 0) die("unlink");
  }

 private:
  name_source names_{work_dir(), "rwf"};
  std::string_view data_ = bytes(16);
};

class unnamed_tempfile final : public workload {
 public:
  void run() override {
    tempfile::temporary_file f(opts_);
    f.write(data_);
    f.close();
  }

 private:
  tempfile::options opts_{.dir = work_dir()};
  std::string_view data_ = bytes(4096);
};

class unnamed_raw final : public workload {
 public:
  void run() override {
    const int fd = ::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) die("open O_TMPFILE");
    write_all(fd, data_.data(), data_.size());
    ::close(fd);
  }

 private:
  std::string dir_ = work_dir().string();
  std::string_view data_ = bytes(4096);
};

class directory_tempfile final : public workload {
 public:
  void run() override { tempfile::temporary_directory d(opts_); }

 private:
  tempfile::options opts_{.dir = work_dir()};
};

class directory_raw final : public workload {
 public:
  void run() override {
    const char* path = names_.next();
    if (::mkdir(path, 0700) != 0) die("mkdir");
    if (::rmdir(path) != 0) die("rmdir");
  }

 private:
  name_source names_{work_dir(), "rwd"};
};

constexpr std::size_t kSpoolWrites = 1'000'000;
constexpr std::size_t kSpoolChunk = 32;
constexpr std::size_t kReadChunk = 64 * 1024;

class spooled_tempfile final : public workload {
 public:
  void run() override {
    tempfile::spooled_temporary_file s(opts_);
    for (std::size_t i = 0; i < kSpoolWrites; ++i) s.write(data_);
    s.seek(0);
    std::size_t total = 0;
    while (const std::size_t n = s.readinto(buffer_)) {
      benchmark::DoNotOptimize(buffer_.data());
      total += n;
    }
    if (total != kSpoolWrites * kSpoolChunk || s.rolled_over()) die("spooled read back");
  }

 private:
  tempfile::options opts_{.dir = work_dir()};
  std::string_view data_ = bytes(kSpoolChunk);
  std::vector<std::byte> buffer_ = std::vector<std::byte>(kReadChunk);
};

// The same in a growable memory buffer: what a spooled file is before it rolls over.
class spooled_raw final : public workload {
 public:
  void run() override {
    std::string memory;
    for (std::size_t i = 0; i < kSpoolWrites; ++i) memory.append(data_);
    std::size_t total = 0;
    for (std::size_t at = 0; at < memory.size();) {
      const std::size_t n = std::min(kReadChunk, memory.size() - at);
      std::memcpy(buffer_.data(), memory.data() + at, n);
      benchmark::DoNotOptimize(buffer_.data());
      at += n;
      total += n;
    }
    if (total != kSpoolWrites * kSpoolChunk) die("spooled read back");
  }

 private:
  std::string_view data_ = bytes(kSpoolChunk);
  std::vector<std::byte> buffer_ = std::vector<std::byte>(kReadChunk);
};

void make_file(const fs::path& p, std::size_t size) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + p.string());
  write_all(fd, bytes(size).data(), size);
  ::close(fd);
}

// The end of a careful replacement by hand: the new file fsynced and closed, renamed over the
// target, then the directory fsynced (opened for that, and closed).
void commit_by_hand(int fd, const char* temp, const char* target, const char* dir_path) {
  if (::fsync(fd) != 0) die("fsync");
  ::close(fd);
  if (::rename(temp, target) != 0) die("rename");
  const int dir = ::open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) die("open directory");
  if (::fsync(dir) != 0) die("fsync directory");
  ::close(dir);
}

class atomic_tempfile final : public workload {
 public:
  atomic_tempfile() { make_file(target_, 4096); }
  void run() override {
    tempfile::atomic_file f(target_);
    f.write(data_);
    f.commit();
  }

 private:
  fs::path target_ = work_dir() / "target";
  std::string_view data_ = bytes(4096);
};

// What a careful program does by hand: a new file beside the target, written, then
// commit_by_hand().
class atomic_raw final : public workload {
 public:
  atomic_raw() { make_file(target_, 4096); }
  void run() override {
    const char* temp = names_.next();
    const int fd = ::open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) die("open");
    write_all(fd, data_.data(), data_.size());
    commit_by_hand(fd, temp, target_.c_str(), dir_.c_str());
  }

 private:
  fs::path target_ = work_dir() / "rawtarget";
  std::string dir_ = work_dir().string();
  name_source names_{work_dir(), ".rawtarget.", ".tmp"};
  std::string_view data_ = bytes(4096);
};

// The same, by a program that also keeps the target's mode and owner, as tempfile does (and Qt's
// QSaveFile, or an editor): the target looked at first, its owner and mode given to the new file
// before it is renamed over the target. The work tempfile's commit() actually has to do.
class atomic_raw_keep final : public workload {
 public:
  atomic_raw_keep() { make_file(target_, 4096); }
  void run() override {
    struct stat st {};
    if (::stat(target_.c_str(), &st) != 0) die("stat");
    const char* temp = names_.next();
    const int fd = ::open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) die("open");
    write_all(fd, data_.data(), data_.size());
    if (::fchown(fd, st.st_uid, st.st_gid) != 0) die("fchown");
    if (::fchmod(fd, st.st_mode & 07777) != 0) die("fchmod");
    commit_by_hand(fd, temp, target_.c_str(), dir_.c_str());
  }

 private:
  fs::path target_ = work_dir() / "keeptarget";
  std::string dir_ = work_dir().string();
  name_source names_{work_dir(), ".keeptarget.", ".tmp"};
  std::string_view data_ = bytes(4096);
};

// tempfile's own design done by hand: the same system calls as atomic_file (an unnamed O_TMPFILE
// file made with the target's mode, the target and the file looked at again before the commit,
// linkat to give it a name, renameat over the target, all relative to the directory). What is left
// between this and `tempfile` is the library's own cost; between this and `raw_keep`, the price
// of an unnamed temporary (the kernel's linkat), paid so that a crash leaves no file behind.
class atomic_raw_tmpfile final : public workload {
 public:
  atomic_raw_tmpfile() { make_file(target_, 4096); }
  void run() override {
    struct stat st {};
    if (::lstat(target_.c_str(), &st) != 0) die("lstat");
    const int fd = ::open(dir_.c_str(), O_RDWR | O_TMPFILE | O_CLOEXEC, st.st_mode & 0777);
    if (fd < 0) die("open O_TMPFILE");
    write_all(fd, data_.data(), data_.size());
    const int dir = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) die("open directory");
    struct stat now {};
    struct stat have {};
    if (::fstatat(dir, "tmptarget", &now, AT_SYMLINK_NOFOLLOW) != 0) die("fstatat");
    if (::fstat(fd, &have) != 0) die("fstat");
    if ((have.st_uid != now.st_uid || have.st_gid != now.st_gid) &&
        ::fchown(fd, now.st_uid, now.st_gid) != 0) {
      die("fchown");
    }
    if ((have.st_mode & 07777) != (now.st_mode & 07777) && ::fchmod(fd, now.st_mode & 07777) != 0) {
      die("fchmod");
    }
    if (::fsync(fd) != 0) die("fsync");
    const char* temp = names_.next();
    if (::linkat(fd, "", dir, temp, AT_EMPTY_PATH) != 0) {
      // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; everyone else goes through /proc.
      const std::string proc = "/proc/self/fd/" + std::to_string(fd);
      if (::linkat(AT_FDCWD, proc.c_str(), dir, temp, AT_SYMLINK_FOLLOW) != 0) die("linkat");
    }
    if (::renameat(dir, temp, dir, "tmptarget") != 0) die("renameat");
    if (::fsync(dir) != 0) die("fsync directory");
    ::close(dir);
    ::close(fd);
  }

 private:
  fs::path target_ = work_dir() / "tmptarget";
  std::string dir_ = work_dir().string();
  name_source names_{"", ".tmptarget.", ".tmp"};
  std::string_view data_ = bytes(4096);
};

// --- trees ------------------------------------------------------------------------------------

int open_dir_at(int dir, const char* name) {
  const int fd = ::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) die(std::string("open directory ") + name);
  return fd;
}

void make_files(int dir, std::size_t count) {
  char name[32];
  for (std::size_t i = 0; i < count; ++i) {
    std::snprintf(name, sizeof name, "file%07zu", i);
    const int fd = ::openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) die("create file");
    ::close(fd);
  }
}

int make_dir_at(int dir, const char* name) {
  if (::mkdirat(dir, name, 0700) != 0) die(std::string("mkdir ") + name);
  return open_dir_at(dir, name);
}

// What a tree looks like: 30 files and 4 directories at the top; in each of those 25
// directories of 100 files. 10,030 files in 104 directories.
struct tree_shape {
  std::size_t top_files = 30;
  std::size_t top_dirs = 4;
  std::size_t mid_dirs = 25;
  std::size_t leaf_files = 100;
};

void build_tree(const fs::path& root, const tree_shape& shape) {
  const int r = open_dir_at(AT_FDCWD, root.c_str());
  make_files(r, shape.top_files);
  char name[32];
  for (std::size_t i = 0; i < shape.top_dirs; ++i) {
    std::snprintf(name, sizeof name, "dir%zu", i);
    const int top = make_dir_at(r, name);
    for (std::size_t j = 0; j < shape.mid_dirs; ++j) {
      std::snprintf(name, sizeof name, "sub%02zu", j);
      const int leaf = make_dir_at(top, name);
      make_files(leaf, shape.leaf_files);
      ::close(leaf);
    }
    ::close(top);
  }
  ::close(r);
}

void build_flat(const fs::path& root, std::size_t files) {
  const int r = open_dir_at(AT_FDCWD, root.c_str());
  make_files(r, files);
  ::close(r);
}

void build_deep(const fs::path& root, std::size_t depth) {
  int fd = open_dir_at(AT_FDCWD, root.c_str());
  for (std::size_t i = 0; i < depth; ++i) {
    const int next = make_dir_at(fd, "d");
    ::close(fd);
    fd = next;
  }
  ::close(fd);
}

using tree_builder = std::function<void(const fs::path&)>;

// The single-threaded walk the library is compared with: getdents64 into a large buffer,
// unlinkat of each entry, recursion into directories (opened O_NOFOLLOW), then rmdir.
class raw_walker {
 public:
  void remove(const char* path) {
    const int fd = open_dir_at(AT_FDCWD, path);
    empty(fd, 0);
    ::close(fd);
    if (::rmdir(path) != 0) die("rmdir");
  }

 private:
  static constexpr std::size_t kBuffer = 128 * 1024;
  struct dirent64_head {
    std::uint64_t ino;
    std::int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[1];
  };

  void empty(int dir, std::size_t depth) {
    if (buffers_.size() <= depth) buffers_.push_back(std::make_unique<char[]>(kBuffer));
    char* buffer = buffers_[depth].get();
    for (;;) {
      const long n = ::syscall(SYS_getdents64, dir, buffer, kBuffer);
      if (n < 0) die("getdents64");
      if (n == 0) return;
      for (long at = 0; at < n;) {
        const auto* e = reinterpret_cast<const dirent64_head*>(buffer + at);
        at += e->reclen;
        const char* name = e->name;
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
        if (e->type == DT_DIR) {
          const int child = open_dir_at(dir, name);
          empty(child, depth + 1);
          ::close(child);
          if (::unlinkat(dir, name, AT_REMOVEDIR) != 0) die("rmdir");
        } else if (::unlinkat(dir, name, 0) != 0) {
          die("unlink");
        }
      }
    }
  }

  std::vector<std::unique_ptr<char[]>> buffers_;
};

void rm_rf(const char* path) {
  const char* argv[] = {"rm", "-rf", "--", path, nullptr};
  pid_t pid = 0;
  if (::posix_spawnp(&pid, "rm", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0)
    die("posix_spawnp rm");
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    die("rm -rf");
}

// Trees removed by temporary_directory::cleanup().
class tree_tempfile final : public workload {
 public:
  explicit tree_tempfile(tree_builder build) : build_(std::move(build)) {}
  [[nodiscard]] bool needs_prepare() const override { return true; }
  void prepare() override {
    auto d = std::make_unique<tempfile::temporary_directory>(opts_);
    build_(d->path());
    ready_.push_back(std::move(d));
  }
  void run() override {
    ready_.front()->cleanup();
    done_.push_back(std::move(ready_.front()));  // destroyed outside the timed region
    ready_.pop_front();
  }
  void abandon() override {
    (void)ready_.front()->keep();
    ready_.pop_front();
  }
  ~tree_tempfile() override {
    for (auto& d : ready_) (void)d->keep();  // --ops leaves what it did not run
  }

 private:
  tree_builder build_;
  tempfile::options opts_{.dir = work_dir()};
  std::deque<std::unique_ptr<tempfile::temporary_directory>> ready_;
  std::vector<std::unique_ptr<tempfile::temporary_directory>> done_;
};

// Trees removed by one of the other methods.
class tree_other final : public workload {
 public:
  enum class method { raw, remove_all, rm_rf };
  tree_other(tree_builder build, method m) : build_(std::move(build)), method_(m) {}
  [[nodiscard]] bool needs_prepare() const override { return true; }
  void prepare() override {
    std::string path = names_.next();
    if (::mkdir(path.c_str(), 0700) != 0) die("mkdir");
    build_(path);
    ready_.push_back(std::move(path));
  }
  void run() override {
    const std::string& path = ready_.front();
    switch (method_) {
      case method::raw: walker_.remove(path.c_str()); break;
      case method::remove_all: fs::remove_all(path); break;
      case method::rm_rf: rm_rf(path.c_str()); break;
    }
    ready_.pop_front();
  }
  void abandon() override { ready_.pop_front(); }

 private:
  tree_builder build_;
  method method_;
  name_source names_{work_dir(), "rwt"};
  raw_walker walker_;
  std::deque<std::string> ready_;
};

// --- the cases --------------------------------------------------------------------------------

// A workload and the others it is compared with, run interleaved: each round runs every member
// once (`chunk` operations, trees one), in an order rotated from round to round, and each member's
// time is reported as a counter (seconds per operation: the median over its turns).
struct member {
  std::string name;
  std::function<std::unique_ptr<workload>()> make;
};

struct group {
  std::string name;
  std::vector<member> members;
  int rounds = 0;  // fixed rounds (trees), or 0: as many as --benchmark_min_time allows
  std::size_t chunk = 1;
  bool tmpfs_only = false;  // too big to build on a disk in reasonable time
};

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atoi(v) : fallback;
}

template <class W, class... Args>
std::function<std::unique_ptr<workload>()> maker(Args... args) {
  return [=] { return std::unique_ptr<workload>(std::make_unique<W>(args...)); };
}

std::vector<group> all_groups() {
  std::vector<group> groups;
  // Operations per turn of the small workloads: enough that switching between the members (and
  // the caches each finds cold) costs little.
  const auto chunk = static_cast<std::size_t>(env_int("TEMPFILE_BENCH_CHUNK", 16));
  groups.push_back(
      {"named", {{"tempfile", maker<named_tempfile>()}, {"raw", maker<named_raw>()}}, 0, chunk});
  groups.push_back({"unnamed",
                    {{"tempfile", maker<unnamed_tempfile>()}, {"raw", maker<unnamed_raw>()}},
                    0,
                    chunk});
  groups.push_back({"directory",
                    {{"tempfile", maker<directory_tempfile>()}, {"raw", maker<directory_raw>()}},
                    0,
                    chunk});
  // The noise floor: the same raw code as two members, timed exactly like a workload and its
  // baseline. Its ratio says how far from 1.00 a run can stray with no difference at all.
  groups.push_back(
      {"control", {{"raw_again", maker<unnamed_raw>()}, {"raw", maker<unnamed_raw>()}}, 0, chunk});
  groups.push_back(
      {"spooled", {{"tempfile", maker<spooled_tempfile>()}, {"raw", maker<spooled_raw>()}}, 0, 1});
  groups.push_back({"atomic",
                    {{"tempfile", maker<atomic_tempfile>()},
                     {"raw", maker<atomic_raw>()},
                     {"raw_keep", maker<atomic_raw_keep>()},
                     {"raw_tmpfile", maker<atomic_raw_tmpfile>()}},
                    0,
                    4});

  const auto trees = [&](const std::string& name, const tree_builder& build, int rounds,
                         bool others, bool tmpfs_only) {
    group g{name,
            {{"tempfile", maker<tree_tempfile>(build)},
             {"raw", maker<tree_other>(build, tree_other::method::raw)}},
            rounds,
            1,
            tmpfs_only};
    if (others) {
      g.members.push_back({"remove_all", maker<tree_other>(build, tree_other::method::remove_all)});
      g.members.push_back({"rm_rf", maker<tree_other>(build, tree_other::method::rm_rf)});
    }
    groups.push_back(std::move(g));
  };
  // Files are slow to create on a disk (a journal write each): fewer rounds there.
  const bool tmpfs = on_tmpfs();
  trees(
      "tree", [](const fs::path& p) { build_tree(p, {}); },
      env_int("TEMPFILE_BENCH_TREE_ROUNDS", tmpfs ? 7 : 3), true, false);
  for (const std::size_t n :
       {std::size_t{1000}, std::size_t{10'000}, std::size_t{100'000}, std::size_t{1'000'000}}) {
    const int rounds = n <= 1000 ? 9 : n <= 10'000 ? 3 : 1;
    trees(
        "flat/" + std::to_string(n), [n](const fs::path& p) { build_flat(p, n); }, rounds, false,
        n > 100'000);
  }
  const auto depth = static_cast<std::size_t>(env_int("TEMPFILE_BENCH_DEEP", 100'000));
  groups.push_back(
      {"deep",
       {{"tempfile", maker<tree_tempfile>([depth](const fs::path& p) { build_deep(p, depth); })}},
       1,
       1,
       true});
  return groups;
}

void run_group(benchmark::State& state, const group& g) {
  std::vector<std::unique_ptr<workload>> members;
  for (const member& m : g.members) members.push_back(m.make());
  std::vector<std::vector<double>> samples(members.size());
  // One untimed round first: the first operations of a process pay for faulting in memory (after
  // the machine idled, several times what later ones pay), and would be charged to whichever
  // member runs first. (Trees are prepared afresh each round anyway.)
  for (auto& w : members) {
    if (!w->needs_prepare()) {
      for (std::size_t i = 0; i < g.chunk; ++i) w->run();
    }
  }
  std::size_t round = 0;
  for (auto _ : state) {
    for (std::size_t j = 0; j < members.size(); ++j) {
      workload& w = *members[(round + j) % members.size()];
      if (w.needs_prepare()) w.prepare();
      const auto start = std::chrono::steady_clock::now();
      for (std::size_t i = 0; i < g.chunk; ++i) w.run();
      const auto stop = std::chrono::steady_clock::now();
      samples[(round + j) % members.size()].push_back(
          std::chrono::duration<double>(stop - start).count() / static_cast<double>(g.chunk));
    }
    ++round;
  }
  for (std::size_t m = 0; m < members.size(); ++m) {
    std::vector<double>& v = samples[m];
    if (v.empty()) continue;
    // The median: on a shared machine a turn now and then is held up (another process, an
    // interrupt), by far more than any difference being measured, and a mean takes those in. With
    // the mean, the control group's ratio (the same code twice) strayed 0.92-1.08 from run to
    // run; with the median, 0.998-1.003.
    std::sort(v.begin(), v.end());
    const double value =
        v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    state.counters[g.members[m].name] = value;
  }
  if (samples.size() > 1 && !samples[1].empty()) {
    state.counters["ratio"] = state.counters[g.members[0].name] / state.counters[g.members[1].name];
  }
}

// --- --ops mode -------------------------------------------------------------------------------

long status_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::size_t len = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, len, field) == 0) return std::atol(line.c_str() + len + 1);
  }
  return -1;
}

std::size_t open_fds() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
    --n;  // the listing's own descriptor
  }
  return n;
}

int run_ops(const member& m, const std::string& name, unsigned long n, unsigned long k,
            bool measure);

int run_ops(const std::string& spec, bool measure) {
  const std::size_t c1 = spec.find(':');
  const std::size_t c2 = spec.find(':', c1 == std::string::npos ? c1 : c1 + 1);
  if (c1 == std::string::npos || c2 == std::string::npos) {
    std::fprintf(stderr, "tempfile_bench: --ops=<case>:<n>:<k>\n");
    return 2;
  }
  const std::string name = spec.substr(0, c1);
  const auto n = std::stoul(spec.substr(c1 + 1, c2 - c1 - 1));
  const auto k = std::max<unsigned long>(n, std::stoul(spec.substr(c2 + 1)));
  for (const group& g : all_groups()) {
    for (const member& m : g.members) {
      if (g.name + "/" + m.name == name) return run_ops(m, name, n, k, measure);
    }
  }
  std::fprintf(stderr, "tempfile_bench: no case named %s\n", name.c_str());
  return 2;
}

int run_ops(const member& m, const std::string& name, unsigned long n, unsigned long k,
            bool measure) {
  {
    g_keep_work_dir = true;
    std::unique_ptr<workload> w = m.make();
    if (w->needs_prepare()) {
      for (unsigned long i = 0; i < k; ++i) w->prepare();
    }
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> max_fds{0};
    std::thread sampler;
    long rss_before = 0;
    if (measure) {
      rss_before = status_kb("VmRSS");
      const int fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
      if (fd >= 0) {
        write_all(fd, "5", 1);  // resets the peak (VmHWM) to the current size
        ::close(fd);
      }
      max_fds = open_fds();
      sampler = std::thread([&] {
        while (!stop.load()) {
          max_fds = std::max(max_fds.load(), open_fds());
          std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
      });
    }
    const auto start = std::chrono::steady_clock::now();
    for (unsigned long i = 0; i < k; ++i) {
      if (i < n) {
        w->run();
      } else if (w->needs_prepare()) {
        w->abandon();
      }
    }
    const auto stop_time = std::chrono::steady_clock::now();
    if (measure) {
      stop = true;
      sampler.join();
      std::printf("case=%s ops=%lu seconds=%.6f peak_rss_delta_kb=%ld max_fds=%zu work_dir=%s\n",
                  name.c_str(), n, std::chrono::duration<double>(stop_time - start).count(),
                  status_kb("VmHWM") - rss_before, max_fds.load(), work_dir().c_str());
    } else {
      std::printf("work_dir=%s\n", work_dir().c_str());
    }
    w.reset();
    return 0;
  }
}

// How much faster two threads do two pieces of pure computation than one thread does them in
// turn: about 2 when a second processor is free, about 1 when others keep it busy.
int parallel_capacity() {
  const auto spin = [] {
    std::uint64_t x = 1;
    for (std::uint64_t i = 0; i < 100'000'000; ++i) x = x * 6364136223846793005u + i;
    benchmark::DoNotOptimize(x);
  };
  const auto t0 = std::chrono::steady_clock::now();
  spin();
  spin();
  const auto t1 = std::chrono::steady_clock::now();
  std::thread other(spin);
  spin();
  other.join();
  const auto t2 = std::chrono::steady_clock::now();
  std::printf("speedup=%.2f\n", std::chrono::duration<double>(t1 - t0).count() /
                                    std::chrono::duration<double>(t2 - t1).count());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string ops;
  bool measure = false;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.substr(0, 6) == "--ops=") {
      ops = a.substr(6);
    } else if (a == "--measure") {
      measure = true;
    } else if (a == "--parallel-capacity") {
      return parallel_capacity();
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  if (!ops.empty()) return run_ops(ops, measure);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const bool tmpfs = on_tmpfs();
  for (const group& g : all_groups()) {
    if (g.tmpfs_only && !tmpfs) continue;
    auto* b = benchmark::RegisterBenchmark(g.name.c_str(), run_group, g);
    if (g.rounds > 0) b->Iterations(g.rounds);
    b->Unit(g.rounds > 0 ? benchmark::kMillisecond : benchmark::kMicrosecond);
  }
  benchmark::AddCustomContext("tempfile_bench_dir", work_dir().parent_path().string());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (!g_keep_work_dir) {
    std::error_code ec;
    fs::remove_all(work_dir(), ec);
  }
  return 0;
}
