// The fault matrix: every public operation, with each of its system calls failing in turn.
//
// For each operation a dry run counts, through the fault seam, how many calls of each kind it
// makes (fault::calls()); then each of those calls, 1..n, fails once with ENOSPC, EIO, EMFILE,
// EACCES and EINTR, on a fresh object each time. For every case:
//   - EINTR is retried and never surfaces: the operation succeeds;
//   - any other failure surfaces as a std::filesystem::filesystem_error carrying that errno whose
//     what() says "cannot <verb> '<path>'" naming the file, directory or target, unless the
//     operation lists it as absorbed, for a reason given there (printed as "A" in the matrix);
//   - the object is still usable afterwards, or cleanly closed;
//   - once the objects are destroyed, no descriptor is left open and nothing is left in the
//     scratch directory but the test's own files; atomic_file's target is unchanged unless
//     commit() says it replaced it.
// Each operation runs on a thread of its own, so that the random-name buffer (per thread) is
// empty and getrandom() is called the same number of times in every run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <system_error>
#include <tempfile/tempfile.hpp>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "platform/fault.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace fault = tempfile::detail::fault;
using fault::call;

constexpr std::size_t kCalls = static_cast<std::size_t>(call::count_);
constexpr std::array<int, 5> kErrnos = {ENOSPC, EIO, EMFILE, EACCES, EINTR};

const char* call_name(call c) {
  static constexpr const char* kNames[] = {
      "open",     "mkdir",  "close",  "read",     "write",    "lseek",  "ftruncate", "fsync",
      "fstat",    "stat",   "unlink", "rmdir",    "rename",   "link",   "getrandom", "fchmod",
      "getdents", "fchown", "openat", "unlinkat", "fchmodat", "fstatat"};
  static_assert(std::size(kNames) == kCalls, "a name for every fault::call");
  return kNames[static_cast<std::size_t>(c)];
}

const char* errno_name(int e) {
  switch (e) {
    case ENOSPC: return "ENOSPC";
    case EIO: return "EIO";
    case EMFILE: return "EMFILE";
    case EACCES: return "EACCES";
    case EINTR: return "EINTR";
  }
  return "?";
}

constexpr const char* kOld = "old target\n";
constexpr const char* kNew = "new content\n";
constexpr const char* kPending = "pending bytes\n";

// Everything an operation may work on or make. Only the test's fixtures ("target", "outside")
// live in `dir` between cases.
struct world {
  fs::path dir;
  std::optional<tempfile::named_temporary_file> named;
  fs::path named_path;  // named's path before the operation
  std::optional<tempfile::file> reopened;
  std::optional<tempfile::spooled_temporary_file> spooled;
  std::optional<tempfile::temporary_file> unnamed;
  std::optional<tempfile::temporary_directory> tree;
  fs::path tree_path;
  std::optional<tempfile::atomic_file> atomic;
  fs::path atomic_temp;  // the atomic_file's named temporary, when it has one
  std::optional<tempfile::mkstemp_result> made_file;
  std::optional<fs::path> made_dir;

  fs::path target() const { return dir / "target"; }
  fs::path outside() const { return dir / "outside"; }
  fs::path persisted() const { return dir / "persisted"; }
  tempfile::options opts() const {
    tempfile::options o;
    o.dir = dir;
    return o;
  }

  // Destroys every object, then removes what the caller owns (mkstemp's file, mkdtemp's
  // directory).
  void destroy() {
    reopened.reset();
    named.reset();
    spooled.reset();
    unnamed.reset();
    tree.reset();
    atomic.reset();
    if (made_file) {
      ::close(made_file->fd);
      fs::remove(made_file->path);
      made_file.reset();
    }
    if (made_dir) {
      fs::remove_all(*made_dir);
      made_dir.reset();
    }
  }
};

