#include "tempfile/atomic_file.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "create.hpp"
#include "error.hpp"
#include "file_state.hpp"
#include "names.hpp"
#include "platform/directory.hpp"
#include "registry.hpp"
#include "thread_spare.hpp"

namespace tempfile {

namespace detail {

namespace {

// Linux's NAME_MAX: a temporary's name must fit in one directory entry.
constexpr std::size_t kNameMax = 255;
// The most symbolic links followed before giving up with ELOOP, as the kernel does (MAXSYMLINKS).
constexpr int kMaxSymlinks = 40;
constexpr const char* kTempSuffix = ".tmp";

std::error_code errc(std::errc e) { return std::make_error_code(e); }

// The length of the directory of an absolute path with a last component: everything before its
// last slash ("/" for a file in the root).
std::size_t directory_length(std::string_view text) noexcept {
  const std::size_t slash = text.rfind('/');
  return slash == 0 ? 1 : slash;
}

// Where a name starts in a path laid out as `dir` + (a slash unless `dir` ends with one) + name,
// as lay_out_name() lays it out.
std::size_t name_start(std::string_view dir) noexcept {
  return dir.size() + (!dir.empty() && dir.back() != '/' ? 1 : 0);
}

// `text` + `tail`, NUL-terminated for a system call: on the stack when it fits, as it nearly
// always does.
class c_text {
 public:
  explicit c_text(std::string_view text, std::string_view tail = {}) {
    if (text.size() + tail.size() < sizeof small_) {
      std::memcpy(small_, text.data(), text.size());
      if (!tail.empty()) std::memcpy(small_ + text.size(), tail.data(), tail.size());
      small_[text.size() + tail.size()] = '\0';
      text_ = small_;
    } else {
      large_.reserve(text.size() + tail.size());
      large_.append(text).append(tail);
      text_ = large_.c_str();
    }
  }
  c_text(const c_text&) = delete;
  c_text& operator=(const c_text&) = delete;
  [[nodiscard]] const char* c_str() const noexcept { return text_; }

 private:
  char small_[256];
  std::string large_;
  const char* text_ = nullptr;
};

}  // namespace

/// What an atomic_file knows beyond its descriptor: where the content goes and how to get it
/// there. Lives on the heap so that the descriptor's state and this move together cheaply. The
/// paths are kept as text: a std::filesystem::path splits itself into components on every copy
/// and join, which costs several times the system calls of a commit. `given` builds one when
/// target() first asks for it. Each thread keeps the last one it disposed of, with its strings'
/// memory, for its next atomic_file (see atomic_target_deleter).
struct atomic_target {
  lazy_path given;             // absolute, as the user named it (maybe a symbolic link)
  std::string link_target;     // the file a symbolic link led to; empty: `given` itself
  std::size_t dir_length = 0;  // resolved()[0, dir_length): its directory, where the temporary is
  std::size_t name_at = 0;     // where resolved()'s last component starts
  std::string temp;            // the temporary's name (in dir()), while it has one
  std::string scratch;         // where a temporary's name is laid out before it is taken
  std::optional<platform::file_status> existing;  // the target as found at construction
  std::optional<unsigned> mode;                   // options::mode
  std::size_t random_length = 8;
  std::uint64_t generation = 0;  // platform::fork_generation() of the creating process
  platform::handle dir_fd = platform::invalid_handle;  // dir, opened by commit()
  registry::ticket ticket = 0;  // the named temporary, for signal cleanup and the guardian
  bool dir_unreadable = false;  // the directory cannot be opened for fsync (EACCES)
  bool unnamed = false;         // O_TMPFILE: temp is only set during commit()
  bool finished = false;        // committed or discarded
  bool committed = false;

  atomic_target() = default;
  atomic_target(const atomic_target&) = delete;
  atomic_target& operator=(const atomic_target&) = delete;
  // atomic_target_deleter has released it (once: a failed removal is not tried again here).
  ~atomic_target() = default;

  // What discarding leaves to do: the temporary's name removed (best effort), the directory
  // closed.
  void release() noexcept {
    std::error_code ignored;
    remove_temp(ignored);
    close_dir();
  }

