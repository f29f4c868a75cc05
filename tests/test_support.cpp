#include "test_support.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tftest {

namespace {

bool writable_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec) && ::access(p.c_str(), W_OK | X_OK) == 0;
}

void make_owner_accessible(const fs::path& dir) {
  std::error_code ec;
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
  }
}

}  // namespace

std::vector<root> roots() {
  std::vector<root> out;
  if (const char* env = std::getenv("TEMPFILE_TEST_DIRS"); env != nullptr && *env != '\0') {
    std::stringstream ss(env);
    std::string item;
    int i = 0;
    while (std::getline(ss, item, ':')) {
      if (!item.empty()) out.push_back({"dir" + std::to_string(i++), item});
    }
    return out;
  }
  for (const char* disk : {"/var/tmp", "/tmp"}) {
    if (writable_dir(disk)) {
      out.push_back({"disk", disk});
      break;
    }
  }
  if (writable_dir("/dev/shm")) out.push_back({"shm", "/dev/shm"});
  if (out.empty()) throw std::runtime_error("no writable test directory");
  return out;
}

scratch::scratch(const fs::path& parent) {
  std::string tmpl = (parent / "tftest.XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed in " + parent.string());
  path_ = tmpl;
}

scratch::~scratch() {
  make_owner_accessible(path_);
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> scratch::entries() const { return names_in(path_); }

std::vector<int> open_descriptors() {
  std::vector<int> fds;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return fds;
  const int own = ::dirfd(d);  // the listing's own descriptor is not counted
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const int fd = std::atoi(e->d_name);
    if (fd != own) fds.push_back(fd);
  }
  ::closedir(d);
  std::sort(fds.begin(), fds.end());
  return fds;
}

std::size_t open_fd_count() { return open_descriptors().size(); }

int open_dir(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + p.string());
  return fd;
}

void make_file_at(int dir, const std::string& name) {
  const int fd = ::openat(dir, name.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + name);
  ::close(fd);
}

int make_dir_at(int dir, const std::string& name) {
  if (::mkdirat(dir, name.c_str(), 0700) != 0) throw std::runtime_error("cannot mkdir " + name);
  const int fd = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open " + name);
  return fd;
}

fs::path fd_path(int fd) {
  std::error_code ec;
  return fs::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
}

void swap_ancestor_for_link(int dir, int up, const fs::path& elsewhere,
                            const fs::path& outside) noexcept {
  std::error_code ec;
  const fs::path child = fd_path(dir);
  fs::path ancestor = child;
  for (int i = 0; i < up; ++i) ancestor = ancestor.parent_path();
  fs::rename(child, elsewhere / "moved", ec);
  fs::rename(ancestor, elsewhere / "ancestor", ec);
  fs::create_directory_symlink(outside, ancestor, ec);
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) throw std::runtime_error("lstat failed: " + p.string());
  return static_cast<unsigned>(st.st_mode & 07777);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const fs::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + p.string());
  out << content;
}

}  // namespace tftest