// "" when `f` reads back what it is given; else what went wrong.
std::string round_trip(tempfile::file& f) {
  try {
    f.seek(0);
    f.write("round trip");
    f.seek(0);
    const std::string got = f.read(10);
    return got == "round trip" ? "" : "read back '" + got + "'";
  } catch (const std::exception& e) {
    return std::string("unusable: ") + e.what();
  }
}

// "" when `f` holds exactly `content` (read from the start).
std::string holds(tempfile::file& f, const std::string& content) {
  try {
    f.seek(0);
    const std::string got = f.read();
    return got == content ? "" : "holds '" + got + "', not '" + content + "'";
  } catch (const std::exception& e) {
    return std::string("unusable: ") + e.what();
  }
}

struct operation {
  const char* name;
  void (*setup)(world&);  // not counted
  void (*run)(world&);    // the operation under test
  // The paths an error message may name (one of them, quoted).
  std::vector<fs::path> (*named_in_errors)(const world&);
  // After the operation, failed or not: "" when the object is usable or cleanly closed.
  std::string (*usable)(world&, bool succeeded);
  // Entries the operation leaves in `dir` after destruction, beside the fixtures.
  std::vector<std::string> (*left)(const world&, bool succeeded);
  bool replaces_target = false;  // commit(): the target may hold kNew afterwards
  // The failures the operation may absorb (succeed in spite of), each for a documented reason;
  // any other failure that does not surface fails the test. error 0: any errno.
  std::vector<std::pair<call, int>> absorbs = {};
};

// Closing a descriptor that only served a walk, a discard or a directory fsync: nothing is lost.
constexpr std::pair<call, int> kAnyClose{call::close, 0};

// temporary_directory.cleanup(): EACCES on the first rmdir means "look inside" (the holding
// directory's mode is never touched), and on openat/unlinkat it gets the directory owner rwx and
// a retry; closing a walked directory cannot lose anything.
const std::vector<std::pair<call, int>> kTreeAbsorbs = {
    kAnyClose, {call::rmdir, EACCES}, {call::openat, EACCES}, {call::unlinkat, EACCES}};
// atomic_file::commit(): a directory it may write but not read (EACCES on open) loses only the
// directory fsync; the target is looked at again (stat) only to refresh its permissions, falling
// back to what construction saw (stat, or fstatat relative to the directory's descriptor); fstat
// of the temporary only spares an fchown and fchmod it then makes anyway; the directory's
// descriptor is closed without consequence.
const std::vector<std::pair<call, int>> kCommitAbsorbs = {
    kAnyClose, {call::open, EACCES}, {call::stat, 0}, {call::fstatat, 0}, {call::fstat, 0}};

std::vector<fs::path> the_dir(const world& w) { return {w.dir}; }
std::vector<fs::path> the_named(const world& w) { return {w.named_path}; }
std::vector<fs::path> the_target(const world& w) {
  std::vector<fs::path> paths = {w.target(), w.dir};
  if (!w.atomic_temp.empty()) paths.push_back(w.atomic_temp);
  return paths;
}
std::vector<std::string> nothing_left(const world&, bool) { return {}; }
std::string nothing_to_use(world&, bool) { return ""; }

void make_named(world& w) {
  w.named.emplace(w.opts());
  w.named_path = w.named->path();
}
void make_named_with_pending(world& w) {
  make_named(w);
  w.named->write(kPending);  // buffered: the operation writes it
}
std::string named_round_trip(world& w, bool) { return w.named ? round_trip(*w.named) : ""; }
// Pending bytes survive a failed write of them (they stay buffered) or are on disk.
std::string named_keeps_pending(world& w, bool) { return holds(*w.named, kPending); }

void make_spooled(world& w) {
  tempfile::options o = w.opts();
  o.max_size = 16;
  w.spooled.emplace(o);
  w.spooled->write("0123456789");  // in memory
}
std::string spooled_intact(world& w, bool succeeded) {
  if (!succeeded && w.spooled->rolled_over()) return "a failed rollover left it on disk";
  std::string content = holds(*w.spooled, "0123456789");
  if (content.empty() || !succeeded) return content;
  return holds(*w.spooled, "0123456789" + std::string(20, 'x'));
}