  // As new, keeping the strings' memory. Only after release() removed the temporary's name.
  void reset() noexcept {
    given.reset();
    link_target.clear();
    dir_length = 0;
    name_at = 0;
    existing.reset();
    mode.reset();
    random_length = 8;
    generation = 0;
    dir_unreadable = false;
    unnamed = false;
    finished = false;
    committed = false;
  }

  [[nodiscard]] bool owned_by_this_process() const noexcept {
    return generation == platform::fork_generation();
  }

  // Removes the temporary's name, if it has one and this process made it. ENOENT means someone
  // else removed it, which is what was wanted.
  void remove_temp(std::error_code& ec) noexcept {
    ec.clear();
    if (temp.empty() || !owned_by_this_process()) return;
    // Forgotten before it goes, so that no cleanup can ever remove a later file of that name.
    registry::remove(std::exchange(ticket, 0));
    platform::remove_file(temp, ec);
    if (ec && ec == std::errc::no_such_file_or_directory) ec.clear();
    if (!ec) {
      temp.clear();
    } else {
      ticket = registry::add(temp, registry::kind::file);
    }
  }

  // The temporary has a name from now on, the one laid out in `scratch`: crash cleanup must know
  // it.
  void name_temp() noexcept {
    temp.swap(scratch);  // each keeps the other's memory: no allocation
    ticket = registry::add(temp, registry::kind::file);
  }

  // temp's last component (temp is laid out in dir() by lay_out_name()).
  [[nodiscard]] const char* temp_name() const noexcept { return temp.c_str() + name_start(dir()); }

  // The temporary's name became the target's: nothing to clean up any more.
  void temp_renamed() noexcept {
    registry::remove(std::exchange(ticket, 0));
    temp.clear();
  }

  void close_dir() noexcept {
    if (dir_fd == platform::invalid_handle) return;
    std::error_code ignored;
    platform::close(dir_fd, ignored);
    dir_fd = platform::invalid_handle;
  }

  // The file that commit() replaces.
  [[nodiscard]] const std::string& resolved() const noexcept {
    return link_target.empty() ? given.native() : link_target;
  }

  // The directory of resolved(), where the temporary lives.
  [[nodiscard]] std::string_view dir() const noexcept {
    return std::string_view(resolved()).substr(0, dir_length);
  }

  // The target's last component, as the kernel is given it relative to dir_fd.
  [[nodiscard]] const char* resolved_name() const noexcept { return resolved().c_str() + name_at; }

  // The temporary's name is "." + the target's name + "." + random + ".tmp": a crash leaves a name
  // that says what it belonged to. This is the target's name in it, shortened (on a UTF-8
  // character boundary) so that the whole name fits NAME_MAX.
  [[nodiscard]] std::string_view temp_base() const noexcept {
    const std::string_view base = resolved_name();
    const std::size_t fixed = 2 + random_length + std::char_traits<char>::length(kTempSuffix);
    const std::size_t room = fixed < kNameMax ? kNameMax - fixed : 0;
    if (base.size() <= room) return base;
    std::size_t cut = room;
    while (cut > 0 && (static_cast<unsigned char>(base[cut]) & 0xC0u) == 0x80u) --cut;
    return base.substr(0, cut);
  }

