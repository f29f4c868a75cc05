// Shared helpers for the tests: the directories every suite runs in (one on disk, one on tmpfs),
// scratch directories, descriptor counting and umask control.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace tftest {

namespace fs = std::filesystem;

/// A directory to run tests in, with a short label for test names ("disk", "shm").
struct root {
  std::string label;
  fs::path path;
};

/// Lets GoogleTest print a root by its label instead of its bytes.
inline void PrintTo(const root& r, std::ostream* os) { *os << r.label << ":" << r.path.string(); }

/// The directories every file-system test runs in: a disk directory (/var/tmp, or /tmp) and
/// /dev/shm (tmpfs) where they exist. TEMPFILE_TEST_DIRS (colon-separated) overrides the list.
std::vector<root> roots();

/// For INSTANTIATE_TEST_SUITE_P(..., ::testing::ValuesIn(tftest::roots()), tftest::root_name).
template <class Info>
std::string root_name(const Info& info) {
  return info.param.label;
}

/// A fresh directory (mode 0700) inside `parent`, removed with everything in it on destruction
/// (permissions inside are restored first, so read-only leftovers do not stop the removal).
class scratch {
 public:
  explicit scratch(const fs::path& parent);
  scratch(const scratch&) = delete;
  scratch& operator=(const scratch&) = delete;
  ~scratch();
  const fs::path& path() const { return path_; }
  /// The names in the directory, sorted.
  std::vector<std::string> entries() const;

 private:
  fs::path path_;
};

/// The names in the directory `dir`, sorted.
std::vector<std::string> names_in(const fs::path& dir);

/// The open descriptors of this process, in increasing order (empty if /proc/self/fd cannot be
/// listed).
std::vector<int> open_descriptors();

/// The number of open descriptors of this process (entries of /proc/self/fd).
std::size_t open_fd_count();

/// Opens the directory `p` (read-only, close-on-exec); throws std::runtime_error on failure.
int open_dir(const fs::path& p);

/// Creates (or truncates nothing: O_CREAT only) the file `name` in the open directory `dir`.
void make_file_at(int dir, const std::string& name);

/// Makes the directory `name` in the open directory `dir` and returns it opened.
int make_dir_at(int dir, const std::string& name);

/// The path the kernel gives an open descriptor (/proc/self/fd); empty if it cannot be read.
fs::path fd_path(int fd);

/// The attack a tree walk must survive on its way back up: moves the open directory `dir` to
/// `elsewhere`/moved (so ".." no longer leads to its recorded parent), moves its ancestor `up`
/// levels higher to `elsewhere`/ancestor, and puts a symbolic link to `outside` in that
/// ancestor's place. Errors are ignored (for a walk's hook).
void swap_ancestor_for_link(int dir, int up, const fs::path& elsewhere,
                            const fs::path& outside) noexcept;

/// Sets the umask for its lifetime.
class scoped_umask {
 public:
  explicit scoped_umask(mode_t mask) : old_(::umask(mask)) {}
  ~scoped_umask() { ::umask(old_); }
  scoped_umask(const scoped_umask&) = delete;
  scoped_umask& operator=(const scoped_umask&) = delete;

 private:
  mode_t old_;
};

/// Permission bits (07777) of `p`, not following a symlink.
unsigned mode_of(const fs::path& p);

/// The whole content of the file at `p`.
std::string slurp(const fs::path& p);

/// Writes `content` to a new or truncated file at `p`.
void spit(const fs::path& p, const std::string& content);

}  // namespace tftest