void make_tree(world& w) {
  w.tree.emplace(w.opts());
  w.tree_path = w.tree->path();
  tftest::populate_tree(w.tree_path, w.outside());
}
std::vector<fs::path> the_tree(const world& w) { return {w.tree_path}; }

void make_atomic(world& w) {
  w.atomic.emplace(w.target());
  w.atomic->write(kNew);  // pending
}
// A target of another owner (as root) with a mode the umask narrows, so commit() has to fchown
// and fchmod. Without root it stays the process's own, and only the mode has to be set.
void make_atomic_demanding(world& w) {
  ::chmod(w.target().c_str(), 0666);
  if (::geteuid() == 0 && ::chown(w.target().c_str(), 12345, 23456) != 0) {
    throw std::system_error(errno, std::generic_category(), "chown the target");
  }
  tftest::scoped_umask mask(077);
  make_atomic(w);
}
void make_atomic_named(world& w) {
  // As on a file system without O_TMPFILE: the temporary gets a name beside the target.
  fault::fail(call::open, 1, EOPNOTSUPP);
  make_atomic(w);
  fault::reset();
  for (const auto& e : fs::directory_iterator(w.dir)) {
    if (e.path().filename().string().rfind(".target.", 0) == 0) w.atomic_temp = e.path();
  }
  if (w.atomic_temp.empty()) throw std::runtime_error("no named temporary beside the target");
}
// committed() tells whether the target was replaced, failure or not; the destructor then leaves
// no stray temporary (checked once the object is gone).
std::string commit_told(world& w, bool) {
  const std::string content = tftest::slurp(w.target());
  if (w.atomic->committed() != (content == kNew)) {
    return std::string("committed() is ") + (w.atomic->committed() ? "true" : "false") +
           " but the target holds '" + content + "'";
  }
  return "";
}

// A commit that did not happen can be retried; one that did left the new content.
std::string commit_retried(world& w, bool) {
  try {
    if (!w.atomic->committed()) w.atomic->commit();
  } catch (const std::exception& e) {
    return std::string("commit() again failed: ") + e.what();
  }
  const std::string content = tftest::slurp(w.target());
  return content == kNew ? "" : "the target holds '" + content + "' after commit()";
}