  // "." + temp_base() + ".": what comes before the random part.
  [[nodiscard]] std::string temp_prefix() const {
    const std::string_view base = temp_base();
    std::string prefix(base.size() + 2, '.');
    std::memcpy(prefix.data() + 1, base.data(), base.size());
    return prefix;
  }
};

namespace {

std::filesystem::path absolute_or_throw(const std::filesystem::path& p) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(p, ec);
  if (ec) throw_error("make absolute", p, ec);
  return abs;
}

// Follows `t.given` through any chain of symbolic links to the file that will be replaced, and
// records that file's status if it exists.
void resolve(atomic_target& t) {
  std::string followed;  // where the links led, once one is followed (the given text is not copied)
  for (int hops = 0;; ++hops) {
    const std::string& p = followed.empty() ? t.given.native() : followed;
    // No last component ("/", "dir/"): a directory.
    if (p.empty() || p.back() == '/') {
      throw_error("replace", t.given.get(), errc(std::errc::is_a_directory));
    }
    std::error_code ec;
    const platform::file_status st = platform::status(p, ec);
    if (ec && ec == std::errc::no_such_file_or_directory) break;  // a new file (or dangling link)
    if (ec) throw_error("resolve", t.given.get(), ec);
    if (st.is_directory) throw_error("replace", t.given.get(), errc(std::errc::is_a_directory));
    if (!st.is_symlink) {
      t.existing = st;
      break;
    }
    if (hops == kMaxSymlinks) {
      throw_error("resolve", t.given.get(), errc(std::errc::too_many_symbolic_link_levels));
    }
    const std::filesystem::path link = std::filesystem::read_symlink(p, ec);
    if (ec) throw_error("resolve", t.given.get(), ec);
    // Relative links count from the link's directory; ".." is left for the kernel to resolve,
    // since a lexical shortcut would be wrong when that directory is itself reached by a link.
    std::string next =
        link.is_absolute()
            ? link.native()
            : (std::filesystem::path(p.substr(0, directory_length(p))) / link).native();
    followed = std::move(next);
  }
  t.link_target = std::move(followed);
  t.dir_length = directory_length(t.resolved());
  t.name_at = t.resolved().rfind('/') + 1;
}

// Makes the temporary beside the target and returns the state that owns its descriptor.
state_ptr make_temporary(atomic_target& t) {
  // A new target with no explicit mode takes its permissions from creation, so the kernel applies
  // the umask. A named temporary that will be given other permissions at commit starts owner-only,
  // so nobody can read (or keep an open handle on) content that may be more private than 0666
  // minus the umask. An O_TMPFILE temporary has no name anybody could open it by (other users
  // cannot reach this process's /proc/self/fd), so it starts with the mode it will end with: when
  // the umask leaves that mode whole, commit() has no fchmod to make (see apply_permissions).
  const unsigned final_mode = t.mode ? *t.mode : t.existing ? t.existing->mode & 0777u : 0666u;
  const unsigned named_mode = (t.existing || t.mode) ? 0600u : 0666u;
  state_ptr state = new_state();
  // Errors of the file's I/O name the target. The state keeps its own copy (into memory a kept
  // state already has): it may be moved into a plain tempfile::file that outlives this object.
  state->path.set(t.given.native());
  state->armed = false;  // never the state's to delete: the target is not ours, temp is t's
  std::error_code ec;
  platform::handle fd =
      platform::create_anonymous_file(c_text(t.dir()).c_str(), final_mode & 0777u, true, ec);
  if (ec && ec == std::errc::operation_not_supported) {
    // No O_TMPFILE here (see create_anonymous_file): a named temporary, removed by discard().
    const std::string prefix = t.temp_prefix();
    fd = create_in(std::filesystem::path(t.dir()), {prefix, kTempSuffix, t.random_length},
                   entry_kind::file, named_mode, ec, t.scratch);
    if (!ec) t.name_temp();
  } else if (!ec) {
    t.unnamed = true;
  }
  if (ec) throw_error("create temporary file beside", t.given.get(), ec);
  state->adopt(fd);
  return state;
}

// Gives the temporary the target's owner, group and mode (or options::mode) just before it
// replaces the target. The target is looked at again now, since it may have changed. What the
// temporary already has is looked at first (one fstat), so that the usual case, a file that
// already has the right owner and mode, costs no fchown and no fchmod.
void apply_permissions(atomic_target& t, platform::handle fd) {
  std::optional<platform::file_status> model = t.existing;
  std::error_code ec;
  const platform::file_status now = t.dir_fd != platform::invalid_handle
                                        ? platform::status_at(t.dir_fd, t.resolved_name(), ec)
                                        : platform::status(t.resolved(), ec);
  if (!ec && !now.is_symlink && !now.is_directory) model = now;
  std::optional<unsigned> mode = t.mode;
  if (!mode && model) mode = model->mode;
  if (!model && !mode) return;  // a new target: creation gave the temporary its permissions
  // If the temporary cannot be looked at, it is treated as having nothing right.
  const platform::file_status have = platform::status(fd, ec);
  const bool known = !ec;
  bool owner_changed = false;
  if (model && (!known || have.uid != model->uid || have.gid != model->gid)) {
    platform::set_owner(fd, model->uid, model->gid, ec);
    if (ec == std::errc::operation_not_permitted) {
      // Someone else's file: keep at least its group, which a member of that group may set.
      platform::set_owner(fd, static_cast<std::uint32_t>(-1), model->gid, ec);
    }
    if (ec && ec != std::errc::operation_not_permitted) {
      throw_error("set the owner of", t.given.get(), ec);
    }
    owner_changed = true;  // a chown may clear the set-user-ID and set-group-ID bits
  }
  if (mode && (!known || owner_changed || have.mode != *mode)) {
    platform::set_mode(fd, *mode, ec);
    if (ec) throw_error("set the permissions of", t.given.get(), ec);
  }
}

// Gives an O_TMPFILE temporary a fresh name beside the target, so it can be renamed over it.
void name_unnamed(atomic_target& t, platform::handle fd) {
  // Laid out once, by the creation core's lay_out_name(), in memory the target state keeps, so
  // that naming it allocates nothing after the link succeeds.
  const std::string prefix = t.temp_prefix();
  std::size_t random_at = 0;
  std::string& path = t.scratch;
  lay_out_name(t.dir(), {prefix, kTempSuffix, t.random_length}, random_at, path);
  const char* const name = path.c_str() + name_start(t.dir());
  std::error_code ec = errc(std::errc::file_exists);
  for (unsigned attempt = 0; attempt < kMaxAttempts && ec == std::errc::file_exists; ++attempt) {
    try {
      fill_random_name(path.data() + random_at, t.random_length);
    } catch (const std::system_error& e) {
      ec = e.code();  // the OS's random source failed: reported as this naming's failure
      break;
    }
    if (t.dir_fd != platform::invalid_handle) {
      platform::link_anonymous_at(fd, t.dir_fd, name, ec);
    } else {
      platform::link_anonymous(fd, path, ec);
    }
  }
  if (ec) throw_error("name temporary file for", t.given.get(), ec);
  t.name_temp();
}

// Opens `dir` for its fsync, following it if it is a symbolic link (so "dir/.": the platform's
// open_directory never follows a last component).
platform::handle open_directory_of(std::string_view dir, std::error_code& ec) {
  return platform::open_directory(c_text(dir, "/.").c_str(), ec);
}

// A thread's spare target state: what the last atomic_file it disposed of held, emptied.
struct delete_target {
  void operator()(atomic_target* t) const noexcept { delete t; }
};
using spare_target = thread_spare<atomic_target, delete_target>;

std::unique_ptr<atomic_target, atomic_target_deleter> new_target() {
  if (atomic_target* t = spare_target::take())
    return std::unique_ptr<atomic_target, atomic_target_deleter>(t);
  return std::unique_ptr<atomic_target, atomic_target_deleter>(new atomic_target());
}

}  // namespace

void atomic_target_deleter::operator()(atomic_target* t) const noexcept {
  if (t == nullptr) return;
  t->release();
  // A temporary whose name could not be removed stays registered for crash cleanup, with the
  // state that names it: that state is freed, never reused.
  if (!t->temp.empty() || !spare_target::has_room()) {
    delete t;
    return;
  }
  t->reset();
  if (!spare_target::keep(t)) delete t;
}

}  // namespace detail

