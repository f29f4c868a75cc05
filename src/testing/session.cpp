// tmp_path()'s directories: the per-user directory, one base per run, one directory per test.
//
// Parallel runs of one program (ctest -j, or gtest_discover_tests running each test as its own
// process) must neither share a base nor remove one another's. A run takes <N> with an exclusive
// mkdir, and holds a shared flock() on its base for as long as it lives; a run that prunes old
// bases removes only those it can lock exclusively, so never the base of a live run, while a
// crashed run's lock vanishes with it. Taking the number and the lock happens under an exclusive
// lock on the per-user directory, so a pruner never sees a base between its mkdir and its lock.
#include "testing/session.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

#include "remove_tree.hpp"
#include "tempfile/functions.hpp"

namespace tempfile::testing::detail {

namespace fs = std::filesystem;

namespace {

/// How many bases of a program are kept: the new one and the two before it (pytest's default).
constexpr std::uint64_t kKeptRuns = 3;
/// How many names are tried before giving up with EEXIST.
constexpr unsigned kMaxAttempts = 1000;
constexpr std::size_t kMaxTestName = 100;
constexpr std::size_t kMaxOtherName = 64;

void warn(const std::string& message) noexcept {
  std::fprintf(stderr, "tempfile::testing: %s\n", message.c_str());
  std::fflush(stderr);
}

void warn_removal(const fs::path& dir, const fs::path& entry, std::error_code ec) {
  // Appended piece by piece: g++ 12 at -O3 warns falsely (-Wrestrict) about "'" + a string.
  std::string message = "cannot remove '";
  message.append(dir.native()).append("'");
  if (!entry.empty() && entry != dir) message.append(" (at '").append(entry.native()).append("')");
  message.append(": ").append(ec.message());
  warn(message);
}

[[noreturn]] void fail(const std::string& what, const fs::path& path, std::error_code ec) {
  throw fs::filesystem_error(what, path, ec);
}

keep_policy policy_from_environment() {
  const char* value = std::getenv("TEMPFILE_TEST_KEEP");
  if (value == nullptr || *value == '\0') return keep_policy::failed;
  const std::string_view v(value);
  if (v == "all") return keep_policy::all;
  if (v == "failed") return keep_policy::failed;
  if (v == "none") return keep_policy::none;
  warn("ignoring TEMPFILE_TEST_KEEP='" + std::string(v) + "' (expected all, failed or none)");
  return keep_policy::failed;
}

/// The run number in a base's name `<program>-<N>`, or 0 if `name` is not one of this program's.
std::uint64_t run_number(std::string_view name, std::string_view program) {
  if (name.size() <= program.size() + 1 || name.substr(0, program.size()) != program ||
      name[program.size()] != '-') {
    return 0;
  }
  const std::string_view digits = name.substr(program.size() + 1);
  if (digits.front() == '0' || digits.size() > 18) return 0;
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size()) return 0;
  return n;
}

struct old_base {
  fs::path path;
  os::unique_handle locked;  // held exclusively while it is removed
};

}  // namespace

std::string sanitise(std::string_view text, std::size_t max_size) {
  std::string out;
  out.reserve(std::min(text.size(), max_size) + 1);
  for (const char c : text) {
    if (out.size() == max_size) break;
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == '-';
    out.push_back(keep ? c : '_');
  }
  if (out.empty() || out.front() == '.') out.insert(out.begin(), '_');
  return out;
}

session& session::instance() {
  static session* const s = new session;  // never destroyed: see the class comment
  return *s;
}

session::session() : owner_(os::process_id()) {}

void session::set_prune_old_bases(bool prune) noexcept {
  std::lock_guard lock(mutex_);
  prune_ = prune;
}

void session::test_started(std::string_view name) {
  std::lock_guard lock(mutex_);
  in_test_ = true;
  name_ = sanitise(name, kMaxTestName);
  current_.clear();
  made_.clear();
}

void session::run_started() {
  std::lock_guard lock(mutex_);
  current_.clear();
}

fs::path session::tmp_path() {
  std::lock_guard lock(mutex_);
  if (!in_test_) {
    throw std::logic_error("tempfile::testing::tmp_path() called outside a test");
  }
  if (!current_.empty()) return current_;
  if (os::process_id() != owner_) {
    // The parent would neither know of nor remove a directory made here.
    throw std::logic_error(
        "tempfile::testing::tmp_path() first called in a fork()ed child: call it before fork()");
  }
  ensure_base();
  current_ = make_test_directory();
  made_.push_back(current_);
  return current_;
}

std::vector<fs::path> session::test_ended(bool failed) {
  std::lock_guard lock(mutex_);
  in_test_ = false;
  current_.clear();
  std::vector<fs::path> made = std::move(made_);
  made_.clear();
  if (os::process_id() != owner_) return {};  // the parent's directories: its business
  if (!policy_) policy_ = policy_from_environment();
  const bool remove = *policy_ == keep_policy::none || (*policy_ == keep_policy::failed && !failed);
  if (!remove) return made;
  std::vector<fs::path> left;
  for (const fs::path& dir : made) {
    std::error_code ec;
    fs::path entry;
    tempfile::detail::remove_tree(dir, ec, &entry);
    if (ec) {
      warn_removal(dir, entry, ec);
      left.push_back(dir);
    }
  }
  return left;
}