const std::vector<operation>& operations() {
  static const std::vector<operation> ops = {
      {"mkstemp", [](world&) {}, [](world& w) { w.made_file = tempfile::mkstemp(w.opts()); },
       the_dir,
       [](world& w, bool ok) -> std::string {
         return ok && ::fcntl(w.made_file->fd, F_GETFD) < 0 ? "mkstemp's descriptor is closed" : "";
       },
       nothing_left},
      {"mkdtemp", [](world&) {}, [](world& w) { w.made_dir = tempfile::mkdtemp(w.opts()); },
       the_dir,
       [](world& w, bool ok) -> std::string {
         return ok && !fs::is_directory(*w.made_dir) ? "no directory" : "";
       },
       nothing_left},
      {"temporary_file()", [](world&) {}, [](world& w) { w.unnamed.emplace(w.opts()); }, the_dir,
       [](world& w, bool) { return w.unnamed ? round_trip(*w.unnamed) : ""; }, nothing_left},
      {"named_temporary_file()", [](world&) {},
       [](world& w) {
         w.named.emplace(w.opts());
         w.named_path = w.named->path();
       },
       the_dir, named_round_trip, nothing_left},
      {"named.write", make_named, [](world& w) { w.named->write(std::string(70'000, 'w')); },
       the_named, named_round_trip, nothing_left},
      {"named.flush", make_named_with_pending, [](world& w) { w.named->flush(); }, the_named,
       named_keeps_pending, nothing_left},
      {"named.sync", make_named_with_pending, [](world& w) { w.named->sync(); }, the_named,
       named_keeps_pending, nothing_left},
      {"named.read",
       [](world& w) {
         make_named(w);
         w.named->write(kPending);
         w.named->flush();
         w.named->seek(0);
       },
       [](world& w) {
         if (w.named->read() != kPending) throw std::runtime_error("read the wrong bytes");
       },
       the_named, named_keeps_pending, nothing_left},
      {"named.seek", make_named_with_pending,
       [](world& w) { w.named->seek(-2, tempfile::whence::end); }, the_named, named_keeps_pending,
       nothing_left},
      {"named.size", make_named_with_pending,
       [](world& w) {
         if (w.named->size() != static_cast<std::int64_t>(std::strlen(kPending))) {
           throw std::runtime_error("wrong size");
         }
       },
       the_named, named_keeps_pending, nothing_left},
      {"named.truncate", make_named_with_pending, [](world& w) { w.named->truncate(4); }, the_named,
       [](world& w, bool ok) {
         if (!ok) w.named->truncate(4);  // again, without a fault
         return holds(*w.named, std::string(kPending).substr(0, 4));
       },
       nothing_left},
      {"named.close", make_named_with_pending, [](world& w) { w.named->close(); }, the_named,
       [](world& w, bool) -> std::string {
         return w.named->closed() ? "" : "close() failed and left it open";
       },
       nothing_left},
      {"named.persist", make_named_with_pending, [](world& w) { w.named->persist(w.persisted()); },
       the_named,
       [](world& w, bool ok) -> std::string {
         if (ok) return w.named->path() == w.persisted() ? "" : "path() is not the new name";
         if (w.named->path() != w.named_path) return "a failed persist changed path()";
         return holds(*w.named, kPending);
       },
       [](const world&, bool ok) {
         return ok ? std::vector<std::string>{"persisted"} : std::vector<std::string>{};
       }},
      {"named.persist_noclobber", make_named_with_pending,
       [](world& w) { w.named->persist_noclobber(w.persisted()); }, the_named,
       [](world& w, bool ok) -> std::string {
         if (ok) return w.named->path() == w.persisted() ? "" : "path() is not the new name";
         if (w.named->path() != w.named_path) return "a failed persist changed path()";
         return holds(*w.named, kPending);
       },
       [](const world&, bool ok) {
         return ok ? std::vector<std::string>{"persisted"} : std::vector<std::string>{};
       }},
      {"named.keep", make_named, [](world& w) { (void)w.named->keep(); }, the_named,
       named_round_trip,
       [](const world& w, bool ok) {
         return ok ? std::vector<std::string>{w.named_path.filename().string()}
                   : std::vector<std::string>{};
       }},
      {"named.reopen",
       [](world& w) {
         make_named(w);
         w.named->write(kPending);
         w.named->flush();
       },
       [](world& w) { w.reopened.emplace(w.named->reopen()); }, the_named,
       [](world& w, bool ok) {
         std::string s = named_keeps_pending(w, ok);
         if (s.empty() && ok) s = holds(*w.reopened, kPending);
         return s;
       },
       nothing_left},
      {"spooled.write (rollover)", make_spooled,
       [](world& w) { w.spooled->write(std::string(20, 'x')); }, the_dir, spooled_intact,
       nothing_left},
      {"spooled.rollover", make_spooled, [](world& w) { w.spooled->rollover(); }, the_dir,
       [](world& w, bool) { return holds(*w.spooled, "0123456789"); }, nothing_left},
      {"spooled.native_handle", make_spooled, [](world& w) { (void)w.spooled->native_handle(); },
       the_dir, [](world& w, bool) { return holds(*w.spooled, "0123456789"); }, nothing_left},
      {"temporary_directory()", [](world&) {},
       [](world& w) {
         w.tree.emplace(w.opts());
         w.tree_path = w.tree->path();
       },
       the_dir,
       [](world& w, bool ok) -> std::string {
         return ok && !fs::is_directory(w.tree_path) ? "no directory" : "";
       },
       nothing_left},
      {"temporary_directory.cleanup", make_tree, [](world& w) { w.tree->cleanup(); }, the_tree,
       [](world& w, bool ok) -> std::string {
         try {
           if (!ok) w.tree->cleanup();  // again, without a fault
         } catch (const std::exception& e) {
           return std::string("cleanup() again failed: ") + e.what();
         }
         return fs::exists(w.tree_path) ? "the tree is still there" : "";
       },
       nothing_left, false, kTreeAbsorbs},
      {"atomic_file()", [](world&) {}, [](world& w) { w.atomic.emplace(w.target()); }, the_target,
       [](world& w, bool) { return w.atomic ? round_trip(*w.atomic) : ""; }, nothing_left},
      {"atomic.write", make_atomic, [](world& w) { w.atomic->write(std::string(70'000, 'a')); },
       the_target, [](world& w, bool) { return round_trip(*w.atomic); }, nothing_left},
      {"atomic.commit", make_atomic, [](world& w) { w.atomic->commit(); }, the_target, commit_told,
       nothing_left, true, kCommitAbsorbs},
      // discard() drops the content: a failure to close the descriptor cannot lose anything.
      {"atomic.discard",
       make_atomic,
       [](world& w) { w.atomic->discard(); },
       the_target,
       nothing_to_use,
       nothing_left,
       false,
       {kAnyClose}},
      {"atomic.commit (someone else's 0666 file)", make_atomic_demanding,
       [](world& w) { w.atomic->commit(); }, the_target, commit_told, nothing_left, true,
       kCommitAbsorbs},
      {"atomic.commit (named temporary)", make_atomic_named, [](world& w) { w.atomic->commit(); },
       the_target, commit_retried, nothing_left, true, kCommitAbsorbs},
      {"atomic.discard (named temporary)",
       make_atomic_named,
       [](world& w) { w.atomic->discard(); },
       the_target,
       nothing_to_use,
       nothing_left,
       false,
       {kAnyClose}},
  };
  return ops;
}

// Runs `op.run` on a new thread (an empty random-name buffer); the exception it threw, if any.
std::exception_ptr run_on_fresh_thread(const operation& op, world& w) {
  std::exception_ptr thrown;
  std::thread([&] {
    try {
      op.run(w);
    } catch (...) {
      thrown = std::current_exception();
    }
  }).join();
  return thrown;
}

using counts = std::array<std::uint64_t, kCalls>;

// What one case did.
struct result {
  bool threw = false;
  bool filesystem_error = false;
  std::error_code code;
  std::string what;
  bool names_a_path = false;  // "cannot <verb> '<one of op.named_in_errors>'"
  counts calls{};             // made by the operation
};

result judge(const operation& op, const world& w, const std::exception_ptr& thrown) {
  result r;
  if (!thrown) return r;
  r.threw = true;
  try {
    std::rethrow_exception(thrown);
  } catch (const fs::filesystem_error& e) {
    r.filesystem_error = true;
    r.code = e.code();
    r.what = e.what();
  } catch (const std::exception& e) {
    r.what = std::string("not a filesystem_error: ") + e.what();
  }
  static const std::regex kCannot("cannot [a-z][a-z ]* '([^']*)'");
  for (auto it = std::sregex_iterator(r.what.begin(), r.what.end(), kCannot);
       it != std::sregex_iterator(); ++it) {
    for (const fs::path& p : op.named_in_errors(w)) {
      if ((*it)[1].str() == p.string()) r.names_a_path = true;
    }
  }
  return r;
}

enum class outcome { threw, absorbed, retried };

// One row of the matrix: an operation's calls of one kind, each failed with each errno.
struct row {
  std::uint64_t calls = 0;
  std::map<int, std::map<outcome, unsigned>> outcomes;  // errno -> outcome -> cases
  std::string example;                                  // one message
};

std::string cell(const std::map<outcome, unsigned>& o) {
  std::string s;
  for (const auto& [k, letter] : {std::pair{outcome::threw, 'T'}, std::pair{outcome::absorbed, 'A'},
                                  std::pair{outcome::retried, 'R'}}) {
    if (auto it = o.find(k); it != o.end() && it->second > 0) {
      s += letter;
      s += std::to_string(it->second);
    }
  }
  return s.empty() ? "-" : s;
}

struct planned {
  call c;
  unsigned nth;
  int error;
};

class FaultMatrix : public ::testing::TestWithParam<std::size_t> {
 protected:
  void SetUp() override { fault::reset(); }
  void TearDown() override { fault::reset(); }
  const fs::path& dir() const { return dir_.path(); }

  // Sets up, runs with `plan` (if any) failing one call, checks the object and what is left once
  // it is destroyed; `label` prefixes complaints.
  result run_case(const operation& op, const std::string& label, const planned* plan) {
    tftest::spit(dir() / "target", kOld);
    tftest::spit(dir() / "outside", "outside\n");
    const std::size_t fds_before = tftest::open_fd_count();
    world w;
    w.dir = dir();
    op.setup(w);
    fault::reset();
    if (plan != nullptr) fault::fail(plan->c, plan->nth, plan->error);
    const std::exception_ptr thrown = run_on_fresh_thread(op, w);
    counts calls{};
    for (std::size_t c = 0; c < kCalls; ++c) calls[c] = fault::calls(static_cast<call>(c));
    fault::reset();
    result r = judge(op, w, thrown);
    r.calls = calls;
    if (const std::string complaint = op.usable(w, !r.threw); !complaint.empty()) {
      ADD_FAILURE() << label << ": " << complaint;
    }
    const std::vector<std::string> extra = op.left(w, !r.threw);
    w.destroy();
    EXPECT_EQ(tftest::open_fd_count(), fds_before) << label << ": a descriptor leaked";
    std::vector<std::string> want = {"outside", "target"};
    want.insert(want.end(), extra.begin(), extra.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(dir_.entries(), want) << label << ": left behind";
    const std::string content = tftest::slurp(dir() / "target");
    if (!(content == kOld || (op.replaces_target && content == kNew))) {
      ADD_FAILURE() << label << ": the target holds '" << content << "'";
    }
    for (const std::string& name : extra) fs::remove_all(dir() / name);
    return r;
  }

  tftest::scratch dir_{tftest::roots().front().path};
};

// The calls every operation makes when nothing fails, and what failing each of them gives.
TEST_P(FaultMatrix, EachCallFailsInTurn) {
  const operation& op = operations()[GetParam()];
  const result dry = run_case(op, std::string(op.name) + " without a fault", nullptr);
  ASSERT_FALSE(dry.threw) << op.name << " fails without a fault: " << dry.what;
  std::map<call, row> rows;
  unsigned cases = 0;
  unsigned complaints = 0;
  for (std::size_t ci = 0; ci < kCalls; ++ci) {
    if (dry.calls[ci] == 0) continue;
    const auto c = static_cast<call>(ci);
    row& r = rows[c];
    r.calls = dry.calls[ci];
    for (unsigned nth = 1; nth <= dry.calls[ci]; ++nth) {
      for (int error : kErrnos) {
        const std::string label = std::string(op.name) + ": " + call_name(c) + " #" +
                                  std::to_string(nth) + " fails with " + errno_name(error);
        const planned plan{c, nth, error};
        const result got = run_case(op, label, &plan);
        ++cases;
        outcome o = outcome::absorbed;
        const bool may_absorb = std::any_of(
            op.absorbs.begin(), op.absorbs.end(),
            [&](const auto& a) { return a.first == c && (a.second == 0 || a.second == error); });
        if (error == EINTR) {
          o = outcome::retried;
          EXPECT_FALSE(got.threw) << label << ": EINTR surfaced: " << got.what;
        } else if (got.threw) {
          o = outcome::threw;
          if (r.example.empty()) r.example = got.what;
          const bool right_code = got.code == std::error_condition(error, std::generic_category());
          if ((!got.filesystem_error || !right_code || !got.names_a_path) && complaints++ < 20) {
            ADD_FAILURE() << label << ": want a filesystem_error(" << errno_name(error)
                          << ") saying \"cannot <verb> '<path>'\" about one of the operation's "
                             "paths; got: "
                          << got.what;
          }
        }
        if (o == outcome::absorbed && !may_absorb && complaints++ < 20) {
          ADD_FAILURE() << label << ": the operation succeeded as if nothing had failed";
        }
        r.outcomes[error][o]++;
      }
    }
  }
  std::ostringstream out;
  out << "fault matrix: " << op.name << ": " << cases << " cases"
      << (rows.empty() ? ", no system call\n" : "\n");
  for (const auto& [c, r] : rows) {
    out << "    " << std::left << std::setw(10) << call_name(c) << " x" << std::setw(3) << r.calls;
    for (int error : kErrnos) {
      const auto it = r.outcomes.find(error);
      out << " " << errno_name(error) << " " << std::setw(4)
          << (it == r.outcomes.end() ? "-" : cell(it->second));
    }
    if (!r.example.empty()) out << " e.g. " << r.example;
    out << "\n";
  }
  std::cout << out.str() << std::flush;
}

INSTANTIATE_TEST_SUITE_P(Operations, FaultMatrix,
                         ::testing::Range(std::size_t{0}, operations().size()),
                         [](const ::testing::TestParamInfo<std::size_t>& param_info) {
                           std::string name = operations()[param_info.param].name;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

// The whole matrix at a glance (dry runs only): operations x system calls, with the number of
// cases each cell stands for (calls x errnos), and the system calls no operation reaches.
TEST(FaultMatrixCoverage, EveryOperationAndTheCallsItMakes) {
  struct dry_fixture : FaultMatrix {
    void TestBody() override {}
    using FaultMatrix::run_case;
  };
  std::array<std::uint64_t, kCalls> reached{};
  std::ostringstream out;
  out << "fault matrix: operations x system calls (calls made; each failed with";
  for (int error : kErrnos) out << " " << errno_name(error);
  out << ")\n";
  std::uint64_t total_cases = 0;
  for (const operation& op : operations()) {
    dry_fixture f;
    const result dry = f.run_case(op, std::string(op.name) + " without a fault", nullptr);
    EXPECT_FALSE(dry.threw) << op.name << ": " << dry.what;
    out << "    " << std::left << std::setw(34) << op.name;
    std::uint64_t cases = 0;
    for (std::size_t ci = 0; ci < kCalls; ++ci) {
      if (dry.calls[ci] == 0) continue;
      reached[ci] += dry.calls[ci];
      cases += dry.calls[ci] * kErrnos.size();
      out << " " << call_name(static_cast<call>(ci)) << "x" << dry.calls[ci];
    }
    out << (cases == 0 ? " (no system call)" : "") << "  = " << cases << " cases\n";
    total_cases += cases;
  }
  out << "    " << operations().size() << " operations, " << total_cases << " cases; not reached:";
  for (std::size_t ci = 0; ci < kCalls; ++ci) {
    if (reached[ci] == 0) out << " " << call_name(static_cast<call>(ci));
  }
  out << "\n";
  std::cout << out.str() << std::flush;
  // Every kind of call the library makes on a normal path is in the matrix (fchmodat and fstatat
  // are only reached by a tree walk meeting an unreadable directory or a file system that does not
  // report entry types).
  // fchown is made only for a target of another owner, which needs root to set up.
  for (call c : {call::open,   call::mkdir,     call::close,    call::read,   call::write,
                 call::lseek,  call::ftruncate, call::fsync,    call::fstat,  call::stat,
                 call::unlink, call::rmdir,     call::rename,   call::link,   call::getrandom,
                 call::fchmod, call::fchown,    call::getdents, call::openat, call::unlinkat}) {
    if (c == call::fchown && ::geteuid() != 0) continue;
    EXPECT_GT(reached[static_cast<std::size_t>(c)], 0u) << call_name(c) << " is never reached";
  }
}

}  // namespace