atomic_file::atomic_file(const std::filesystem::path& target, const options& opts)
    : target_(detail::new_target()) {
  validate(opts);
  detail::atomic_target& t = *target_;
  const std::string& text = target.native();
  if (!text.empty() && text.front() == '/') {  // absolute (POSIX): taken as text, not parsed
    t.given.set(text);
  } else {
    t.given.assign(detail::absolute_or_throw(target));
  }
  // The temporary's name is "." + some of the target's name + "." + random + ".tmp" and must fit
  // NAME_MAX: a longer random part (validate() allows up to 255) is cut to what fits, 249.
  t.random_length =
      std::min(opts.random_length,
               detail::kNameMax - 2 - std::char_traits<char>::length(detail::kTempSuffix));
  if (opts.mode) t.mode = static_cast<unsigned>(*opts.mode) & 07777u;
  t.generation = detail::platform::fork_generation();
  detail::resolve(t);
  // If anything below threw, target_'s destructor would remove a named temporary.
  file::operator=(detail::file_access::make(detail::make_temporary(t)));
}

atomic_file::atomic_file(atomic_file&& other) noexcept = default;

atomic_file& atomic_file::operator=(atomic_file&& other) noexcept {
  if (this != &other) {
    try {
      discard();
    } catch (...) {  // best effort, as in the destructor
    }
    target_ = std::move(other.target_);  // this one is discarded: dropping it removes nothing
    file::operator=(std::move(other));
  }
  return *this;
}