void session::program_ended() noexcept {
  std::lock_guard lock(mutex_);
  if (base_.empty() || os::process_id() != owner_) return;
  // An empty base records nothing worth keeping; removing it lets the last three runs that
  // left something stay. ENOTEMPTY is the usual answer.
  std::error_code ec;
  fs::remove(base_, ec);
  if (!ec) {
    base_handle_.reset();
    base_.clear();
  }
}

void session::ensure_base() {
  if (!base_.empty()) return;
  const fs::path root =
      gettempdir() / ("tempfile-tests-" + sanitise(os::user_name(), kMaxOtherName));
  std::error_code ec;
  os::make_directory(root, 0700, ec);
  if (ec && ec != std::errc::file_exists) fail("cannot create '" + root.string() + "'", root, ec);

  // The checks are made again on the open directory: lstat() only words the refusal.
  const os::entry_status link = os::status(root, ec);
  if (!ec && link.is_symlink) {
    fail("cannot use '" + root.string() + "': it is a symbolic link", root,
         std::make_error_code(std::errc::too_many_symbolic_link_levels));
  }
  os::unique_handle root_handle(os::open_directory(root, ec));
  if (ec) fail("cannot open '" + root.string() + "'", root, ec);
  const os::entry_status st = os::status(root_handle.get(), ec);
  if (ec) fail("cannot stat '" + root.string() + "'", root, ec);
  if (st.uid != os::effective_uid()) {
    fail("cannot use '" + root.string() + "': it is owned by uid " + std::to_string(st.uid) +
             ", not by uid " + std::to_string(os::effective_uid()),
         root, std::make_error_code(std::errc::operation_not_permitted));
  }
  if ((st.mode & 077) != 0) {
    os::set_mode(root_handle.get(), st.mode & 07700, ec);
    if (ec) fail("cannot change the permissions of '" + root.string() + "'", root, ec);
  }

  // Where flock() is not supported (some network file systems), old bases are removed by number
  // alone, as pytest does.
  os::lock(root_handle.get(), true, true, ec);
  const bool locks = !ec;

  const std::string program = sanitise(os::program_name(), kMaxOtherName);
  std::vector<std::pair<std::uint64_t, std::string>> existing;
  std::uint64_t newest = 0;
  for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (const std::uint64_t n = run_number(name, program); n != 0) {
      newest = std::max(newest, n);
      existing.emplace_back(n, std::move(name));
    }
  }
  if (ec) fail("cannot read '" + root.string() + "'", root, ec);

  std::uint64_t number = newest;
  std::string name;
  for (unsigned attempt = 0;; ++attempt) {
    ++number;
    name = program + "-" + std::to_string(number);
    os::make_directory_at(root_handle.get(), name, 0700, ec);
    if (!ec) break;
    if (ec != std::errc::file_exists || attempt + 1 == kMaxAttempts) {
      fail("cannot create '" + (root / name).string() + "'", root / name, ec);
    }
  }
  os::unique_handle base_handle(os::open_directory_at(root_handle.get(), name, ec));
  if (ec) fail("cannot open '" + (root / name).string() + "'", root / name, ec);
  if (locks) os::lock(base_handle.get(), false, false, ec);

  std::vector<old_base> old;
  if (prune_) {
    for (const auto& [n, old_name] : existing) {
      if (n + kKeptRuns > number) continue;
      // Only directories of this user: never a symbolic link (the open refuses one), never
      // another user's tree.
      os::unique_handle h(os::open_directory_at(root_handle.get(), old_name, ec));
      if (ec) continue;
      const os::entry_status s = os::status(h.get(), ec);
      if (ec || s.uid != os::effective_uid()) continue;
      if (locks) {
        os::lock(h.get(), true, false, ec);
        if (ec) continue;  // a run still going holds it
      }
      old.push_back({root / old_name, std::move(h)});
    }
  }
  root_handle.reset();  // other runs may start now; the old bases stay locked until removed

  base_ = root / name;
  base_handle_ = std::move(base_handle);
  for (old_base& b : old) {
    fs::path entry;
    tempfile::detail::remove_tree(b.path, ec, &entry);
    if (ec) warn_removal(b.path, entry, ec);
  }
}

fs::path session::make_test_directory() {
  std::error_code ec;
  for (unsigned attempt = 1;; ++attempt) {
    const std::string name = attempt == 1 ? name_ : name_ + "-" + std::to_string(attempt);
    os::make_directory_at(base_handle_.get(), name, 0700, ec);
    if (!ec) return base_ / name;
    if (ec != std::errc::file_exists || attempt == kMaxAttempts) {
      fail("cannot create '" + (base_ / name).string() + "'", base_ / name, ec);
    }
  }
}

}  // namespace tempfile::testing::detail