atomic_file::~atomic_file() {
  try {
    discard();
  } catch (...) {  // destructors never throw: discard() is where errors are reported
  }
}

void atomic_file::commit() {
  if (!target_) throw std::logic_error("tempfile: commit on a moved-from atomic_file");
  detail::atomic_target& t = *target_;
  if (t.finished) {
    throw std::logic_error(t.committed ? "tempfile: commit after commit()"
                                       : "tempfile: commit after discard()");
  }
  detail::file_state& s = open_state("commit");
  s.buf.flush_pending();
  const detail::platform::handle fd = s.buf.fd();
  std::error_code ec;
  // The directory is opened first, before anything changes, so that failing to open it cannot
  // come after the target changed; kept open across retries of a failed commit. The target's
  // status, the link and the rename are made relative to it, and it is what is fsynced at the
  // end.
  if (t.dir_fd == detail::platform::invalid_handle && !t.dir_unreadable) {
    t.dir_fd = detail::open_directory_of(t.dir(), ec);
    // EACCES: a directory we may write but not read. The rename still works (by path); only the
    // directory fsync is lost, which is better than refusing to commit at all.
    if (ec && ec == std::errc::permission_denied) {
      t.dir_unreadable = true;
    } else if (ec) {
      detail::throw_error("open directory", std::filesystem::path(t.dir()), ec);
    }
  }
  detail::apply_permissions(t, fd);
  detail::platform::sync(fd, ec);
  if (ec) detail::throw_error("sync", t.given.get(), ec);
  if (t.unnamed) {
    detail::name_unnamed(t, fd);
    // An O_TMPFILE file can be linked only once (the kernel then clears I_LINKABLE): from here
    // on it is a named temporary, so that a failed rename can be retried or discarded.
    t.unnamed = false;
  }
  if (t.dir_fd != detail::platform::invalid_handle) {
    detail::platform::rename_at(t.dir_fd, t.temp_name(), t.dir_fd, t.resolved_name(), ec);
  } else {
    detail::platform::rename(t.temp, t.resolved(), true, ec);
  }
  if (ec) detail::throw_error("rename temporary file over", t.given.get(), ec);
  t.temp_renamed();
  t.finished = true;
  t.committed = true;
  std::error_code dir_ec;
  if (t.dir_fd != detail::platform::invalid_handle) detail::platform::sync(t.dir_fd, dir_ec);
  t.close_dir();
  // After the fsync nothing is left to write, so closing should not fail; if it does, say so.
  // (Closed here rather than by file_state::close(), which would also look up the file's
  // identity, something only a named_temporary_file's reopen() needs.)
  std::error_code close_ec;
  detail::platform::close(fd, close_ec);
  s.buf.detach();
  s.closed = true;
  if (dir_ec) detail::throw_error("sync directory", std::filesystem::path(t.dir()), dir_ec);
  if (close_ec) detail::throw_error("close", t.given.get(), close_ec);
}

void atomic_file::discard() {
  if (!target_ || target_->finished) return;
  detail::atomic_target& t = *target_;
  t.finished = true;
  if (detail::file_state* s = state(); s != nullptr && !s->closed) {
    // Pending bytes are dropped, not written: they would only be thrown away (or fail, ENOSPC).
    if (s->buf.fd() != detail::platform::invalid_handle) {
      std::error_code ignored;
      detail::platform::close(s->buf.fd(), ignored);
    }
    s->buf.detach();
    s->closed = true;
  }
  t.close_dir();
  std::error_code ec;
  t.remove_temp(ec);
  if (ec) detail::throw_error("remove temporary file", std::filesystem::path(t.temp), ec);
}

const std::filesystem::path& atomic_file::target() const noexcept {
  static const std::filesystem::path empty;
  // Out of memory building the path ends the program (noexcept), as in
  // temporary_directory::path().
  return target_ ? target_->given.get() : empty;
}

bool atomic_file::committed() const noexcept { return target_ && target_->committed; }

}  // namespace tempfile
